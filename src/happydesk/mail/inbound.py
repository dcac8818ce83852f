"""Step 2 of the flow: turn a stored raw message into a conversation message, or quarantine it.

Idempotent: a raw message is processed once (row lock + state check), and the same email arriving twice
or by two paths maps to one dedupe key, decided here and only here (`dedupe_key`).

Quarantine is for mail that cannot be processed (it does not parse, it is for nobody here). When the
system fails instead (a full disk, a locked or unreachable database, an I/O error) the message stays
pending, deferred with the reason, and the queue pauses with backoff until the fault passes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import time
import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import NoReturn

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from happydesk.customers.services import customer_for_address, customer_note_utc_offset
from happydesk.inbox import services as inbox
from happydesk.inbox.models import Conversation, Mailbox, Message
from happydesk.inbox.services import attachments_undo_on_error
from happydesk.mail import autoreply
from happydesk.mail.auth import AuthVerdict, verdict_from_headers, verify_received
from happydesk.mail.faults import passing_fault
from happydesk.mail.models import RawMessage
from happydesk.mail.parsing import Limits, ParsedEmail, ParseFailure, content_hash, parse_email
from happydesk.mail.store import mailbox_for_address, read_raw, split_plus
from happydesk.mail.threading import InboundFacts, decide

log = logging.getLogger(__name__)


class Quarantine(Exception):
    """Processing stopped for a reason an admin can read and act on."""


class PassingFault(Exception):
    """The system failed, not the message (mail.faults): the message stays pending and the queue
    waits `delay` seconds before it tries again."""

    def __init__(self, reason: str, delay: float) -> None:
        super().__init__(reason)
        self.reason, self.delay = reason, delay


# Seconds before a deferred message (and the paused queue) is tried again; the last step repeats until
# the fault passes, so mail flows within half a minute of the disk being freed or the database returning.
RETRY_BACKOFF = (1, 2, 5, 10, 20, 30)


def retry_delay(deferrals: int) -> int:
    """Seconds to wait after the `deferrals`-th passing fault in a row (1-based)."""
    return RETRY_BACKOFF[min(max(deferrals, 1), len(RETRY_BACKOFF)) - 1]


class _Pause:
    """This worker's pause of the inbound queue after a passing fault: one message probes the fault per
    interval, instead of every message of a backlog being read, parsed and failed in turn."""

    until = 0.0  # time.monotonic()
    faults = 0  # in a row; 0 once a message went through
    reason = ""


_pause = _Pause()


def queue_pause_forget() -> None:
    """End this process's pause of the inbound queue (tests: a fault one test played is over)."""
    _pause.until, _pause.faults, _pause.reason = 0.0, 0, ""


def _pause_queue(reason: str, delay: float) -> None:
    _pause.faults += 1
    _pause.until = time.monotonic() + delay
    if reason != _pause.reason or _pause.faults in (1, len(RETRY_BACKOFF)):
        log.warning("inbound queue paused for %ss: %s", delay, reason)
    _pause.reason = reason


def dedupe_key(*, mailbox: Mailbox, message_id: str | None, chash: str) -> str:
    """One email = one key: the routed mailbox, the Message-ID and a hash of the content without trace
    headers. A new mail that reuses an old Message-ID has other content, so it is not dropped; the same
    mail fetched by IMAP after arriving by SMTP (or copied to two IMAP folders) has the same key."""
    return hashlib.sha256(f"{mailbox.pk}\0{message_id or ''}\0{chash}".encode()).hexdigest()


def route_mailbox(parsed: ParsedEmail, raw: RawMessage, mailboxes: dict[str, Mailbox]) -> Mailbox | None:
    """The mailbox a message belongs to: the first of ours in To, then Cc (so every copy of one mail routes
    the same way whichever path it came by), then the envelope or the IMAP account it was fetched from."""
    for addr in [*parsed.to, *parsed.cc]:
        mailbox = mailbox_for_address(addr.address, mailboxes)
        if mailbox is not None:
            return mailbox
    if raw.mailbox is not None:  # None without a query when mailbox_id is unset
        return mailboxes.get(raw.mailbox.address)
    for rcpt in raw.envelope_to:
        mailbox = mailbox_for_address(rcpt, mailboxes)
        if mailbox is not None:
            return mailbox
    return None


