"""Step 3 of the flow: compose and send replies and notices through the outbox.

The inbox stores a reply as queued (inbox.services.reply_create) and announces ReplyCreated; after the
commit the mail app's receiver writes its OutboundMail row (reply_enqueue), and the outbox sweep writes
any that a crash between commit and receiver left out. The worker claims due rows with a short lease,
sends, and records the delivery state on the message.
"""

from __future__ import annotations

import contextlib
import html as html_lib
import logging
import smtplib
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from happydesk.accounts.models import User
from happydesk.headers import header_text
from happydesk.inbox.models import Conversation, Mailbox, Message
from happydesk.mail.models import OutboundMail

log = logging.getLogger(__name__)

# Seconds to wait after each failed attempt; after the last one the message is marked failed.
BACKOFF = [30, 120, 600, 1800, 3600, 7200, 14400, 28800]
LEASE = timedelta(minutes=5)


def outbox_enqueue(
    *, message: Message, footer: tuple[str, str] | None = None, not_before: datetime | None = None
) -> OutboundMail:
    """Queue a reply or auto-reply for sending, once: a second call returns the row already there.
    `footer` (text, HTML) goes after the reply and before the conversation link (the rating question);
    `not_before` holds it in the outbox until then (the auto-reply's hold)."""
    text, html = footer or ("", "")
    defaults: dict[str, object] = {"footer_text": text, "footer_html": html}
    if not_before is not None:
        defaults["next_attempt_at"] = not_before
    hold = settings.HAPPYDESK_UNDO_SEND_SECONDS
    if hold > 0 and message.kind == Message.Kind.REPLY:
        # Undo send: no worker may pick the reply before the hold ends (send_due wants next_attempt_at
        # in the past); reply_undo may cancel it until a worker has claimed it.
        until = message.created_at + timedelta(seconds=hold)
        defaults.update(hold_until=until, next_attempt_at=until)
    row, _ = OutboundMail.objects.get_or_create(message=message, defaults=defaults)
    return row


class AlreadySent(Exception):
    """Undo came too late: a worker has claimed the reply (it is leaving or has left)."""


def reply_undo(*, message: Message, actor: User) -> str:
    """Undo send: cancel the reply's outbox row and take the reply back into the composer as a draft.

    The race with a worker is settled by the database, not by timing: the cancel is one conditional
    UPDATE that succeeds only while the row is still queued and untouched by a claim (a claim moves
    next_attempt_at away from hold_until, and itself requires state queued). Whichever UPDATE commits
    first wins; the other changes no row. Raises AlreadySent when the worker won."""
    from happydesk.inbox.services import reply_withdraw

    with transaction.atomic():
        cancelled = OutboundMail.objects.filter(
            message=message,
            state=OutboundMail.State.QUEUED,
            attempts=0,
            hold_until__isnull=False,
            next_attempt_at=F("hold_until"),
        ).update(state=OutboundMail.State.CANCELLED)
        if not cancelled:
            raise AlreadySent("this reply has already left")
        return reply_withdraw(message=message, actor=actor)


def forward_enqueue(
    *,
    conversation: Conversation,
    actor: User,
    to: Sequence[str],
    note: str,
    message: Message | None = None,
) -> OutboundMail:
    """Forward the conversation (or one message of it) to someone outside, with a note, quoting the
    messages and carrying the attachments of the one forwarded (or of the latest customer message).

    Threading on purpose: it goes out with its own Message-ID and no Reply-To carrying this
    conversation's token, In-Reply-To or References, so when the recipient answers, their mail reaches
    the mailbox as a new conversation and never lands in the customer's thread."""
    from happydesk.inbox.services import forward_record

    public = conversation.messages.filter(kind__in=Message.PUBLIC_KINDS).order_by("created_at", "id")
    quoted = [message] if message is not None else list(public)
    carrier = message or public.filter(kind=Message.Kind.CUSTOMER).last()
    lines = [note.strip(), "", f"---------- Forwarded conversation #{conversation.number} ----------"]
    lines.append(f"Subject: {conversation.subject}")
    for m in quoted:
        lines += ["", f"From: {m.from_name} <{m.from_address}>" if m.from_name else f"From: {m.from_address}"]
        lines += [f"Date: {m.created_at:%a, %d %b %Y %H:%M}", ""]
        lines += [m.text.rstrip()]
    text = "\n".join(lines).strip() + "\n"
    with transaction.atomic():
        forward_record(conversation=conversation, actor=actor, to=to, note=note)
        name = f"{actor.name} via {conversation.mailbox.name}".replace('"', "")
        return OutboundMail.objects.create(
            kind="forward",
            to=list(to),
            subject=header_text(f"Fwd: {conversation.subject or 'conversation'} [#{conversation.number}]")[
                :998
            ],
            body_text=text,
            body_html=_html_body(text),
            from_email=f'"{header_text(name)}" <{conversation.mailbox.address}>'[:400],
            attachments_of=carrier,
        )


