"""Walk a parsed MIME tree with depth/part limits, collecting bodies, attachments and DSN parts."""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from email import policy
from email.message import Message

from .charsets import clean_text, decode_bytes, decode_header_value, fix_surrogates
from .limits import Limits, MessageTooComplex

__all__ = ["MimeWalker", "ParsedAttachment", "unflow"]

_SIGNATURE_TYPES = {
    "application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature",
}  # fmt: skip
_STATUS_TYPES = {"message/delivery-status", "message/global-delivery-status"}
_MESSAGE_TYPES = {"message/rfc822", "message/global"}
_NOTIFICATION_TYPES = {"message/disposition-notification", "message/global-disposition-notification"}
_HEADER_TYPES = {"text/rfc822-headers", "text/rfc822-header", "message/global-headers"}
_MSGID_LINE_RE = re.compile(r"^Message-ID:\s*<([^<>\s]{1,900})>", re.IGNORECASE | re.MULTILINE)
_BAD_FILENAME_CHARS = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
_CAMEL_RE = re.compile(r"(?<!^)(?=[A-Z])")
_SERIALIZE_POLICY = policy.default.clone(max_line_length=None, linesep="\r\n")


@dataclass
class ParsedAttachment:
    """A real attachment or an inline (cid:) image; `data` is the decoded content."""

    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None
    inline: bool = False


def unflow(text: str, delsp: bool) -> str:
    """Undo RFC 3676 format=flowed soft line breaks (quote-depth aware, keeps the "-- " delimiter)."""
    out: list[str] = []
    buf: list[str] = []
    buf_depth = -1
    for line in text.split("\n"):
        stripped = line.lstrip(">")
        depth = len(line) - len(stripped)
        if stripped.startswith(" "):
            stripped = stripped[1:]  # space-stuffing / quote separator
        flowed = stripped.endswith(" ") and stripped != "-- "
        if flowed and delsp:
            stripped = stripped[:-1]
        if buf and depth != buf_depth:
            out.append(("> " * buf_depth if buf_depth else "") + "".join(buf))
            buf = []
        buf.append(stripped)
        buf_depth = depth
        if not flowed:
            out.append(("> " * depth if depth else "") + "".join(buf))
            buf = []
    if buf:
        out.append(("> " * buf_depth if buf_depth > 0 else "") + "".join(buf))
    return "\n".join(out)


def _raw_header(part: Message, name: str) -> str | None:
    for key, value in part.raw_items():
        if str(key).lower() == name:
            return str(value)
    return None


def _defect_text(defect: object) -> str:
    name = type(defect).__name__.removesuffix("Defect")
    words = _CAMEL_RE.sub(" ", name).lower()
    detail = str(defect)
    return f"{words}: {detail}" if detail and detail.lower() != words else words


def _payload_bytes(part: Message) -> bytes:
    """Transfer-decoded payload bytes (base64 with bad padding, quoted-printable, 8bit…); never raises."""
    try:
        data = part.get_payload(decode=True)
    except Exception:  # stdlib decoders on hostile input
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    if isinstance(payload, list):  # message/* subtypes the parser split into header blocks
        return b"\r\n".join(_serialize(p) for p in payload if isinstance(p, Message))
    return b""


def _serialize(msg: Message) -> bytes:
    """Bytes of an embedded message (for the .eml attachment)."""
    try:
        return msg.as_bytes(policy=_SERIALIZE_POLICY)
    except Exception:
        try:
            return str(msg).encode("utf-8", "surrogateescape")
        except Exception:
            return b""


def _clean_filename(name: str) -> str:
    name = decode_header_value(name) if "=?" in name else clean_text(fix_surrogates(name))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _BAD_FILENAME_CHARS.sub("_", name).strip(" ._")
    return name[:200]


