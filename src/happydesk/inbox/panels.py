"""Feature parts of the inbox's pages (the list and the conversation). The pages have slots; the templates that fill each slot come
from one table, `happydesk.runtime.panels.PANELS`, installed when the runtime app starts, so the inbox
never imports a feature and a reader finds every panel in one file (like the event receivers, ADR 0005).

A panel is a template included with the page's context (`user`, `request`; on the conversation page `c`
the conversation, in `message_actions` also `m`, the message). It loads its own app's template tags for
the rest, and checks what it shows through `inbox.access` like any other reader. Slots:
- `list_top`: the inbox list, above the search (held-up mail for admins, early warnings);
- `composer`: above the reply box (saved replies);
- `message_actions`: under each message of the thread (make an article from a reply);
- `sidebar`: the customer column, shown only once the sender is verified (ideas, ratings, and for
  admins the customer data export and erasure).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

Slot = Literal["list_top", "composer", "message_actions", "sidebar"]
SLOTS: tuple[Slot, ...] = get_args(Slot)
Table = Mapping[Slot, tuple[str, ...]]

_installed: dict[Slot, tuple[str, ...]] = dict.fromkeys(SLOTS, ())


def panels_install(table: Table) -> None:
    """Set the page's panels (runtime's ready()); a slot the table leaves out or does not know is refused."""
    if set(table) != set(SLOTS):
        raise ValueError(f"panel table slots {sorted(table)} must be exactly {sorted(SLOTS)}")
    _installed.update(table)


def installed() -> Table:
    """What the inbox's views hand their templates: slot -> template names, in order."""
    return dict(_installed)