def reply_enqueue(*, message_id: int, footer: tuple[str, str] | None = None) -> OutboundMail | None:
    """The ReplyCreated receiver's part: queue this reply in the outbox if it still waits for one."""
    message = Message.objects.filter(pk=message_id, delivery=Message.Delivery.QUEUED).first()
    if message is None:
        return None
    return outbox_enqueue(message=message, footer=footer)


SWEEP_AFTER = timedelta(seconds=30)


def replies_unqueued_enqueue(*, older_than: timedelta = SWEEP_AFTER) -> int:
    """Queue every reply stored as queued that has no outbox row after `older_than` (its process ended
    between the commit and the receiver): no reply is ever left unsent. Returns how many it queued."""
    stale = Message.objects.filter(
        delivery=Message.Delivery.QUEUED,
        kind__in=[Message.Kind.REPLY, Message.Kind.AUTO_REPLY],
        created_at__lt=timezone.now() - older_than,
        outbound__isnull=True,
    )
    count = 0
    for message in stale[:500]:
        log.warning("reply %s had no outbox row; queued by the sweep", message.pk)
        with transaction.atomic():
            outbox_enqueue(message=message)
        count += 1
    return count


def _mailbox_from(mailbox: Mailbox) -> str:
    name = " ".join(mailbox.name.replace('"', "").split())  # one line, nothing that breaks the quoting
    named = f'"{name}" <{mailbox.address}>'
    return named if name and len(named) <= 400 else mailbox.address  # 400: OutboundMail.from_email


def notice_sender(mailbox: Mailbox | None = None) -> str:
    """Who one of our own notices comes from: the mailbox it concerns, else the configured sender
    (HAPPYDESK_FROM_EMAIL), else the first mailbox, else DEFAULT_FROM_EMAIL (only while no mailbox exists)."""
    if mailbox is None:
        if settings.HAPPYDESK_FROM_EMAIL:
            return settings.HAPPYDESK_FROM_EMAIL
        mailbox = Mailbox.objects.order_by("pk").first()
        if mailbox is None:
            return settings.DEFAULT_FROM_EMAIL
    return _mailbox_from(mailbox)