WORKER_ID = f"{socket.gethostname()}-{os.getpid()}"
LEASE = timedelta(seconds=30)


def warm_up() -> None:
    """Load what the first message would otherwise wait for (the public suffix list, the parser's and
    the checks' lazy parts), so the first customer after a restart is as quick as the next."""
    from happydesk.mail.auth.dmarc import org_domain

    org_domain("www.example.co.uk")
    parse_email(b"From: a@example.com\r\nTo: b@example.com\r\nSubject: warm\r\n\r\nwarm\r\n")


def release_dead_leases() -> int:
    """Free rows leased by workers on this host that are no longer running (killed, crashed), so a
    restarted process tree picks them up at once instead of waiting for the lease to expire."""
    host = socket.gethostname()
    released = 0
    claimed = (
        RawMessage.objects.filter(state=RawMessage.State.PENDING, claimed_by__startswith=f"{host}-")
        .values_list("claimed_by", flat=True)
        .distinct()
    )
    for owner in list(claimed):
        pid = owner.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            released += RawMessage.objects.filter(state=RawMessage.State.PENDING, claimed_by=owner).update(
                claimed_by="", claimed_until=None
            )
    return released


def _alive(pid: int) -> bool:
    """Is the process running? A zombie (killed, not yet reaped) counts as dead."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except OSError:
        return True


def claim_batch(*, limit: int = 20) -> list[int]:
    """Lease up to `limit` pending raw messages to this worker, oldest first."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            RawMessage.objects.select_for_update(skip_locked=True)
            .filter(state=RawMessage.State.PENDING)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
            .order_by("id")
            .values_list("id", flat=True)[:limit]
        )
        if ids:
            RawMessage.objects.filter(pk__in=ids).update(claimed_by=WORKER_ID, claimed_until=now + LEASE)
    return ids


def process_pending(*, limit: int = 200) -> int:
    """Process up to `limit` pending raw messages in leased batches; returns how many were handled.
    After a passing fault the queue pauses (RETRY_BACKOFF) and this returns at once until it is over."""
    if time.monotonic() < _pause.until:
        return 0
    done = 0
    ids: list[int] = []
    try:
        while done < limit:
            ids = claim_batch(limit=min(20, limit - done))
            if not ids:
                break
            # One query for the batch's rows and one for the mailboxes, instead of two per message.
            mailboxes = _mailboxes()
            raws = RawMessage.objects.select_related("mailbox").filter(
                pk__in=ids, state=RawMessage.State.PENDING
            )
            for raw in sorted(raws, key=lambda r: r.pk):
                ids.remove(raw.pk)
                if _process_one(raw, mailboxes):
                    done += 1
                _pause.faults, _pause.reason = 0, ""
    except PassingFault as fault:
        _pause_queue(fault.reason, fault.delay)
        _release(ids)  # the rest of the batch: claimable again once the pause is over
    except Exception as exc:
        reason = passing_fault(exc)  # claiming failed: the database is full, locked or gone
        if reason is None:
            raise
        _pause_queue(reason, retry_delay(_pause.faults + 1))
    return done


def _release(ids: list[int]) -> None:
    """Give up this worker's lease on these rows (best effort: the lease expires anyway)."""
    if not ids:
        return
    try:
        RawMessage.objects.filter(pk__in=ids, claimed_by=WORKER_ID).update(claimed_by="", claimed_until=None)
    except Exception as exc:
        log.info("could not release leases of %s (they expire in %s): %s", ids, LEASE, exc)


def _mailboxes() -> dict[str, Mailbox]:
    return {m.address: m for m in Mailbox.objects.all()}


def process_raw(raw_id: int) -> bool:
    """Process one raw message (see _process_one); False if it was not pending, or it was deferred by a
    passing fault (it stays pending, with the reason, for the worker)."""
    raw = (
        RawMessage.objects.select_related("mailbox").filter(pk=raw_id, state=RawMessage.State.PENDING).first()
    )
    try:
        return raw is not None and _process_one(raw, _mailboxes())
    except PassingFault:
        return False


