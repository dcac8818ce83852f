"""What the core announces: one typed event per thing that happened to a conversation.

The inbox and mail services call `announce(event)` inside their transaction; the event is dispatched
after the transaction commits (never for a change that was rolled back), to the receivers listed in
`happydesk.runtime.receivers.RECEIVERS`, the one file where every receiver is found (ADR 0005). The
core imports none of them: the runtime app installs that table when Django starts.

Events carry ids, not model instances: a receiver reads what it needs, as it is after the commit.
A receiver that fails is logged and does not stop the others, nor the action that announced it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TypeAlias

from django.db import transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MessageReceived:
    """A customer's message was added (email, form, widget or portal); `opened` when it started the
    conversation; `automated` for an automatic reply (out of office), filed without waking anyone."""

    conversation_id: int
    message_id: int
    opened: bool = False
    automated: bool = False


@dataclass(frozen=True)
class ReplyCreated:
    """An agent's reply was stored and waits to be delivered on the conversation's channel; `closing`
    when the same action closed the conversation."""

    conversation_id: int
    message_id: int
    author_id: int
    closing: bool = False


@dataclass(frozen=True)
class NoteAdded:
    """A private note; `mentioned_ids` are the agents named in it (other than its author)."""

    conversation_id: int
    message_id: int
    author_id: int
    mentioned_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class StatusChanged:
    """The conversation moved between active, pending, closed and spam (closing is `to == "closed"`)."""

    conversation_id: int
    actor_id: int | None
    before: str
    after: str

    @property
    def closed(self) -> bool:
        return self.after == "closed"


@dataclass(frozen=True)
class AssigneeChanged:
    """Someone took, gave or dropped the conversation (`assignee_id` None: unassigned, anyone answers).
    `line_id` is the thread's event line for it: each change is told once (mail/notices.py)."""

    conversation_id: int
    actor_id: int | None
    assignee_id: int | None
    line_id: int | None = None


@dataclass(frozen=True)
class TagsChanged:
    conversation_id: int
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConversationsMerged:
    """Every line of `source_id` moved into `target_id`; the source is closed and points at the target."""

    source_id: int
    target_id: int
    actor_id: int | None


@dataclass(frozen=True)
class MessageSplit:
    """One customer message moved out of `source_id` into the new conversation `new_id`."""

    source_id: int
    new_id: int
    actor_id: int | None


@dataclass(frozen=True)
class SecurityFlagged:
    """The conversation reads as a security report (flagged inside the transaction that received it, so
    light agents never see it); the on-call list is to be told once."""

    conversation_id: int
    flag_id: int


Event: TypeAlias = (
    MessageReceived
    | ReplyCreated
    | NoteAdded
    | StatusChanged
    | AssigneeChanged
    | TagsChanged
    | ConversationsMerged
    | MessageSplit
    | SecurityFlagged
)
EVENT_TYPES: tuple[type, ...] = Event.__args__  # the union's members
Receiver: TypeAlias = Callable[[Event], None]
Table: TypeAlias = Mapping[type, Sequence[Callable]]

_table: Table | None = None


def receivers_install(table: Table) -> None:
    """Install the receivers table (the runtime app does, once, when Django starts). Every event type must
    have an entry, even an empty one, so that forgetting one is an error at start, not a silent drop."""
    global _table
    missing = [t.__name__ for t in EVENT_TYPES if t not in table]
    unknown = [getattr(t, "__name__", repr(t)) for t in table if t not in EVENT_TYPES]
    if missing or unknown:
        raise ValueError(f"receivers table: missing {missing}, unknown {unknown}")
    _table = table


def receivers_for(event_type: type) -> Sequence[Callable]:
    if _table is None:
        raise RuntimeError("no event receivers installed: is happydesk.runtime in INSTALLED_APPS?")
    return _table[event_type]


def announce(event: Event) -> None:
    """Dispatch `event` to its receivers once the current transaction commits (at once outside one)."""
    receivers_for(type(event))  # fail now, in the caller, if nothing is installed
    transaction.on_commit(partial(dispatch, event))


def dispatch(event: Event) -> None:
    """Call each receiver in the table's order; one that fails is logged and the next one still runs."""
    for receiver in receivers_for(type(event)):
        try:
            receiver(event)
        except Exception:
            log.exception("receiver %s failed for %r", getattr(receiver, "__qualname__", receiver), event)