class MimeWalker:
    """Depth-first walk of a message collecting text/html bodies, attachments and bounce parts."""

    def __init__(self, limits: Limits, notes: list[str]) -> None:
        self.limits = limits
        self.notes = notes
        self.parts = 0
        self.plain: list[str] = []
        self.html: list[str] = []
        self.report_type: str | None = None
        self.status_blocks: list[dict[str, str]] = []
        self.original_ids: list[str] = []
        # (attachment, disposition, inside multipart/related, is embedded message)
        self._found: list[tuple[ParsedAttachment, str | None, bool, bool]] = []

    def attachments(self, *, include_messages: bool) -> list[tuple[ParsedAttachment, str | None, bool]]:
        """Collected attachments in document order; embedded messages only if `include_messages`."""
        return [(a, d, r) for a, d, r, is_msg in self._found if include_messages or not is_msg]

    # -- helpers -----------------------------------------------------------------------------
    def _content_type(self, part: Message) -> str:
        try:
            return part.get_content_type().lower()
        except Exception:
            self.notes.append(f"part {self.parts}: unreadable Content-Type, treated as text/plain")
            return "text/plain"

    def _param(self, part: Message, name: str, header: str = "content-type") -> str:
        try:
            value = part.get_param(name, header=header)
        except Exception:
            return ""
        if isinstance(value, tuple):  # RFC 2231 (charset, language, value)
            value = value[2]
        return str(value or "").strip()

    def _disposition(self, part: Message) -> str | None:
        try:
            return part.get_content_disposition()
        except Exception:
            return None

    def _filename(self, part: Message) -> str:
        try:
            name = part.get_filename() or ""
        except Exception:
            name = self._param(part, "filename", "content-disposition") or self._param(part, "name")
        return _clean_filename(str(name)) if name else ""

    def _content_id(self, part: Message) -> str | None:
        value = _raw_header(part, "content-id")
        if not value:
            return None
        cid = "".join(fix_surrogates(value).split()).strip("<>")
        return cid[:500] or None

    # -- walk --------------------------------------------------------------------------------
    def walk(self, part: Message, depth: int, parent: str) -> None:
        """Visit `part`; raises MessageTooComplex past the part/depth limits."""
        self.parts += 1
        if self.parts > self.limits.max_parts:
            raise MessageTooComplex(f"more than {self.limits.max_parts} MIME parts")
        if depth > self.limits.max_depth:
            raise MessageTooComplex(f"MIME nesting deeper than {self.limits.max_depth} levels")
        self.notes.extend(f"part {self.parts}: {_defect_text(d)}" for d in getattr(part, "defects", [])[:10])
        ctype = self._content_type(part)
        if ctype.startswith("multipart/"):
            payload = part.get_payload()
            if isinstance(payload, list):
                if ctype == "multipart/report" and self.report_type is None:
                    self.report_type = self._param(part, "report-type").lower() or "unknown"
                for child in payload:
                    if isinstance(child, Message):
                        self.walk(child, depth + 1, ctype)
                return
            self.notes.append(f"part {self.parts}: multipart without usable boundary, read as text")
            self._body(part, "text/plain")
            return
        if ctype in _STATUS_TYPES:
            self._status(part)
            return
        if ctype in _MESSAGE_TYPES:
            self._message(part, parent)
            return
        if ctype in _NOTIFICATION_TYPES:
            self.notes.append(f"part {self.parts}: {ctype} report part")
            return
        if ctype in _HEADER_TYPES:
            text = decode_bytes(_payload_bytes(part), self._param(part, "charset") or None)
            self.original_ids.extend(m.group(1) for m in _MSGID_LINE_RE.finditer(text[:200_000]))
            return
        if ctype in _SIGNATURE_TYPES and parent == "multipart/signed":
            self.notes.append(f"part {self.parts}: {ctype} signature not verified")
            return
        filename = self._filename(part)
        disposition = self._disposition(part)
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            self._body(part, ctype)
            return
        self._attachment(part, ctype, filename, disposition, parent)

    def _body(self, part: Message, ctype: str) -> None:
        data = _payload_bytes(part)
        charset = self._param(part, "charset") or None
        text = decode_bytes(data, charset, self.notes, where=f"part {self.parts}: ")
        if "\x00" in text:
            self.notes.append(f"part {self.parts}: NUL bytes removed from body")
        text = clean_text(text)
        if ctype == "text/plain" and self._param(part, "format").lower() == "flowed":
            text = unflow(text, self._param(part, "delsp").lower() == "yes")
        (self.html if ctype == "text/html" else self.plain).append(text)

    def _attachment(
        self, part: Message, ctype: str, filename: str, disposition: str | None, parent: str
    ) -> None:
        cid = self._content_id(part)
        if not filename:
            if ctype in ("text/calendar", "application/ics"):
                filename = "invite.ics"
            elif ctype == "application/ms-tnef":
                filename = "winmail.dat"
            else:
                ext = mimetypes.guess_extension(ctype) or ".bin"
                stem = "image" if ctype.startswith("image/") else "attachment"
                filename = f"{stem}-{len(self._found) + 1}{ext}"
        att = ParsedAttachment(filename, ctype, _payload_bytes(part), cid, False)
        self._found.append((att, disposition, parent == "multipart/related", False))

    def _message(self, part: Message, parent: str) -> None:
        payload = part.get_payload()
        sub = (
            payload[0] if isinstance(payload, list) and payload and isinstance(payload[0], Message) else None
        )
        if sub is not None:
            data = _serialize(sub)
            mid = _raw_header(sub, "message-id")
            subject = decode_header_value(_raw_header(sub, "subject"))
        else:
            data = _payload_bytes(part)
            head = decode_bytes(data[:200_000], None)
            found = _MSGID_LINE_RE.search(head)
            mid = f"<{found.group(1)}>" if found else None
            subject = ""
        if mid:
            ids = re.findall(r"<([^<>\s]{1,900})>", mid) or [mid.strip()]
            self.original_ids.extend(i for i in ids[:1] if i)
        filename = self._filename(part) or (_clean_filename(subject)[:80] if subject else "") or "message"
        if not filename.lower().endswith(".eml"):
            filename += ".eml"
        att = ParsedAttachment(filename, "message/rfc822", data, self._content_id(part), False)
        self._found.append((att, self._disposition(part), parent == "multipart/related", True))

    def _status(self, part: Message) -> None:
        payload = part.get_payload()
        blocks: list[dict[str, str]] = []
        if isinstance(payload, list):
            blocks.extend(
                {str(k).lower(): fix_surrogates(str(v)) for k, v in block.raw_items()}
                for block in payload
                if isinstance(block, Message)
            )
        if not any("action" in b or "final-recipient" in b for b in blocks):
            text = decode_bytes(_payload_bytes(part), None) if not isinstance(payload, list) else ""
            blocks = []
            for chunk in re.split(r"\n\s*\n", clean_text(text)):
                fields: dict[str, str] = {}
                for line in re.sub(r"\n[ \t]+", " ", chunk).split("\n"):
                    name, sep, value = line.partition(":")
                    if sep and name.strip():
                        fields[name.strip().lower()] = value.strip()
                if fields:
                    blocks.append(fields)
        self.status_blocks.extend(blocks)