def _process_one(raw: RawMessage, mailboxes: dict[str, Mailbox]) -> bool:
    """Reading and parsing happen before the write transaction, so the database write lock is held only
    for the inserts. A passing fault (passing_fault) defers the message and raises PassingFault; mail
    that cannot be processed is quarantined with the reason. Never raises for bad input."""
    raw_id = raw.pk
    try:
        data, parsed = _read_and_parse(raw)
        verdict = sender_verdict(raw, data)  # DNS lookups happen here, outside the write lock
        # A rolled-back message leaves no attachment file behind: retried on a full disk, copies of its
        # files would otherwise eat the space that is freed.
        with attachments_undo_on_error(), transaction.atomic():
            locked = (
                RawMessage.objects.select_for_update(skip_locked=True)
                .filter(pk=raw_id, state=RawMessage.State.PENDING)
                .values_list("pk", flat=True)
                .first()
            )
            if locked is None:  # another worker got there first
                return False
            _process(raw, data, parsed, mailboxes, verdict)
        return True
    except Quarantine as exc:
        why = str(exc)
        _settle(raw, lambda: _quarantine(raw_id, why))
        return True
    except IntegrityError as exc:
        # Another worker committed the same email (or customer) a moment ago: a conflict, not bad input.
        # Retry; the next pass sees the committed row and settles it (duplicate, or the same customer).
        conflict = f"conflict with a concurrent write: {exc}"
        return _settle(raw, lambda: _retry_or_quarantine(raw_id, conflict))
    except Exception as exc:
        fault = passing_fault(exc)
        if fault is not None:
            _defer(raw, fault)
        log.exception("raw %s: unexpected error while processing", raw_id)
        tail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        _settle(raw, lambda: _quarantine(raw_id, f"internal error: {tail[:900]}"))
        return True


def _settle(raw: RawMessage, write: Callable[[], bool | None]) -> bool:
    """Record the outcome; if the system fails while recording it, the message is deferred instead."""
    try:
        return bool(write())
    except Exception as exc:
        reason = passing_fault(exc)
        if reason is None:
            raise
        _defer(raw, reason)


def _defer(raw: RawMessage, reason: str) -> NoReturn:
    """Leave the message pending with the reason and a time to try again (never quarantined for a fault
    of ours), then raise PassingFault to pause the queue. If even that cannot be written (the disk is
    full), the lease runs out and the message is tried again all the same."""
    deferrals = raw.deferrals + 1
    delay = retry_delay(deferrals)
    try:
        with transaction.atomic():
            RawMessage.objects.filter(pk=raw.pk, state=RawMessage.State.PENDING).update(
                deferrals=deferrals,
                last_error=reason,
                retry_at=timezone.now() + timedelta(seconds=delay),
                claimed_by="",
                claimed_until=None,
            )
    except Exception as exc:
        log.warning("raw %s: could not record the deferral (%s); its lease will run out", raw.pk, exc)
    log.warning("raw %s deferred (%s), tried again in %ss: %s", raw.pk, deferrals, delay, reason)
    raise PassingFault(reason, delay)


MAX_CONFLICT_RETRIES = 3


def _retry_or_quarantine(raw_id: int, reason: str) -> bool:
    """Leave the message pending for another attempt, unless it has conflicted too often."""
    with transaction.atomic():
        raw = RawMessage.objects.select_for_update().get(pk=raw_id)
        raw.attempts += 1
        if raw.attempts >= MAX_CONFLICT_RETRIES:
            raw.save(update_fields=["attempts"])
            _quarantine(raw_id, f"{reason} (after {raw.attempts} attempts)")
            return True
        raw.claimed_by, raw.claimed_until = "", None
        raw.save(update_fields=["attempts", "claimed_by", "claimed_until"])
    log.info("raw %s: %s; will retry", raw_id, reason)
    return False


def _quarantine(raw_id: int, reason: str) -> None:
    with transaction.atomic():
        RawMessage.objects.filter(pk=raw_id).update(
            state=RawMessage.State.QUARANTINED,
            reason=reason[:2000],
            processed_at=timezone.now(),
            last_error="",  # it no longer waits for a fault to pass
            retry_at=None,
        )
    log.info("raw %s quarantined: %s", raw_id, reason)


def raw_reprocess(*, raw: RawMessage) -> None:
    """Put a quarantined message back in the queue (after a fix, or a mailbox was added)."""
    RawMessage.objects.filter(pk=raw.pk, state=RawMessage.State.QUARANTINED).update(
        state=RawMessage.State.PENDING, reason=f"reprocessing; was: {raw.reason}"[:2000], retry_at=None
    )


