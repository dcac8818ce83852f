"""Address-header parsing with defect and ambiguity detection (spoofing-shaped From headers)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.utils import getaddresses

from .charsets import clean_text, fix_surrogates

__all__ = ["Address", "parse_address_header", "parse_from"]

_QUOTED_RE = re.compile(r'"(?:[^"\\]|\\.)*"')
_ENCODED_WORD_RE = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
_MAX_VALUE = 100_000


@dataclass(frozen=True)
class Address:
    """One mailbox: display name and address (domain lowercased; "" when missing/invalid)."""

    name: str
    address: str


def _clean_name(name: str) -> str:
    name = clean_text(fix_surrogates(name or "")).replace("\n", " ")
    return " ".join(name.split()).strip().strip('"').strip()


def _make(name: str, local: str, domain: str) -> Address:
    local = clean_text(fix_surrogates(local or "")).strip()
    domain = clean_text(fix_surrogates(domain or "")).strip().lower().rstrip(".")
    address = f"{local}@{domain}" if local and domain and " " not in local + domain else ""
    return Address(name=_clean_name(name), address=address)


def parse_address_header(value: str | None) -> tuple[list[Address], list[str]]:
    """Parse an address-list header value; returns (addresses, defect notes). Never raises."""
    if not value or not value.strip():
        return [], []
    value = value[:_MAX_VALUE]
    try:
        header = policy.default.header_factory("to", value)
        addresses = [_make(a.display_name, a.username, a.domain) for a in header.addresses]
        notes = [str(d) or type(d).__name__ for d in header.defects]
    except Exception as exc:  # stdlib header parser bugs on hostile input: fall back to getaddresses
        notes = [f"address header could not be parsed strictly ({type(exc).__name__})"]
        addresses = []
        for name, addr in getaddresses([value]):
            local, _, domain = addr.rpartition("@")
            addresses.append(_make(name, local, domain))
    invalid = [a for a in addresses if not a.address]
    if invalid:
        notes.append(f"{len(invalid)} invalid address(es)")
    return [a for a in addresses if a.address or a.name], notes


def _unquoted_at_count(value: str) -> int:
    """Number of '@' outside quoted strings and encoded words (comments count: they can hide addresses)."""
    return _QUOTED_RE.sub("", _ENCODED_WORD_RE.sub("", value)).count("@")


def parse_from(values: list[str]) -> tuple[Address | None, bool, list[str]]:
    """Parse the From header(s): returns (address or None, defective, defect notes)."""
    if not values:
        return None, False, ["missing From header"]
    notes: list[str] = []
    defective = False
    if len(values) > 1:
        defective = True
        notes.append(f"{len(values)} From headers")
    value = fix_surrogates(values[0])
    addresses, header_notes = parse_address_header(value)
    if header_notes:
        defective = True
        notes.extend(f"From: {n}" for n in header_notes)
    valid = [a for a in addresses if a.address]
    if len(valid) > 1:
        defective = True
        notes.append(f"From has {len(valid)} addresses")
    unfolded = " ".join(value.split())
    if _unquoted_at_count(unfolded) > max(1, len(valid)):
        defective = True
        notes.append("From contains more addresses than it resolves to (ambiguous)")
    if unfolded.count("<") != unfolded.count(">") or unfolded.count("(") != unfolded.count(")"):
        defective = True
        notes.append("From has unbalanced brackets")
    if not valid:
        if addresses or unfolded:
            defective = True
            notes.append("From has no valid address")
        return (Address(name=addresses[0].name, address="") if addresses else None), defective, notes
    return valid[0], defective, notes
