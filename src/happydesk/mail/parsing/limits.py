"""Parse limits, failure types and the cheap byte-level pre-scan that rejects MIME bombs.

The pre-scan runs before the stdlib parser ever sees the message so that hostile input (thousands of
parts, absurd nesting, megabyte headers) is refused in time and memory linear in the input size.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

__all__ = [
    "Limits",
    "MessageTooComplex",
    "ParseFailure",
    "UnparseableMessage",
    "prescan",
    "split_header_block",
]


@dataclass(frozen=True)
class Limits:
    """Upper bounds on message structure; exceeding any of them raises MessageTooComplex."""

    max_parts: int = 500
    max_depth: int = 30
    max_header_bytes: int = 512_000
    max_single_header_bytes: int = 100_000


class ParseFailure(Exception):
    """A message that cannot be turned into a ParsedEmail; `reason` is shown in the quarantine list."""

    def __init__(self, reason: str) -> None:
        reason = (reason or "").strip() or "unknown parse failure"
        super().__init__(reason)
        self.reason = reason


class MessageTooComplex(ParseFailure):
    """The message exceeds a structural limit (parts, nesting depth, header size)."""


class UnparseableMessage(ParseFailure):
    """Nothing usable could be extracted (not an email, or an internal parser error)."""


_HEADER_LINE_RE = re.compile(rb"^[!-9;-~]{1,200}[ \t]*:")
_BOUNDARY_RE = re.compile(rb"""boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))""", re.IGNORECASE)
_DASH_LINE_RE = re.compile(rb"^--([^\r\n]{1,210}?)[ \t]*\r?$", re.MULTILINE)
_BLANK_LINE_RE = re.compile(rb"\r?\n\r?\n")
# MIME structure headers are re-parsed by the stdlib (slowly, per parameter) on every access.
MAX_MIME_HEADER_BYTES = 8_192
_MIME_HEADER_RE = re.compile(
    rb"^content-(?:type|disposition|transfer-encoding)[ \t]*:", re.IGNORECASE | re.MULTILINE
)
_LOGICAL_END_RE = re.compile(rb"\n(?![ \t])")


def split_header_block(raw: bytes, start: int = 0, stop: int | None = None) -> tuple[int, int]:
    """Return (end_of_headers, start_of_body) offsets for the header block beginning at `start`."""
    stop = len(raw) if stop is None else stop
    if raw.startswith(b"\n", start) or raw.startswith(b"\r\n", start):
        return start, start + (1 if raw[start : start + 1] == b"\n" else 2)
    m = _BLANK_LINE_RE.search(raw, start, stop)
    if m is None:
        return stop, stop
    return m.start(), m.end()


def looks_like_header_start(raw: bytes) -> bool:
    """True if the first line is a header field or an mbox `From ` line."""
    first = raw[:1000].split(b"\n", 1)[0]
    return first.startswith(b"From ") or bool(_HEADER_LINE_RE.match(first))


def _check_header_block(block: bytes, limits: Limits, where: str) -> None:
    """Raise if a header block, or one logical (unfolded) header in it, is too large."""
    if len(block) > limits.max_header_bytes:
        raise MessageTooComplex(
            f"{where} header block is {len(block):,} bytes (limit {limits.max_header_bytes:,})"
        )
    if len(block) <= limits.max_single_header_bytes:
        return
    current = 0
    for line in block.split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            current += len(line) + 1
        else:
            current = len(line) + 1
        if current > limits.max_single_header_bytes:
            raise MessageTooComplex(f"{where} has a header over {limits.max_single_header_bytes:,} bytes")


def _check_mime_headers(raw: bytes, limits: Limits) -> None:
    """Bound the size and total parameter count of Content-Type/-Disposition/-Transfer-Encoding."""
    cap = min(MAX_MIME_HEADER_BYTES, limits.max_single_header_bytes)
    max_params = 8 * limits.max_parts
    params = 0
    for m in _MIME_HEADER_RE.finditer(raw):
        start = m.start()
        end = _LOGICAL_END_RE.search(raw, start, start + cap + 2)
        if end is None and start + cap + 2 < len(raw):
            raise MessageTooComplex(f"a MIME header (Content-*) is longer than {cap:,} bytes")
        stop = end.start() if end else len(raw)
        params += raw.count(b";", start, stop)
        if params > max_params:
            raise MessageTooComplex(f"more than {max_params:,} MIME header parameters")


def prescan(raw: bytes, limits: Limits) -> None:
    """Cheaply estimate parts, depth and header sizes from raw bytes; raise MessageTooComplex early.

    Boundaries are collected from `boundary=` parameters anywhere in the message; delimiter lines are
    matched against them while a stack tracks nesting (a delimiter of an outer boundary closes every
    multipart opened inside it), giving an upper-bound estimate of part count and depth.
    """
    end, _ = split_header_block(raw)
    _check_header_block(raw[:end], limits, "top-level")
    _check_mime_headers(raw, limits)

    declared: list[tuple[int, bytes]] = []
    names: set[bytes] = set()
    for m in _BOUNDARY_RE.finditer(raw):
        b = (m.group(1) or m.group(2)).rstrip()
        if not b:
            continue
        declared.append((m.start(), b))
        names.add(b)
        if len(names) > limits.max_parts:
            raise MessageTooComplex(f"more than {limits.max_parts} multipart boundaries declared")
    if not names:
        return

    events: list[tuple[int, int, bytes]] = [(pos, 0, b) for pos, b in declared]
    delimiter_count = 0
    for m in _DASH_LINE_RE.finditer(raw):
        token = m.group(1)
        if token in names:
            events.append((m.start(), 1, token))
        elif token.endswith(b"--") and token[:-2] in names:
            events.append((m.start(), 2, token[:-2]))
        else:
            continue
        delimiter_count += 1
        if delimiter_count > limits.max_parts * 2 + 2:
            raise MessageTooComplex(f"more than {limits.max_parts} MIME parts")
    events.sort(key=lambda e: e[0])

    stack: list[bytes] = []
    parts = 0
    max_depth = 0
    delimiter_positions = [e[0] for e in events if e[1] != 0]
    for pos, kind, b in events:
        if kind == 0:
            stack.append(b)
            if len(stack) > max_depth:
                max_depth = len(stack)
                if max_depth > limits.max_depth:
                    raise MessageTooComplex(f"MIME nesting deeper than {limits.max_depth} levels")
            continue
        if b not in stack:
            continue
        while stack and stack[-1] != b:
            stack.pop()
        if kind == 2:
            stack.pop()
            continue
        parts += 1
        if parts > limits.max_parts:
            raise MessageTooComplex(f"more than {limits.max_parts} MIME parts")
        hdr_start = raw.find(b"\n", pos)
        if hdr_start == -1:
            continue
        j = bisect.bisect_right(delimiter_positions, pos)
        next_pos = delimiter_positions[j] if j < len(delimiter_positions) else len(raw)
        hdr_end, _ = split_header_block(raw, hdr_start + 1, max(next_pos, hdr_start + 1))
        if hdr_end - hdr_start > limits.max_single_header_bytes:
            _check_header_block(raw[hdr_start + 1 : hdr_end], limits, f"MIME part {parts}")
