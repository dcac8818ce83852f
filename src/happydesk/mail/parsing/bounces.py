"""Recognise delivery status notifications: RFC 3464 multipart/report and classic MTA/Exchange bounces.

Extracts the failed recipient, status code, diagnostic and the Message-ID(s) of the bounced original so
the caller can attach the bounce to the conversation that caused it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .charsets import fix_surrogates

__all__ = ["BounceInfo", "analyse_bounce", "is_daemon_address", "message_ids"]

_DAEMON_LOCALPARTS = {"mailer-daemon", "mailerdaemon", "mail-daemon", "postmaster", "mdaemon"}
_BOUNCE_SUBJECT_RE = re.compile(
    r"(undeliver|undelivered mail|returned mail|delivery (status notification|failure|has failed|failed)|"
    r"mail delivery (failed|failure|subsystem|system)|failure notice|delivery notification|"
    r"non[- ]?delivery|nondeliverable|could not be delivered|unzustellbar|nicht zustellbar|"
    r"non remis|non distribuable|no se puede entregar|no entregado|mail system error)",
    re.IGNORECASE,
)
_BOUNCE_BODY_RE = re.compile(
    r"(could not be delivered|couldn't be delivered|delivery has failed|delivery to the following "
    r"recipients? failed|permanent (error|fatal errors)|user unknown|unknown user|no such user|"
    r"mailbox (unavailable|not found|full)|does not exist|recipient address rejected|"
    r"message was not delivered|did not reach|cannot be reached|undeliverable|returned to sender|delivery failed|"
    r"unable to deliver|not be delivered|I'm afraid I wasn't able to deliver|"
    r"konnte nicht zugestellt werden|n'a pas pu être remis|no se pudo entregar)",
    re.IGNORECASE,
)
_ANGLE_RECIPIENT_RE = re.compile(r"^\s*<([^<>\s@]+@[^<>\s]+)>:?", re.MULTILINE)
_EMAIL_RE = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,250})\.[A-Za-z]{2,}")
_STATUS_RE = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_SMTP_CODE_RE = re.compile(r"\b[45]\d\d\b[ -]")
_BODY_MSGID_RE = re.compile(r"^[ \t>]*Message-ID:[ \t]*<([^<>\s]{1,900})>", re.IGNORECASE | re.MULTILINE)
_MSGID_RE = re.compile(r"<([^<>\s]{1,900})>")
_FAILED_ACTIONS = {"failed", ""}
_ID_OK_RE = re.compile(r"^[^\s<>\x00-\x1f\x7f\ufffd]{1,900}$")


@dataclass
class BounceInfo:
    """Outcome of bounce analysis; `kind` is "failed", "delayed"/"delivered" (DSN but no failure) or ""."""

    is_bounce: bool = False
    kind: str = ""
    original_message_ids: list[str] = field(default_factory=list)
    recipient: str | None = None
    status: str | None = None
    diagnostic: str | None = None


def message_ids(value: str | None) -> list[str]:
    """All <id> tokens in a header value, without brackets; a bare `x@y` value is accepted too."""
    if not value:
        return []
    value = fix_surrogates(value)
    ids = [m.group(1).strip() for m in _MSGID_RE.finditer(value)]
    if not ids:
        bare = value.strip().strip("<>").strip()
        if "@" in bare and len(bare) < 900:
            ids = [bare]
    return [i for i in ids if _ID_OK_RE.match(i)]


def is_daemon_address(address: str | None) -> bool:
    """True for MAILER-DAEMON / postmaster style sender addresses."""
    if not address:
        return False
    local = address.split("@", 1)[0].lower()
    return local in _DAEMON_LOCALPARTS or local.startswith("microsoftexchange")


def _field_value(value: str) -> str:
    """`rfc822; user@example.com (comment)` -> `user@example.com`; unfolds whitespace."""
    value = " ".join(value.split())
    if ";" in value:
        value = value.split(";", 1)[1]
    return value.strip().strip("<>").strip()


def _from_status_blocks(blocks: list[dict[str, str]], info: BounceInfo) -> None:
    per_recipient = [
        b for b in blocks if "final-recipient" in b or "original-recipient" in b or "action" in b
    ]
    if not per_recipient:
        return
    failed = [b for b in per_recipient if b.get("action", "").strip().lower() in _FAILED_ACTIONS]
    if not failed:
        info.kind = per_recipient[0].get("action", "").strip().lower() or "delayed"
        return
    info.kind = "failed"
    first = failed[0]
    recipient = first.get("final-recipient") or first.get("original-recipient")
    if recipient:
        info.recipient = _field_value(recipient).lower() or None
    status = first.get("status")
    if status:
        m = _STATUS_RE.search(status)
        info.status = m.group(1) if m else " ".join(status.split())[:50] or None
    diagnostic = first.get("diagnostic-code")
    if diagnostic:
        info.diagnostic = _field_value(diagnostic)[:1000] or None


def _from_text(text: str, info: BounceInfo) -> None:
    sample = text[:50_000]
    if info.recipient is None:
        m = _ANGLE_RECIPIENT_RE.search(sample)
        if m:
            info.recipient = m.group(1).lower()
        else:
            body = _BOUNCE_BODY_RE.search(sample)
            start = body.start() if body else 0
            for cand in _EMAIL_RE.finditer(sample, start):
                if not is_daemon_address(cand.group(0)):
                    info.recipient = cand.group(0).lower()
                    break
    if info.status is None:
        m = _STATUS_RE.search(sample)
        if m:
            info.status = m.group(1)
    if info.diagnostic is None:
        lines = sample.splitlines()
        for line in lines:
            if _SMTP_CODE_RE.search(line) and (_STATUS_RE.search(line) or len(line.strip()) > 12):
                info.diagnostic = " ".join(line.split())[:1000]
                break
        else:
            for line in lines:
                if info.status and info.status in line:
                    info.diagnostic = " ".join(line.split())[:1000]
                    break


def analyse_bounce(
    *,
    report_type: str | None,
    status_blocks: list[dict[str, str]],
    original_ids: list[str],
    subject: str,
    from_address: str | None,
    text: str,
    own_message_id: str | None,
) -> BounceInfo:
    """Decide whether the message is a bounce and collect what the bounce tells about the original."""
    info = BounceInfo()
    is_report = (report_type or "").lower() == "delivery-status" or bool(status_blocks)
    if is_report:
        _from_status_blocks(status_blocks, info)
        if not info.kind:
            info.kind = "failed"
        info.is_bounce = info.kind == "failed"
    else:
        daemon = is_daemon_address(from_address)
        subject_hit = bool(_BOUNCE_SUBJECT_RE.search(subject or ""))
        body_hit = bool(_BOUNCE_BODY_RE.search(text[:50_000]))
        if (daemon and (subject_hit or body_hit)) or (subject_hit and body_hit):
            info.is_bounce = True
            info.kind = "failed"
    if not (info.is_bounce or info.kind):
        return info
    if info.is_bounce:
        _from_text(text, info)
    ids: list[str] = []
    for candidate in [*original_ids, *(m.group(1) for m in _BODY_MSGID_RE.finditer(text[:200_000]))]:
        candidate = fix_surrogates(candidate).strip()
        if _ID_OK_RE.match(candidate) and candidate != own_message_id and candidate not in ids:
            ids.append(candidate)
    info.original_message_ids = ids
    return info