def _finish(raw: RawMessage, state: str, *, message: Message | None = None, reason: str = "") -> None:
    raw.state = state
    raw.message = message
    raw.reason = reason[:2000]
    raw.attempts += 1
    raw.processed_at = timezone.now()
    raw.last_error, raw.retry_at = "", None  # a fault it met on the way is over
    raw.save(
        update_fields=[
            "state",
            "message",
            "reason",
            "attempts",
            "processed_at",
            "auth",
            "last_error",
            "retry_at",
        ]
    )


def _read_and_parse(raw: RawMessage) -> tuple[bytes, ParsedEmail]:
    """The pure part of processing: no database writes, so it runs outside the write lock."""
    try:
        data = read_raw(raw)
    except OSError as exc:
        if passing_fault(exc) is not None:
            raise  # an I/O error of the disk, not of the message: deferred
        raise Quarantine(f"raw file unreadable: {exc}") from exc
    if len(data) > settings.HAPPYDESK_MAX_MESSAGE_BYTES:
        raise Quarantine(f"too large: {len(data)} bytes (limit {settings.HAPPYDESK_MAX_MESSAGE_BYTES})")
    try:
        return data, parse_email(data, limits=Limits())
    except ParseFailure as exc:
        raise Quarantine(f"{type(exc).__name__}: {exc.reason}") from exc


def sender_verdict(raw: RawMessage, data: bytes) -> AuthVerdict:
    """Who sent this, as far as can be shown. Mail that reached our own SMTP listener is checked by us
    (SPF for the client's IP and HELO, DKIM, DMARC, ARC), and any Authentication-Results it carries is
    ignored: the sender wrote it. Mail that came through another server (IMAP, the raw HTTP endpoint, an
    import) is believed only as far as a server we trust by its authserv-id says (RFC 8601)."""
    if raw.source == RawMessage.Source.SMTP:
        return verify_received(
            data, ip=raw.peer_ip or None, helo=raw.helo, mail_from=split_plus(raw.envelope_from)[0]
        )
    return verdict_from_headers(data, trusted_ids=settings.HAPPYDESK_TRUSTED_AUTHSERV_IDS)


