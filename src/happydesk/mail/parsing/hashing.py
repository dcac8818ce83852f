"""Content hash of a message that ignores transport/trace headers, for de-duplication.

The same message delivered by SMTP and again fetched over IMAP (or delivered twice) differs only in
trace headers and line endings; those are removed/normalised before hashing. No MIME parse is done.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["content_hash"]

_TRACE_NAMES = {
    b"received", b"return-path", b"delivered-to", b"x-original-to", b"authentication-results",
    b"x-original-authentication-results", b"dkim-signature", b"domainkey-signature", b"received-spf",
    b"x-received", b"x-google-smtp-source", b"x-gm-message-state", b"x-gmail-labels", b"x-gm-thrid",
    b"envelope-to", b"x-envelope-from", b"x-envelope-to", b"x-rcpt-to", b"x-delivered-to", b"status",
    b"x-status", b"x-keywords", b"x-uid", b"x-imapbase", b"content-length", b"lines", b"x-ham-report",
    b"x-forefront-antispam-report", b"x-forefront-antispam-report-untrusted", b"x-originalarrivaltime",
    b"x-sieve", b"x-sieve-redirected-from", b"x-scanned-by", b"x-virus-scanned", b"x-virus-status",
    b"x-original-sender", b"x-original-recipient", b"x-resent-by", b"x-rspamd-queue-id",
    b"x-rspamd-server", b"x-rspamd-action", b"x-mailgun-incoming", b"x-ses-receipt", b"x-ses-spam-verdict",
    b"x-ses-virus-verdict", b"x-ses-dkim-signature", b"x-mozilla-status", b"x-mozilla-status2",
    b"x-mozilla-keys", b"x-ms-has-attach-received",
}  # fmt: skip
_TRACE_PREFIXES = (
    b"arc-", b"x-spam", b"x-ms-exchange-organization-", b"x-ms-exchange-transport-",
    b"x-ms-exchange-crosstenant-", b"x-microsoft-antispam", b"x-ms-office365-filtering",
    b"x-eopattributedmessage", b"x-eoptenantattributedmessage", b"x-amavis", b"x-proofpoint",
    b"x-mimecast", b"x-barracuda", b"x-ironport", b"x-dspam", b"x-policyd", b"x-happydesk-",
    b"x-ms-exchange-atpmessageproperties", b"x-ms-exchange-antispam", b"x-virus-", b"x-greylist",
    b"x-mailscanner", b"x-gm-", b"x-google-", b"x-forwarded-", b"x-cmae", b"x-sonic",
)  # fmt: skip
_WS_RE = re.compile(rb"[ \t]+")


def _logical_headers(block: bytes) -> list[tuple[bytes, bytes]]:
    """Unfold a header block into (lowercased name, whitespace-normalised value) pairs."""
    out: list[tuple[bytes, bytes]] = []
    for line in block.split(b"\n"):
        if line[:1] in (b" ", b"\t") and out:
            name, value = out[-1]
            out[-1] = (name, value + b" " + line.strip())
            continue
        name, sep, value = line.partition(b":")
        if not sep:
            out.append((b"", line.strip()))
            continue
        out.append((name.strip().lower(), value.strip()))
    return [(n, _WS_RE.sub(b" ", v)) for n, v in out]


def _is_trace(name: bytes) -> bool:
    return name in _TRACE_NAMES or name.startswith(_TRACE_PREFIXES)


def content_hash(raw: bytes) -> str:
    """sha256 hex of the message minus its transport/trace headers; never raises."""
    try:
        data = bytes(raw)
        if data.startswith(b"From "):  # mbox separator line
            data = data.split(b"\n", 1)[1] if b"\n" in data else b""
        data = data.replace(b"\r\n", b"\n").lstrip(b"\n")
        sep = data.find(b"\n\n")
        block, body = (data, b"") if sep == -1 else (data[:sep], data[sep + 2 :])
        digest = hashlib.sha256()
        for name, value in _logical_headers(block):
            if _is_trace(name):
                continue
            digest.update(name + b":" + value + b"\n")
        digest.update(b"\n")
        digest.update(body.rstrip(b"\n \t"))
        return digest.hexdigest()
    except Exception:  # never raise: fall back to the plain digest of whatever we were given
        try:
            return hashlib.sha256(bytes(raw)).hexdigest()
        except Exception:
            return hashlib.sha256(repr(raw).encode("utf-8", "replace")).hexdigest()
