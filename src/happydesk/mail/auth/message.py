"""The RFC 5322 From domain, read the same way the inbox reads the sender (mail.parsing.addresses)."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser

import dns.name

from happydesk.mail.parsing.addresses import parse_from
from happydesk.mail.parsing.limits import Limits, split_header_block

__all__ = ["domain_of", "from_domain", "header_values", "headers_too_large", "normalize_domain"]

MAX_FOLDS = 2000  # continuation lines in one header (dkimpy joins them in quadratic time)


def headers_too_large(data: bytes) -> str:
    """Why the header block is too big to check in bounded time ("" when it is fine): the parser's own
    limits (mail.parsing.limits), plus a cap on folded lines per header."""
    limits = Limits()
    end, _ = split_header_block(data)
    if end > limits.max_header_bytes:
        return f"the header block is over {limits.max_header_bytes:,} bytes"
    current = folds = 0
    for line in data[:end].split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            current += len(line) + 1
            folds += 1
        else:
            current, folds = len(line) + 1, 0
        if current > limits.max_single_header_bytes:
            return f"a header is over {limits.max_single_header_bytes:,} bytes"
        if folds > MAX_FOLDS:
            return f"a header is folded over {MAX_FOLDS:,} times"
    return ""


def header_values(data: bytes) -> dict[str, list[str]]:
    """Lowercased header name -> raw values, top to bottom, as mail.parsing sees them."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    data = data.lstrip(b"\r\n")
    msg = BytesParser(policy=policy.default).parsebytes(data, headersonly=True)
    out: dict[str, list[str]] = {}
    for name, value in msg.raw_items():
        out.setdefault(str(name).strip().lower(), []).append(str(value))
    return out


def normalize_domain(domain: str) -> str:
    """Lowercase A-label form without the final dot; "" when it is not a usable DNS name."""
    domain = domain.strip().rstrip(".").lower()
    if not domain or domain.startswith("[") or " " in domain:
        return ""
    try:
        return dns.name.from_text(domain).to_text(omit_final_dot=True).lower()
    except Exception:  # IDNA or label errors: dnspython raises several kinds
        return ""


def domain_of(address: str) -> str:
    """The normalized domain of an address (or of a bare domain)."""
    return normalize_domain(address.rpartition("@")[2])


def from_domain(values: list[str]) -> tuple[str, str]:
    """(domain, problem) for the From header values: the domain when exactly one unambiguous address is
    given, else "" and why not."""
    if not values:
        return "", "the message has no From header"
    if len(values) > 1:
        return "", f"the message has {len(values)} From headers"
    address, defective, notes = parse_from(values)
    if address is None or not address.address:
        return "", "the From header has no valid address"
    if defective:
        return "", "the From header is ambiguous (" + "; ".join(notes)[:200] + ")"
    domain = domain_of(address.address)
    if not domain:
        return "", f"the From domain of {address.address} is not a valid DNS name"
    return domain, ""