def _process(
    raw: RawMessage, data: bytes, parsed: ParsedEmail, mailboxes: dict[str, Mailbox], verdict: AuthVerdict
) -> None:
    raw.auth = verdict.as_dict()
    mailbox = route_mailbox(parsed, raw, mailboxes)
    if mailbox is None:
        raise Quarantine("no mailbox of ours among the recipients")

    key = dedupe_key(mailbox=mailbox, message_id=parsed.message_id, chash=content_hash(data))
    existing = Message.objects.filter(dedupe_key=key).only("id").first()
    if existing is not None:
        _finish(
            raw, RawMessage.State.DUPLICATE, message=existing, reason=f"same email as message {existing.pk}"
        )
        return

    if parsed.is_bounce:
        _handle_bounce(raw, parsed, key)
        return

    sender = parsed.from_.address if parsed.from_ and parsed.from_.address else ""
    if not sender:
        sender = split_plus(raw.envelope_from)[0] if "@" in raw.envelope_from else ""
    if not sender:
        raise Quarantine("no sender address in From or the envelope")
    if sender in mailboxes or split_plus(sender)[0] in mailboxes:
        raise Quarantine(f"sent from our own address {sender}: not opening a conversation with ourselves")

    untrusted = []
    if parsed.from_defective:
        untrusted.append("the From header is defective")
    if not verdict.verified:
        untrusted.append(verdict.reason or "sender not verified")
    verified = verdict.verified and not parsed.from_defective
    failed = parsed.from_defective or (not verdict.verified and verdict.dmarc == "fail")
    recipients = tuple([a.address for a in [*parsed.to, *parsed.cc]] + [r.lower() for r in raw.envelope_to])
    facts = InboundFacts(
        sender=sender,
        verified=verified,
        failed=failed,
        untrusted_reason="; ".join(untrusted),
        recipients=recipients,
        in_reply_to=tuple(parsed.in_reply_to),
        references=tuple(parsed.references),
        subject=parsed.subject,
    )
    decision = decide(facts, mailbox)

    customer = customer_for_address(address=sender, name=parsed.from_.name if parsed.from_ else "")
    customer_note_utc_offset(customer=customer, offset=parsed.date.utcoffset() if parsed.date else None)
    ours = set(mailboxes)
    others = sorted(
        {a.address for a in [*parsed.to, *parsed.cc] if a.address and split_plus(a.address)[0] not in ours}
        - {sender}
    )
    conversation = decision.conversation
    is_new = conversation is None
    no_auto_reply = (
        autoreply.skip_reason(
            mailbox=mailbox,
            sender=sender,
            own_addresses=ours,
            automated=(parsed.auto_reason or "automated") if parsed.is_auto else None,
            # Never answer mail whose authentication failed: its From is likely forged (backscatter).
            # A sender who is merely not verified (no DMARC record) still hears from us, at their address.
            unverified=facts.failed,
        )
        if is_new
        else None
    )
    threading_reason = decision.reason + (f"; no auto-reply: {no_auto_reply}" if no_auto_reply else "")
    if conversation is None:
        conversation = inbox.conversation_open(
            mailbox=mailbox,
            customer=customer,
            subject=parsed.subject or "(no subject)",
            cc=others,
            unverified_reason="" if verified else facts.untrusted_reason,
            possibly_same_as=decision.pointed_at,
        )
    message = inbox.message_receive(
        conversation=conversation,
        customer=customer,
        from_name=parsed.from_.name if parsed.from_ else "",
        from_address=sender,
        subject=parsed.subject,
        text=parsed.new_text,
        quoted=parsed.quoted,
        html=parsed.html or "",
        to=[a.address for a in parsed.to],
        cc=[a.address for a in parsed.cc],
        message_id=parsed.message_id or "",
        in_reply_to=" ".join(parsed.in_reply_to),
        references=" ".join(parsed.references),
        dedupe_key=key,
        raw_id=raw.pk,
        threading_rule=decision.rule,
        threading_reason=threading_reason,
        sender_verified=verified,
        verification=_verification_line(verdict, parsed.from_defective),
        automated=parsed.auto_reply,
        attachments=[
            inbox.NewAttachment(a.filename, a.content_type, a.data, a.content_id, a.inline)
            for a in parsed.attachments
        ],
    )
    if is_new and parsed.auto_reply:
        # An automatic reply that answers nothing we can find: filed closed, tagged, nobody woken.
        inbox.conversation_set_status(
            conversation=conversation, actor=None, status=Conversation.Status.CLOSED
        )
        inbox.conversation_tag(conversation=conversation, names=["automated"])
    _finish(raw, RawMessage.State.PROCESSED, message=message)
    if is_new and no_auto_reply is None:
        offset = parsed.date.utcoffset() if parsed.date is not None else None
        autoreply.send(conversation=conversation, message=message, customer_offset=offset)


def _verification_line(verdict: AuthVerdict, from_defective: bool) -> str:
    """One line for the agent: how the sender was verified, or why not."""
    if from_defective:
        return "not verified: the From header is defective"
    if verdict.verified:
        return f"verified: {verdict.summary}"
    return f"not verified: {verdict.reason}" + (f" ({verdict.summary})" if verdict.summary else "")


def _handle_bounce(raw: RawMessage, parsed: ParsedEmail, key: str) -> None:
    """A delivery failure attaches to the reply that bounced and marks it failed; no new conversation."""
    from happydesk.mail import outbound

    original = (
        Message.objects.filter(
            message_id__in=parsed.bounce_original_message_ids,
            kind__in=[Message.Kind.REPLY, Message.Kind.AUTO_REPLY],
        )
        .select_related("conversation")
        .first()
    )
    if original is None:
        raise Quarantine(
            "bounce for a message we did not send or cannot identify"
            + (
                f" (original ids: {', '.join(parsed.bounce_original_message_ids)})"
                if parsed.bounce_original_message_ids
                else ""
            )
        )
    diagnostic = parsed.bounce_diagnostic or parsed.bounce_status or "delivery failed"
    event = outbound.bounce_record(
        message=original,
        recipient=parsed.bounce_recipient or "",
        status=parsed.bounce_status or "",
        diagnostic=diagnostic,
        raw_id=raw.pk,
        dedupe_key=key,
    )
    _finish(raw, RawMessage.State.PROCESSED, message=event, reason=f"bounce of message {original.pk}")
