"""Placeholders in replies (saved replies bring them): fill the ones we know, find any that are left.

Pure functions, no Django. A reply is refused while anything placeholder-like remains: `{{ anything }}`,
`<COMPANY_NAME>`-style angle tokens, and `[NAME]`-style bracket tokens (upper-case words, digits, _ and
spaces), because a customer who receives "Hi [NAME]" has been shown the machinery, not helped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

MUSTACHE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
UNFILLED = re.compile(
    r"\{\{[^{}]*\}\}"  # {{ customer.first_name }}
    r"|<[A-Z][A-Z0-9_ ]*[A-Z0-9_]>"  # <COMPANY_NAME>
    r"|\[[A-Z][A-Z0-9_ ]*[A-Z0-9_]\]"  # [NAME]
    r"|\[[A-Z]\]|<[A-Z]>"  # [X], <X>
)


class UnfilledPlaceholders(ValueError):
    """A reply still contains placeholders; it must not be sent."""

    def __init__(self, found: list[Unfilled]) -> None:
        self.found = found
        super().__init__("unfilled placeholders: " + ", ".join(u.text for u in found))


@dataclass(frozen=True)
class Unfilled:
    start: int
    end: int
    text: str


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replace `{{ name }}` placeholders whose name is known and non-empty; leave the rest untouched."""

    def swap(match: re.Match[str]) -> str:
        value = values.get(match.group(1).strip())
        return value if value else match.group(0)

    return MUSTACHE.sub(swap, text)


def find_unfilled(text: str) -> list[Unfilled]:
    """Every placeholder-like token still in the text, with its position (for highlighting)."""
    return [Unfilled(m.start(), m.end(), m.group(0)) for m in UNFILLED.finditer(text)]


def check_filled(text: str) -> None:
    """Raise UnfilledPlaceholders if any placeholder-like token is left."""
    found = find_unfilled(text)
    if found:
        raise UnfilledPlaceholders(found)
