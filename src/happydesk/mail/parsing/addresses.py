"""Address-header parsing with defect and ambiguity detection (spoofing-shaped From headers)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.utils import getaddresses

from .charsets import clean_text, fix_surrogates

__all__ = ["Address", "parse_address_header", "parse_from", "split_address_list"]

_QUOTED_RE = re.compile(r'"(?:[^"\\]|\\.)*"')
_ENCODED_WORD_RE = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
_MAX_VALUE = 100_000
MAX_ADDRESSES = 1000
MAX_ADDRESS_CHARS = 512


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


def split_address_list(value: str) -> list[str]:
    """Split an address list on top-level commas (outside quotes, comments and <>), in linear time.

    Group syntax ("Team: a@x, b@y;") is flattened into its member mailboxes.
    """
    chunks: list[str] = []
    start = 0
    depth = 0
    in_quote = in_angle = escaped = False
    for i, ch in enumerate(value):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_quote:
            in_quote = ch != '"'
        elif depth:
            depth += 1 if ch == "(" else -1 if ch == ")" else 0
        elif ch == '"':
            in_quote = True
        elif ch == "(":
            depth = 1
        elif ch == "<":
            in_angle = True
        elif ch == ">":
            in_angle = False
        elif in_angle:
            continue
        elif ch in ",;":  # ";" ends an RFC 5322 group
            chunks.append(value[start:i])
            start = i + 1
        elif ch == ":":  # "Group name:" starts a group; the label itself is not an address
            start = i + 1
    chunks.append(value[start:])
    return [c for c in (chunk.strip() for chunk in chunks) if c]


def _parse_one(chunk: str, notes: list[str]) -> list[Address]:
    """Parse one mailbox (or group) with the strict stdlib parser, falling back to getaddresses."""
    try:
        header = policy.default.header_factory("to", chunk)
        notes.extend(str(d) or type(d).__name__ for d in header.defects)
        return [_make(a.display_name, a.username, a.domain) for a in header.addresses]
    except Exception as exc:  # stdlib header parser bugs on hostile input
        notes.append(f"address could not be parsed strictly ({type(exc).__name__})")
        out = []
        for name, addr in getaddresses([chunk]):
            local, _, domain = addr.rpartition("@")
            out.append(_make(name, local, domain))
        return out


def parse_address_header(value: str | None) -> tuple[list[Address], list[str]]:
    """Parse an address-list header value; returns (addresses, defect notes). Never raises.

    The list is split first so the stdlib parser (super-linear on hostile input) only ever sees one
    short mailbox at a time; overlong entries and entries past MAX_ADDRESSES are dropped with a note.
    """
    if not value or not value.strip():
        return [], []
    notes: list[str] = []
    addresses: list[Address] = []
    chunks = split_address_list(value[:_MAX_VALUE])
    if len(chunks) > MAX_ADDRESSES:
        notes.append(f"{len(chunks)} addresses, only the first {MAX_ADDRESSES} kept")
        chunks = chunks[:MAX_ADDRESSES]
    for chunk in chunks:
        if len(chunk) > MAX_ADDRESS_CHARS:
            notes.append(f"address entry over {MAX_ADDRESS_CHARS} characters ignored")
            addresses.append(Address(name="", address=""))
            continue
        addresses.extend(_parse_one(chunk, notes))
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
