"""Masking customer details in what goes to people outside support (digests, shared reports): email
addresses, phone and card numbers, links with secrets, and the customer's own name."""

from __future__ import annotations

import re
from collections.abc import Iterable

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Seven or more digits, possibly grouped by spaces, dots, dashes or brackets: phone, card, account numbers.
NUMBER = re.compile(r"(?<![\w])\+?\(?\d(?:[\d\s().-]{5,}\d)(?![\w])")
URL = re.compile(r"https?://\S+")


DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{1,2}[./]\d{2,4}")


def _long_number(match: re.Match[str]) -> str:
    found = match.group(0)
    if DATE.fullmatch(found.strip()) or sum(ch.isdigit() for ch in found) < 7:
        return found  # a date or a short number (order A-12345) says nothing about the person
    return "[number]"


def mask_text(text: str, names: Iterable[str] = ()) -> str:
    """The text with emails, long numbers, links and the given names (and their parts) replaced."""
    text = URL.sub("[link]", text)
    text = EMAIL.sub("[email]", text)
    text = NUMBER.sub(_long_number, text)
    parts: set[str] = set()
    for name in names:
        name = (name or "").strip()
        if name:
            parts.add(name)
            parts.update(p for p in re.split(r"[\s,]+", name) if len(p) >= 2)
    if parts:  # one pass, longest first: "Casey Customer" is one [customer], not two
        alternatives = "|".join(re.escape(p) for p in sorted(parts, key=len, reverse=True))
        text = re.sub(rf"(?<!\w)(?:{alternatives})(?!\w)", "[customer]", text, flags=re.IGNORECASE)
    return text