@transaction.atomic(savepoint=False)
def notice_enqueue(
    *,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str = "",
    kind: str = "",
    headers: dict[str, str] | None = None,
    from_email: str = "",
    mailbox: Mailbox | None = None,
    dedupe_key: str | None = None,
) -> OutboundMail:
    """Queue an email that is not a conversation reply (status updates, alerts, digests) in the same
    outbox, written in the caller's transaction and sent with the same retries. It comes from
    `from_email`, else from `mailbox`, else from the default sender when it is sent (notice_sender). With a `dedupe_key` the
    notice is queued at most once, however often this is called: the existing row is returned."""
    if dedupe_key:
        existing = OutboundMail.objects.filter(dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
    return OutboundMail.objects.create(
        kind=kind[:40],
        to=list(to),
        subject=header_text(subject)[:998],
        body_text=text,
        body_html=html or _html_body(text),
        headers=headers or {},
        # Without a mailbox the default sender is resolved when the mail is composed (compose_notice):
        # no query per notice when thousands are queued at once.
        from_email=from_email or (notice_sender(mailbox) if mailbox is not None else ""),
        dedupe_key=dedupe_key or None,
    )


@transaction.atomic
def notices_cancel(*, dedupe_key_prefix: str) -> int:
    """Cancel queued or retrying notices whose key starts with this prefix (a subscriber who left)."""
    return OutboundMail.objects.filter(
        dedupe_key__startswith=dedupe_key_prefix,
        state__in=[OutboundMail.State.QUEUED, OutboundMail.State.RETRY],
    ).update(state=OutboundMail.State.CANCELLED)


def compose_notice(row: OutboundMail) -> EmailMultiAlternatives:
    """The email of a queued notice, with a stable Message-ID so a retry is recognisably the same."""
    domain = settings.BASE_HOST or "localhost"
    headers = {"Message-ID": f"<notice-{row.pk}@{domain}>", "Auto-Submitted": "auto-generated", **row.headers}
    email = EmailMultiAlternatives(
        subject=header_text(row.subject),
        body=row.body_text,
        from_email=header_text(row.from_email or notice_sender()),  # the default sender, as it is now
        to=[header_text(a) for a in row.to],
        headers=_one_line_headers(headers),
    )
    if row.body_html:
        email.attach_alternative(row.body_html, "text/html")
    if row.attachments_of is not None:
        for attachment in row.attachments_of.attachments.all():
            with attachment.file.open("rb") as fh:
                email.attach(attachment.filename, fh.read(), attachment.content_type)
    return email


def conversation_link(conversation: Conversation) -> str:
    """The customer's link straight to this conversation in the portal: signed for that customer and
    conversation, it expires after HAPPYDESK_PORTAL_LINK_DAYS days (accounts.portal)."""
    from django.urls import reverse

    from happydesk.accounts.portal import conversation_link_value

    value = conversation_link_value(token=conversation.token, customer_id=conversation.customer_id)
    return settings.BASE_URL + reverse("portal_link", args=[value])


def _text_body(message: Message) -> str:
    return message.text.rstrip() + _text_tail(message)


def _text_tail(message: Message) -> str:
    """What follows the reply itself: the mailbox's signature (agents' replies) and the portal link."""
    signature = message.conversation.mailbox.signature.strip()
    tail = "\n\n" + signature if signature and message.kind == Message.Kind.REPLY else ""
    return tail + f"\n\n--\nSee the whole conversation: {conversation_link(message.conversation)}\n"


def _html_paragraphs(text: str) -> str:
    paragraphs = [p for p in text.strip().split("\n\n") if p.strip()]
    return "".join("<p>" + html_lib.escape(p).replace("\n", "<br>\n") + "</p>\n" for p in paragraphs)


def _html_body(text: str, *, inner: str | None = None) -> str:
    """The HTML part: `text` as paragraphs, or `inner` (already sanitized HTML) as it is."""
    inner = _html_paragraphs(text) if inner is None else inner
    return (
        '<!doctype html><html><body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;'
        'font-size:15px;line-height:1.5;color:#1f2328">' + inner + "</body></html>"
    )


def compose(message: Message, footer: tuple[str, str] = ("", "")) -> EmailMultiAlternatives:
    """The email for a reply or auto-reply, with the headers that make the answer thread back, and the
    footer a feature added when it was queued (text, HTML), after the reply and before the link."""
    conversation = message.conversation
    mailbox = conversation.mailbox
    name = f"{message.author.name} via {mailbox.name}" if message.author else mailbox.name
    from_header = f'"{header_text(name).replace(chr(34), "")}" <{mailbox.address}>'
    text = _text_body(message)
    headers = {
        "Message-ID": f"<{message.message_id}>",
        "Reply-To": mailbox.reply_address(conversation.reply_token),
    }
    if message.in_reply_to:
        headers["In-Reply-To"] = f"<{message.in_reply_to}>"
    if message.references:
        headers["References"] = " ".join(f"<{r}>" for r in message.references.split())
    if message.kind == Message.Kind.AUTO_REPLY:
        headers["Auto-Submitted"] = "auto-replied"
        headers["X-Auto-Response-Suppress"] = "All"
        headers["Precedence"] = "auto_reply"
    email = EmailMultiAlternatives(
        subject=header_text(message.subject),  # rows stored before intake cleaned subjects, too
        body=text,
        from_email=from_header,
        to=[header_text(a) for a in message.to],
        cc=[header_text(a) for a in message.cc],
        bcc=[header_text(a) for a in message.bcc],  # Django puts these in the envelope only, no header
        headers=_one_line_headers(headers),
    )
    # A formatted reply (light Markdown, rendered and sanitized when stored) becomes the HTML part; the
    # text part stays as the agent wrote it.
    html = (
        _html_body(text, inner=message.html + _html_paragraphs(_text_tail(message)))
        if message.html and message.kind == Message.Kind.REPLY
        else _html_body(text)
    )
    if footer[0]:
        email.body = text + "\n" + footer[0] + "\n"
        html = html.replace("</body>", footer[1] + "</body>")
    email.attach_alternative(html, "text/html")
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as fh:
            email.attach(attachment.filename, fh.read(), attachment.content_type)
    return email


def _one_line_headers(headers: dict[str, str]) -> dict[str, str]:
    """Header values on one line: what we send is never refused (BadHeaderError) nor carries a header
    someone typed in."""
    return {header_text(name): header_text(str(value)) for name, value in headers.items()}


def _claim(row_id: int) -> bool:
    now = timezone.now()
    with transaction.atomic():
        return bool(
            OutboundMail.objects.filter(
                pk=row_id,
                state__in=[OutboundMail.State.QUEUED, OutboundMail.State.RETRY],
                next_attempt_at__lte=now,
            ).update(next_attempt_at=now + LEASE)
        )


def send_due(*, limit: int = 50) -> int:
    """Send outbox rows that are due; returns how many were attempted."""
    now = timezone.now()
    ids = list(
        OutboundMail.objects.filter(
            Q(state=OutboundMail.State.QUEUED) | Q(state=OutboundMail.State.RETRY), next_attempt_at__lte=now
        )
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    attempted = 0
    connection = None
    for row_id in ids:
        if not _claim(row_id):
            continue
        attempted += 1
        row = OutboundMail.objects.select_related("message__conversation__mailbox", "message__author").get(
            pk=row_id
        )
        try:
            if connection is None:
                connection = get_connection()
            email = (
                compose(row.message, (row.footer_text, row.footer_html))
                if row.message is not None
                else compose_notice(row)
            )
            email.connection = connection
            email.send()
        except Exception as exc:  # every failure is recorded on the message, none is lost
            connection = None
            _record_failure(row, exc)
        else:
            _record_sent(row)
            log.info("outbound %s sent", row.pk)  # which worker sent which row, in that worker's log
    if connection is not None:
        with contextlib.suppress(Exception):  # closing a finished connection must not mask the sends
            connection.close()
    return attempted


def _permanent(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


@transaction.atomic
def _record_sent(row: OutboundMail) -> None:
    now = timezone.now()
    row.state = OutboundMail.State.SENT
    row.attempts += 1
    row.sent_at = now
    row.last_error = ""
    row.save(update_fields=["state", "attempts", "sent_at", "last_error"])
    if row.message_id:
        Message.objects.filter(pk=row.message_id).update(
            delivery=Message.Delivery.SENT, sent_at=now, delivery_error=""
        )


@transaction.atomic
def _record_failure(row: OutboundMail, exc: Exception) -> None:
    row.attempts += 1
    reason = f"{type(exc).__name__}: {exc}"[:2000]
    row.last_error = reason
    if _permanent(exc) or row.attempts > len(BACKOFF):
        row.state = OutboundMail.State.FAILED
        delivery = Message.Delivery.FAILED
    else:
        row.state = OutboundMail.State.RETRY
        row.next_attempt_at = timezone.now() + timedelta(seconds=BACKOFF[row.attempts - 1])
        delivery = Message.Delivery.RETRY
    row.save(update_fields=["state", "attempts", "last_error", "next_attempt_at"])
    if row.message_id:
        Message.objects.filter(pk=row.message_id).update(delivery=delivery, delivery_error=reason)
    log.warning("outbound %s attempt %s failed: %s", row.pk, row.attempts, reason)


@transaction.atomic
def outbox_retry_now(*, message: Message) -> None:
    """An agent asks to try a failed or retrying reply again now."""
    OutboundMail.objects.filter(message=message).exclude(state=OutboundMail.State.SENT).update(
        state=OutboundMail.State.RETRY, next_attempt_at=timezone.now()
    )
    Message.objects.filter(pk=message.pk).update(delivery=Message.Delivery.RETRY)


@transaction.atomic
def bounce_record(
    *, message: Message, recipient: str, status: str, diagnostic: str, raw_id: int, dedupe_key: str
) -> Message:
    """Mark a sent reply as failed because it bounced, with an event line in its conversation."""
    Message.objects.filter(pk=message.pk).update(
        delivery=Message.Delivery.FAILED, delivery_error=f"bounced: {diagnostic}"[:2000]
    )
    OutboundMail.objects.filter(message=message).update(
        state=OutboundMail.State.FAILED, last_error=diagnostic[:2000]
    )
    return Message.objects.create(
        conversation=message.conversation,
        kind=Message.Kind.EVENT,
        event={
            "type": "bounce",
            "reply_id": message.pk,
            "recipient": recipient,
            "status": status,
            "diagnostic": diagnostic[:500],
        },
        raw_id=raw_id,
        dedupe_key=dedupe_key,
        threading_rule="bounce",
        threading_reason=f"delivery report for message {message.message_id}",
    )
