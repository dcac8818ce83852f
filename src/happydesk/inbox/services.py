"""Every change to conversations and messages goes through these functions (one transaction each)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from happydesk.accounts.models import User
from happydesk.audit import services as audit
from happydesk.audit.models import Action
from happydesk.customers.models import Customer
from happydesk.headers import header_text
from happydesk.inbox import events
from happydesk.inbox.access import conversations_for_agent
from happydesk.inbox.indexing import document_append, reindex_conversations
from happydesk.inbox.models import (
    Attachment,
    Conversation,
    ConversationSeen,
    Draft,
    Mailbox,
    Message,
    SavedView,
    Tag,
)
from happydesk.inbox.placeholders import check_filled
from happydesk.inbox.security import security_check
from happydesk.inbox.triage import Priority, standing
from happydesk.web.markdown import render_markdown


class NewActivity(Exception):
    """Someone else wrote in the conversation after the agent opened it; sending needs a confirmation."""

    def __init__(self, messages: list[Message]) -> None:
        self.messages = messages
        super().__init__(f"{len(messages)} new message(s) since you opened the conversation")


@dataclass(frozen=True)
class NewAttachment:
    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None
    inline: bool = False


def preview_text(text: str) -> str:
    return " ".join(text.split())[:280]


def _latest_from_customer(conversation: Conversation) -> tuple[str, bool]:
    """The customer's latest message text, and whether it is their first (one query)."""
    texts = list(
        conversation.messages.filter(kind=Message.Kind.CUSTOMER)
        .order_by("-created_at", "-id")
        .values_list("text", flat=True)[:2]
    )
    if not texts:
        return conversation.preview, True
    return texts[0], len(texts) == 1


def standing_of(
    conversation: Conversation,
    *,
    latest: str | None = None,
    first: bool = True,
    customer: Customer | None = None,
) -> Priority:
    """The clock-free triage standing (inbox/triage.py) from what the customer said last: `latest`, their
    newest message (looked up when not given), with the subject counting only while it is their `first`.
    `customer`, when it is the conversation's own and already loaded, saves fetching it again. While the
    sender is unverified the customer's VIP or plan earns nothing: anyone can type a VIP's address."""
    if conversation.unverified:
        attributes: dict = {}
    else:
        if customer is None or customer.pk != conversation.customer_id:
            customer = conversation.customer
        attributes = customer.attributes
    if latest is None:
        latest, first = _latest_from_customer(conversation)
    return standing(
        feeling=conversation.feeling,
        text=latest,
        subject=conversation.subject if first else "",
        attributes=attributes,
    )


def standing_fields(
    conversation: Conversation,
    *,
    latest: str | None = None,
    first: bool = True,
    customer: Customer | None = None,
) -> dict:
    """The stored triage fields for this conversation's current state (see standing_of)."""
    fixed = standing_of(conversation, latest=latest, first=first, customer=customer)
    return {"priority_points": int(fixed.score), "priority_reasons": fixed.reasons}


def conversation_standing_refresh(conversation: Conversation) -> None:
    """Store the triage standing again after its inputs changed (feeling, preview, customer)."""
    fields = standing_fields(conversation)
    Conversation.objects.filter(pk=conversation.pk).update(**fields)
    for name, value in fields.items():
        setattr(conversation, name, value)


def conversations_standing_refresh(conversations: Iterable[Conversation]) -> int:
    """Store the triage standing again for many conversations (after a customer's attributes changed)."""
    rows = []
    for c in conversations:
        for name, value in standing_fields(c).items():
            setattr(c, name, value)
        rows.append(c)
    Conversation.objects.bulk_update(rows, ["priority_points", "priority_reasons"], batch_size=500)
    return len(rows)


@transaction.atomic
def customer_attributes_set(*, customer: Customer, attributes: dict) -> Customer:
    """Replace the customer's attributes (plan, VIP, seats...); their open conversations' triage standing
    follows, since VIP and plan count in it."""
    customer.attributes = dict(attributes)
    customer.save(update_fields=["attributes"])
    conversations_standing_refresh(customer.conversations.exclude(status="closed"))
    return customer


@transaction.atomic
def conversation_feeling_set(*, conversation: Conversation, feeling: str) -> Conversation:
    """Record how the customer says they feel (form, widget, or an agent's reading); triage follows."""
    if feeling and feeling not in Conversation.Feeling.values:
        raise ValueError(f"unknown feeling {feeling!r}")
    conversation.feeling = feeling
    conversation.save(update_fields=["feeling"])
    conversation_standing_refresh(conversation)
    return conversation


# Files attachments_add wrote inside an attachments_undo_on_error block, to delete if the block fails.
_files_written: ContextVar[list[str] | None] = ContextVar("attachment_files_written", default=None)


@contextmanager
def attachments_undo_on_error() -> Iterator[None]:
    """Around a transaction that may add attachments: if it fails (its rows roll back), delete the files
    attachments_add wrote in it, so a message retried after a fault (a full disk) leaves no copies."""
    storage = Attachment._meta.get_field("file").storage
    token = _files_written.set([])
    try:
        yield
    except BaseException:
        for name in _files_written.get() or ():
            with suppress(OSError):
                storage.delete(name)
        raise
    finally:
        _files_written.reset(token)


def attachments_add(*, message: Message, attachments: Iterable[NewAttachment]) -> list[Attachment]:
    """Store files through Django's storage API and link them to the message. A file that cannot be
    written whole (disk full) is removed, not left half-written."""
    rows = []
    written = _files_written.get()
    for item in attachments:
        row = Attachment(
            message=message,
            filename=(item.filename or "attachment")[:255],
            content_type=(item.content_type or "application/octet-stream")[:255],
            size=len(item.data),
            content_id=(item.content_id or "")[:255],
            inline=item.inline,
        )
        # attachment_path puts each file in a folder of its own (a random name), so this name is the
        # one the storage writes to, and the one to remove if writing fails.
        name = row.file.field.generate_filename(row, _safe_filename(row.filename))
        try:
            row.file.name = row.file.storage.save(
                name, ContentFile(item.data), max_length=row.file.field.max_length
            )
        except BaseException:
            with suppress(OSError):
                row.file.storage.delete(name)
            raise
        if written is not None:
            written.append(row.file.name)
        row.save()
        rows.append(row)
    return rows


def _safe_filename(name: str) -> str:
    keep = "".join(c if c.isalnum() or c in "._- " else "_" for c in name).strip(" .")
    return keep[-120:] or "file"


@transaction.atomic(savepoint=False)  # joins the caller's transaction: no savepoint round trips
def conversation_open(
    *,
    mailbox: Mailbox,
    customer: Customer,
    subject: str,
    channel: str = Conversation.Channel.EMAIL,
    cc: Sequence[str] = (),
    unverified_reason: str = "",
    possibly_same_as: Conversation | None = None,
    at: datetime | None = None,
) -> Conversation:
    """Start a new conversation; the first message is added with message_receive. A reason makes it
    unverified: the sender could not be shown to be who they say (docs/security.md)."""
    at = at or timezone.now()
    return Conversation.objects.create(
        mailbox=mailbox,
        customer=customer,
        subject=header_text(subject)[:998],  # every reply's Subject comes from it: one line
        channel=channel,
        cc=sorted(set(cc)),
        unverified=bool(unverified_reason),
        unverified_reason=unverified_reason[:300],
        possibly_same_as=possibly_same_as,
        created_at=at,
        last_activity_at=at,
    )


@transaction.atomic(savepoint=False)  # joins the caller's transaction: no savepoint round trips
def message_receive(
    *,
    conversation: Conversation,
    customer: Customer,
    from_name: str,
    from_address: str,
    subject: str,
    text: str,
    quoted: str = "",
    html: str = "",
    to: Sequence[str] = (),
    cc: Sequence[str] = (),
    message_id: str = "",
    in_reply_to: str = "",
    references: str = "",
    dedupe_key: str | None = None,
    raw_id: int | None = None,
    threading_rule: str = "",
    threading_reason: str = "",
    attachments: Iterable[NewAttachment] = (),
    sender_verified: bool = False,
    verification: str = "",
    automated: bool = False,
    at: datetime | None = None,
) -> Message:
    """Add a customer's message; a closed or pending conversation becomes active again. `verification`
    says how the sender was shown to be who they are, or why not (`sender_verified`). An `automated`
    message (an out-of-office reply) is filed in the thread without waking anyone: the status, snooze,
    waiting time, preview and triage standing stay as they were."""
    at = at or timezone.now()
    message = Message.objects.create(
        conversation=conversation,
        kind=Message.Kind.CUSTOMER,
        customer=customer,
        from_name=header_text(from_name)[:300],
        from_address=from_address[:320],
        to=list(to),
        cc=list(cc),
        subject=header_text(subject)[:998],
        text=text,
        quoted=quoted,
        html=html,
        message_id=message_id[:998],
        in_reply_to=in_reply_to[:998],
        references=references,
        dedupe_key=dedupe_key,
        raw_id=raw_id,
        threading_rule=threading_rule,
        threading_reason=threading_reason[:500],
        sender_verified=sender_verified,
        verification=verification[:300],
        created_at=at,
    )
    attachments_add(message=message, attachments=attachments)
    document_append(
        conversation_id=conversation.pk,
        subject=conversation.subject,
        text=text,
        who=f"{from_name} {from_address}",
    )
    if automated:
        return _automated_filed(conversation, message, cc)
    if conversation.snoozed_until is not None:
        _event(conversation, None, "snooze_ended", {"by": "customer"}, at)
        conversation.snoozed_until = None
    if (
        conversation.status in (Conversation.Status.CLOSED, Conversation.Status.PENDING)
        and conversation.message_count
    ):
        _event(conversation, None, "reopened", {"from": conversation.status, "by": "customer"}, at)
        conversation.status = Conversation.Status.ACTIVE
        conversation.resolved_at = None
    extra_cc = sorted(set(conversation.cc) | {a for a in cc if a and a != conversation.mailbox.address})
    preview = preview_text(text)
    # Triage reads what the customer says now; the subject only while this is their first message.
    # A thank-you that closes the matter ("perfect, all sorted") leaves nobody waiting for an answer.
    fixed = standing_of(conversation, latest=text, first=not conversation.message_count, customer=customer)
    waiting_since = None if fixed.done else (conversation.waiting_since or at)
    Conversation.objects.filter(pk=conversation.pk).update(
        status=conversation.status,
        snoozed_until=conversation.snoozed_until,
        resolved_at=conversation.resolved_at,
        last_activity_at=at,
        last_customer_message_at=at,
        waiting_since=waiting_since,
        preview=preview,
        message_count=F("message_count") + 1,
        cc=extra_cc,
        priority_points=int(fixed.score),
        priority_reasons=fixed.reasons,
    )
    conversation.waiting_since = waiting_since
    conversation.last_activity_at = conversation.last_customer_message_at = at
    conversation.preview, conversation.cc = preview, extra_cc
    conversation.message_count += 1  # the row was updated atomically; this mirrors it for the caller
    # Flagged before this transaction commits, so no light agent can list a security report first.
    security_check(conversation=conversation, subject=message.subject or conversation.subject, text=text)
    events.announce(
        events.MessageReceived(
            conversation_id=conversation.pk, message_id=message.pk, opened=conversation.message_count == 1
        )
    )
    return message


def _automated_filed(conversation: Conversation, message: Message, cc: Sequence[str]) -> Message:
    """message_receive's end for an automatic reply: counted in the thread, nothing else moves."""
    first = conversation.message_count == 0
    Conversation.objects.filter(pk=conversation.pk).update(
        message_count=F("message_count") + 1,
        **({"preview": preview_text(message.text)} if first else {}),
    )
    conversation.message_count += 1
    events.announce(
        events.MessageReceived(
            conversation_id=conversation.pk, message_id=message.pk, opened=first, automated=True
        )
    )
    return message


def _event(
    conversation: Conversation, actor: User | None, what: str, data: dict, at: datetime | None = None
) -> Message:
    return Message.objects.create(
        conversation=conversation,
        kind=Message.Kind.EVENT,
        author=actor,
        event={"type": what, **data},
        created_at=at or timezone.now(),
    )


MAX_REFERENCES = 20


def new_message_id(conversation: Conversation) -> str:
    return f"hd.{conversation.pk}.{secrets.token_hex(8)}@{settings.HAPPYDESK_MESSAGE_ID_DOMAIN}"


def _thread_parent(conversation: Conversation) -> Message | None:
    """The customer's latest message: our reply answers it."""
    return (
        conversation.messages.filter(kind=Message.Kind.CUSTOMER)
        .exclude(message_id="")
        .order_by("-created_at", "-id")
        .first()
    )


def reply_subject(subject: str, number: int) -> str:
    subject = subject or "Your message"
    if not subject.lower().startswith(("re:", "aw:", "sv:")):
        subject = f"Re: {subject}"
    tag = f"[#{number}]"
    return subject if tag in subject else f"{subject} {tag}"


def reply_message_build(
    *,
    conversation: Conversation,
    author: User | None,
    text: str,
    at: datetime,
    kind: str = Message.Kind.REPLY,
    parent: Message | None = None,
    cc: Sequence[str] | None = None,
    bcc: Sequence[str] = (),
) -> Message:
    """Create the reply row with everything needed to thread it: our Message-ID, In-Reply-To, References.
    `parent` is the customer message being answered (default: their latest). `cc` replaces the
    conversation's copy list for this reply; `bcc` is stored on the reply and only goes in the envelope.
    An agent's reply is light Markdown: its HTML part is rendered (and sanitized) here, the text kept."""
    parent = parent or _thread_parent(conversation)
    references: list[str] = []
    in_reply_to = ""
    if parent is not None:
        references = [r for r in parent.references.split() if r] + [parent.message_id]
        in_reply_to = parent.message_id
    references = references[-MAX_REFERENCES:]
    to = parent.from_address if parent is not None else conversation.customer.primary_email
    return Message.objects.create(
        conversation=conversation,
        kind=kind,
        author=author,
        from_name=author.name if author else conversation.mailbox.name,
        from_address=conversation.mailbox.address,
        to=[to],
        cc=list(conversation.cc if cc is None else cc),
        bcc=list(bcc),
        subject=header_text(reply_subject(conversation.subject, conversation.number)),
        text=text,
        html=render_markdown(text) if kind == Message.Kind.REPLY else "",
        message_id=new_message_id(conversation),
        in_reply_to=in_reply_to,
        references=" ".join(references),
        delivery=Message.Delivery.QUEUED,
        created_at=at,
    )


@transaction.atomic
def reply_create(
    *,
    conversation: Conversation,
    author: User,
    text: str,
    attachments: Iterable[NewAttachment] = (),
    status: str | None = None,
    snooze_until: datetime | None = None,
    seen_message_id: int | None = None,
    take: bool = False,
    cc: Sequence[str] | None = None,
    bcc: Sequence[str] = (),
    at: datetime | None = None,
) -> Message:
    """Store an agent's reply, queued for delivery; ReplyCreated hands it to the channel (the mail app
    queues it in the outbox, with the rating question when one is asked).

    `status` optionally changes the conversation in the same action (send and close, send and pending).
    `take` ("Take it when I reply") makes the author its owner if nobody owns it yet.
    Refused with UnfilledPlaceholders while the text has any placeholder left.
    """
    check_filled(text)  # raises UnfilledPlaceholders: "Hi [NAME]" never reaches a customer
    if seen_message_id is not None:
        # The send guard: a customer message, or another agent's reply or note, that arrived after the
        # agent's view of the thread must be seen first (two agents never both answer unknowingly).
        newer = list(
            conversation.messages.filter(pk__gt=seen_message_id)
            .exclude(kind=Message.Kind.EVENT)
            .exclude(author=author)
            .order_by("id")
        )
        if newer:
            raise NewActivity(newer)
    Draft.objects.filter(conversation=conversation, agent=author).delete()  # discarded on send
    at = at or timezone.now()
    message = reply_message_build(conversation=conversation, author=author, text=text, at=at, cc=cc, bcc=bcc)
    attachments_add(message=message, attachments=attachments)
    document_append(conversation_id=conversation.pk, subject=conversation.subject, text=text)
    updates: dict = {"last_activity_at": at, "message_count": F("message_count") + 1, "waiting_since": None}
    if conversation.first_response_at is None:
        updates["first_response_at"] = at
    new_status = status or (
        Conversation.Status.PENDING
        if conversation.status == Conversation.Status.ACTIVE
        else conversation.status
    )
    before = conversation.status
    if new_status != conversation.status:
        _event(conversation, author, "status", {"from": conversation.status, "to": new_status}, at)
        updates["status"] = new_status
        if new_status == Conversation.Status.CLOSED:
            updates["resolved_at"] = at
    if snooze_until is not None:
        _event(conversation, author, "snoozed", {"until": snooze_until.isoformat()}, at)
        updates["snoozed_until"] = snooze_until
    Conversation.objects.filter(pk=conversation.pk).update(**updates)
    conversation.refresh_from_db()
    if take and conversation.assignee_id is None:
        conversation_assign(conversation=conversation, assignee=author, actor=author)
    closing = conversation.status == Conversation.Status.CLOSED
    events.announce(
        events.ReplyCreated(
            conversation_id=conversation.pk, message_id=message.pk, author_id=author.pk, closing=closing
        )
    )
    if conversation.status != before:
        events.announce(
            events.StatusChanged(
                conversation_id=conversation.pk, actor_id=author.pk, before=before, after=conversation.status
            )
        )
    return message


@transaction.atomic
def note_add(*, conversation: Conversation, author: User, text: str) -> Message:
    """A private note: visible to the team, never sent to the customer."""
    mentioned = [a for a in mentioned_agents(text) if a.pk != author.pk]
    note = Message.objects.create(
        conversation=conversation,
        kind=Message.Kind.NOTE,
        author=author,
        text=text,
        from_name=author.name,
        event={"mentions": [a.pk for a in mentioned]} if mentioned else {},
    )
    document_append(conversation_id=conversation.pk, subject=conversation.subject, text=text)
    Conversation.objects.filter(pk=conversation.pk).update(last_activity_at=note.created_at)
    events.announce(
        events.NoteAdded(
            conversation_id=conversation.pk,
            message_id=note.pk,
            author_id=author.pk,
            mentioned_ids=tuple(a.pk for a in mentioned),
        )
    )
    return note


@transaction.atomic
def conversation_set_status(*, conversation: Conversation, actor: User | None, status: str) -> Conversation:
    """Change status with an event line; closing records the resolution time, reopening clears it."""
    if status not in Conversation.Status.values:
        raise ValueError(f"unknown status {status!r}")
    if status == conversation.status:
        return conversation
    now = timezone.now()
    before = conversation.status
    _event(conversation, actor, "status", {"from": conversation.status, "to": status}, now)
    conversation.status = status
    conversation.resolved_at = now if status == Conversation.Status.CLOSED else None
    conversation.last_activity_at = now
    conversation.save(update_fields=["status", "resolved_at", "last_activity_at"])
    if status != Conversation.Status.CLOSED:
        conversation_standing_refresh(conversation)
    events.announce(
        events.StatusChanged(
            conversation_id=conversation.pk, actor_id=actor.pk if actor else None, before=before, after=status
        )
    )
    return conversation


@transaction.atomic
def conversation_tag(*, conversation: Conversation, names: Iterable[str]) -> None:
    """Add tags by name (created on first use)."""
    have = set(conversation.tags.values_list("name", flat=True))
    added = []
    for name in names:
        name = name.strip().lower()
        if name and name not in have:
            tag, _ = Tag.objects.get_or_create(name=name)
            conversation.tags.add(tag)
            have.add(name)
            added.append(name)
    if added:
        events.announce(events.TagsChanged(conversation_id=conversation.pk, added=tuple(added)))


@transaction.atomic
def mailbox_create(
    *, address: str, name: str, by: User | None = None, ip: str = "", **fields: object
) -> Mailbox:
    """Create a mailbox, or update the name and fields of the one with this address; audited."""
    address = address.strip().lower()
    before = Mailbox.objects.select_for_update().filter(address=address).first()
    state = _mailbox_state(before) if before is not None else None
    mailbox, _ = Mailbox.objects.update_or_create(address=address, defaults={"name": name, **fields})
    _mailbox_audit(state, mailbox, by=by, ip=ip)
    return mailbox


@transaction.atomic
def mailbox_update(
    *, mailbox: Mailbox, address: str, name: str, by: User | None = None, ip: str = "", **fields: object
) -> Mailbox:
    """Change a mailbox's address, name and fields (the mailbox admin's edit); audited."""
    row = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    state = _mailbox_state(row)
    for field, value in {"address": address.strip().lower(), "name": name, **fields}.items():
        setattr(row, field, value)
    row.save()
    _mailbox_audit(state, row, by=by, ip=ip)
    return row


# Settings whose old and new values the audit log shows (short, and no secret); other changes are named.
MAILBOX_SHOWN = ("address", "imap_host", "imap_port", "imap_security", "imap_username", "imap_folders")


def _mailbox_state(mailbox: Mailbox) -> dict[str, object]:
    return {
        f.attname: getattr(mailbox, f.attname)
        for f in Mailbox._meta.concrete_fields
        if f.name not in ("id", "created_at")
    }


def _mailbox_audit(before: dict[str, object] | None, mailbox: Mailbox, *, by: User | None, ip: str) -> None:
    """Record which settings a save changed; the IMAP password only as set, changed or removed."""
    after = _mailbox_state(mailbox)
    target = audit.Target("mailbox", mailbox.pk, mailbox.address)
    if before is None:
        details: dict[str, object] = {"imap_host": mailbox.imap_host} if mailbox.imap_host else {}
        if mailbox.imap_password:
            details["imap_password"] = "set"  # noqa: S105 - that one is set, never what it is
        audit.record(Action.MAILBOX_CREATED, actor=by, target=target, ip=ip, details=details)
        return
    changed = sorted(k for k, v in after.items() if before[k] != v)
    if not changed:
        return
    details = {"changed": changed}
    shown = {k: {"from": before[k], "to": after[k]} for k in MAILBOX_SHOWN if k in changed}
    if shown:
        details["values"] = shown
    if "imap_password" in changed:
        details["imap_password"] = "changed" if mailbox.imap_password else "removed"
    audit.record(Action.MAILBOX_UPDATED, actor=by, target=target, ip=ip, details=details)


@transaction.atomic
def conversation_untag(*, conversation: Conversation, name: str) -> None:
    tags = list(conversation.tags.filter(name=name.strip().lower()))
    if tags:
        conversation.tags.remove(*tags)
        events.announce(events.TagsChanged(conversation_id=conversation.pk, removed=(tags[0].name,)))


@transaction.atomic
def conversation_snooze(
    *, conversation: Conversation, actor: User | None, until: datetime | None
) -> Conversation:
    """Hide the conversation from the open view until `until` (None wakes it now). A customer's message
    wakes it too; so does the worker when the time comes (conversations_wake_due)."""
    if until is not None and until <= timezone.now():
        raise ValueError("snooze until a time in the future")
    _event(
        conversation,
        actor,
        "snoozed" if until else "snooze_ended",
        {"until": until.isoformat() if until else None},
    )
    conversation.snoozed_until = until
    conversation.save(update_fields=["snoozed_until"])
    return conversation


def conversations_wake_due() -> int:
    """End every snooze whose time has come: the conversation is active again, with an event line."""
    now = timezone.now()
    woken = 0
    for conversation in Conversation.objects.filter(snoozed_until__lte=now):
        with transaction.atomic():
            _event(conversation, None, "snooze_ended", {"by": "time"}, now)
            Conversation.objects.filter(pk=conversation.pk).update(
                snoozed_until=None, status=Conversation.Status.ACTIVE, last_activity_at=now
            )
        woken += 1
    return woken


def draft_save(*, conversation: Conversation, agent: User, text: str) -> None:
    """Autosave the agent's reply draft; an empty text removes it."""
    if not text.strip():
        Draft.objects.filter(conversation=conversation, agent=agent).delete()
        return
    Draft.objects.update_or_create(
        conversation=conversation,
        agent=agent,
        defaults={"text": text[:200_000], "updated_at": timezone.now()},
    )


FORM_UNVERIFIED_REASON = "sent from the contact form; the address is not confirmed yet"
FORM_UNCONFIRMED = "contact form, address not confirmed"
CONFIRMED_BY_LINK = "address confirmed by email link"


def customer_fill_in(customer: Customer, *, name: str, timezone_name: str = "") -> None:
    """Fill in a missing name or time zone (from the contact form, once the sender is trusted)."""
    changed: list[str] = []
    if name.strip() and not customer.name:
        customer.name, changed = " ".join(header_text(name).split())[:200], [*changed, "name"]
    if timezone_name and not customer.timezone:
        customer.timezone, changed = timezone_name[:64], [*changed, "timezone"]
    if changed:
        customer.save(update_fields=changed)


@transaction.atomic
def conversation_sender_confirm(
    *, conversation: Conversation, customer: Customer, how: str = CONFIRMED_BY_LINK
) -> Conversation:
    """The customer showed they own the address a contact-form message was sent with (the link in the
    confirmation email): the conversation and its form messages become verified, with an event line.
    Confirming again changes nothing."""
    if customer.pk != conversation.customer_id:
        raise ValueError("only the conversation's own customer can confirm it")
    changed = conversation.messages.filter(
        kind=Message.Kind.CUSTOMER, customer=customer, threading_rule="form", sender_verified=False
    ).update(sender_verified=True, verification=how[:300])
    if conversation.unverified and conversation.unverified_reason == FORM_UNVERIFIED_REASON:
        conversation.unverified, conversation.unverified_reason = False, ""
        conversation.save(update_fields=["unverified", "unverified_reason"])
        conversation_standing_refresh(conversation)  # now the customer's VIP or plan counts
        first = conversation.messages.filter(kind=Message.Kind.CUSTOMER, threading_rule="form").first()
        if first is not None:  # the name they typed is theirs now that they showed the address is
            customer_fill_in(customer, name=first.from_name)
        changed += 1
    if changed:
        _event(conversation, None, "sender_confirmed", {"how": how})
    return conversation


@transaction.atomic
def customer_reply(
    *,
    conversation: Conversation,
    customer: Customer,
    text: str,
    verification: str = "portal session",
    attachments: Iterable[NewAttachment] = (),
) -> Message:
    """The customer answers from the portal; a closed conversation opens again. Only a signed-in
    customer or the holder of their emailed link gets here, so the sender is verified (`verification`
    says which)."""
    return message_receive(
        conversation=conversation,
        customer=customer,
        from_name=customer.name,
        from_address=customer.primary_email,
        subject=conversation.subject,
        text=text,
        threading_rule="portal",
        threading_reason="written in the customer portal",
        sender_verified=True,
        verification=verification,
        attachments=attachments,
    )


def _recount(conversation: Conversation) -> None:
    """Recompute the denormalised counters and times from the thread (after merge or split)."""
    from django.db.models import Count, Max, Min

    public = conversation.messages.exclude(kind__in=[Message.Kind.EVENT, Message.Kind.NOTE])
    stats = public.aggregate(n=Count("id"), last=Max("created_at"))
    customer_last = public.filter(kind=Message.Kind.CUSTOMER).aggregate(t=Max("created_at"))["t"]
    first_reply = public.filter(kind=Message.Kind.REPLY).aggregate(t=Min("created_at"))["t"]
    latest = public.filter(kind=Message.Kind.CUSTOMER).order_by("-created_at", "-id").first()
    Conversation.objects.filter(pk=conversation.pk).update(
        message_count=stats["n"] or 0,
        last_activity_at=stats["last"] or conversation.created_at,
        last_customer_message_at=customer_last,
        first_response_at=first_reply,
        preview=preview_text(latest.text) if latest else conversation.preview,
    )
    conversation.refresh_from_db(fields=["preview"])
    conversation_standing_refresh(conversation)


@transaction.atomic
def conversation_merge(*, source: Conversation, target: Conversation, actor: User) -> Conversation:
    """Move every line of `source` into `target` (the thread stays in time order), keep tags and people,
    close `source` and point it at `target`: its page and reply address lead there from now on. What
    moved is written on the "merged" line, so conversation_merge_undo can put it back for a while."""
    if source.pk == target.pk or target.merged_into_id:
        raise ValueError("merge into a different conversation that was not itself merged")
    moved = list(source.messages.values_list("pk", flat=True))
    tags_added = sorted(
        set(source.tags.values_list("name", flat=True)) - set(target.tags.values_list("name", flat=True))
    )
    repointed = list(Conversation.objects.filter(merged_into=source).values_list("pk", flat=True))
    cc_before, status_before = list(target.cc), source.status
    source.messages.update(conversation=target)
    target.tags.add(*source.tags.all())
    target.cc = sorted(
        set(target.cc)
        | set(source.cc)
        | set(source.customer.emails.values_list("address", flat=True))
        - set(target.customer.emails.values_list("address", flat=True))
    )
    target.save(update_fields=["cc"])
    _event(
        target,
        actor,
        "merged",
        {
            "from": source.number,
            "subject": source.subject,
            "source_id": source.pk,
            "moved": moved,
            "tags_added": tags_added,
            "repointed": repointed,
            "cc_before": cc_before,
            "status_before": status_before,
        },
    )
    source.status, source.merged_into = Conversation.Status.CLOSED, target
    source.save(update_fields=["status", "merged_into"])
    Conversation.objects.filter(merged_into=source).update(merged_into=target)
    _event(source, actor, "merged_into", {"into": target.number})
    _recount(target)
    reindex_conversations([source.pk, target.pk])
    target.refresh_from_db()
    events.announce(events.ConversationsMerged(source_id=source.pk, target_id=target.pk, actor_id=actor.pk))
    return target


MERGE_UNDO_WINDOW = timedelta(hours=1)


def merge_undoable(line: Message, *, now: datetime | None = None) -> bool:
    """Whether this "merged" event line can still be undone: recent, not undone, and written by a merge
    that kept what it moved."""
    data = line.event or {}
    return (
        line.kind == Message.Kind.EVENT
        and data.get("type") == "merged"
        and "moved" in data
        and not data.get("undone")
        and (now or timezone.now()) - line.created_at <= MERGE_UNDO_WINDOW
    )


@transaction.atomic
def conversation_merge_undo(*, target: Conversation, line: Message, actor: User) -> Conversation:
    """Take a merge back: the lines that came from the source go back to it, with its status, the tags
    and people the merge added, and the conversations it re-pointed. Mail that arrived since stays
    where it is. Returns the source again; ValueError once the window has passed."""
    line = Message.objects.select_for_update().get(pk=line.pk, conversation=target)
    if not merge_undoable(line):
        raise ValueError("this merge can no longer be undone")
    data = line.event
    source = Conversation.objects.select_for_update().get(pk=data["source_id"], merged_into=target)
    Message.objects.filter(pk__in=data["moved"], conversation=target).update(conversation=source)
    for name in data["tags_added"]:
        conversation_untag(conversation=target, name=name)
    target.cc = data["cc_before"]
    target.save(update_fields=["cc"])
    Conversation.objects.filter(pk__in=data["repointed"], merged_into=target).update(merged_into=source)
    source.status, source.merged_into = data["status_before"], None
    source.save(update_fields=["status", "merged_into"])
    Message.objects.filter(pk=line.pk).update(event={**data, "undone": True})
    _event(target, actor, "merge_undone", {"from": source.number})
    _event(source, actor, "merge_undone_here", {"into": target.number})
    # To everyone watching, an undone merge is a split: lines left one conversation for another.
    _lines_moved(out_of=target, into=source, actor=actor)
    return source


@transaction.atomic
def message_split(*, message: Message, actor: User) -> Conversation:
    """Move one customer message into a new conversation of its own (it was a different question)."""
    if message.kind != Message.Kind.CUSTOMER:
        raise ValueError("only a customer's message can be split off")
    source = message.conversation
    customer = message.customer or source.customer
    new = conversation_open(
        mailbox=source.mailbox,
        customer=customer,
        subject=message.subject or source.subject,
        channel=source.channel,
        at=message.created_at,
    )
    Message.objects.filter(pk=message.pk).update(conversation=new)
    _event(new, actor, "split", {"from": source.number})
    _event(source, actor, "split_off", {"into": new.number})
    _lines_moved(out_of=source, into=new, actor=actor)
    return new


def _lines_moved(*, out_of: Conversation, into: Conversation, actor: User) -> None:
    """After lines moved from one conversation to another (a split, an undone merge): both recounted and
    reindexed, `into` refreshed for the caller, and the move announced as MessageSplit."""
    _recount(out_of)
    _recount(into)
    reindex_conversations([out_of.pk, into.pk])
    into.refresh_from_db()
    events.announce(events.MessageSplit(source_id=out_of.pk, new_id=into.pk, actor_id=actor.pk))


@transaction.atomic
def conversation_move(*, conversation: Conversation, mailbox: Mailbox, actor: User | None) -> Conversation:
    """Move the conversation to another mailbox (replies then go out from that address)."""
    if mailbox.pk == conversation.mailbox_id:
        return conversation
    _event(conversation, actor, "moved", {"from": conversation.mailbox.name, "to": mailbox.name})
    conversation.mailbox = mailbox
    conversation.save(update_fields=["mailbox"])
    return conversation


MENTION = re.compile(r"(?<![\w.])@([\w.+-]+)")


def mentioned_agents(text: str) -> list[User]:
    """Agents named in a note as @firstname or @local-part-of-their-email."""
    handles = {h.lower().rstrip(".") for h in MENTION.findall(text)}
    if not handles:
        return []
    found = []
    for agent in User.objects.filter(is_active=True):
        names = {agent.first_name.lower(), agent.email.split("@", 1)[0].lower()}
        if names & handles:
            found.append(agent)
    return found


class ViewNameTaken(ValueError):
    """Another view in the same list already has this name."""


def _view_name_free(name: str, *, owner: User | None, leaving: SavedView | None = None) -> str:
    """The cleaned name, if no view in the lists it shows in has it (case aside): a team view's name
    must be free among the team's views and everyone's own; an own view's among the team's and theirs."""
    name = " ".join(name.split())[:100]
    if not name:
        raise ValueError("give the view a name")
    clash = SavedView.objects.filter(name__iexact=name)
    if owner is not None:
        clash = clash.filter(Q(owner__isnull=True) | Q(owner=owner))
    if leaving is not None:
        clash = clash.exclude(pk=leaving.pk)
    if clash.exists():
        raise ViewNameTaken(f"there is already a view called “{name}”")
    return name


def saved_view_save(*, name: str, owner: User | None, filters: dict) -> SavedView:
    """Save an inbox filter under a name (owner None: shared with the team); ViewNameTaken if a view the
    same people see has that name."""
    from happydesk.inbox.selectors import VIEW_FILTERS

    clean = {k: v for k, v in filters.items() if k in VIEW_FILTERS and v not in (None, "")}
    return SavedView.objects.create(name=_view_name_free(name, owner=owner), owner=owner, filters=clean)


def saved_view_may_change(view: SavedView, agent: User) -> bool:
    """An agent's own views are theirs to change; the team's, any full agent's (not light agents)."""
    if view.owner_id is not None:
        return view.owner_id == agent.pk
    return agent.is_active and agent.role != User.Role.LIGHT


def saved_view_rename(*, view: SavedView, name: str, by: User) -> SavedView:
    if not saved_view_may_change(view, by):
        raise PermissionError("not yours to rename")
    view.name = _view_name_free(name, owner=view.owner, leaving=view)
    view.save(update_fields=["name"])
    return view


def saved_view_delete(*, view: SavedView, by: User) -> None:
    if not saved_view_may_change(view, by):
        raise PermissionError("not yours to delete")
    view.delete()


class AssignmentRefused(ValueError):
    """The chosen agent cannot own this conversation (deactivated, or not allowed to see it)."""


def assignee_check(*, conversation: Conversation, assignee: User) -> None:
    """Only an active agent who may see the conversation can own it (a light agent never owns a
    security report); raises AssignmentRefused with a sentence for the person assigning."""
    fresh = User.objects.filter(pk=assignee.pk).first()  # role and active as they are now
    if fresh is None or not fresh.is_active:
        raise AssignmentRefused(f"{assignee.name} is deactivated: choose someone on the team.")
    if not conversations_for_agent(fresh).filter(pk=conversation.pk).exists():
        raise AssignmentRefused(f"{assignee.name} may not see this conversation, so cannot own it.")


@transaction.atomic
def conversation_assign(
    *, conversation: Conversation, assignee: User | None, actor: User | None
) -> Conversation:
    """Optional ownership: anyone can still answer; assignment only says who is on it. The assignee
    hears of it (a live notice, and an email unless they assigned themselves: runtime/receivers.py)."""
    if conversation.assignee_id == (assignee.pk if assignee else None):
        return conversation
    if assignee is not None:
        assignee_check(conversation=conversation, assignee=assignee)
    line = _event(conversation, actor, "assigned", {"to": assignee.name if assignee else None})
    conversation.assignee = assignee
    conversation.save(update_fields=["assignee"])
    events.announce(
        events.AssigneeChanged(
            conversation_id=conversation.pk,
            actor_id=actor.pk if actor else None,
            assignee_id=assignee.pk if assignee else None,
            line_id=line.pk,
        )
    )
    return conversation


def conversation_seen(*, conversation: Conversation, agent: User) -> None:
    """The agent has the conversation open: what the customer wrote until now is read for them."""
    ConversationSeen.objects.update_or_create(
        agent=agent, conversation=conversation, defaults={"seen_at": timezone.now()}
    )


@transaction.atomic
def reply_withdraw(*, message: Message, actor: User) -> str:
    """Take back a reply that never left (undo send): the mail app has already cancelled its outbox row
    under a condition no worker can race (mail.outbound.reply_undo). The reply is removed, its text
    becomes the agent's draft again, and an event line says so. Returns the text."""
    conversation = message.conversation
    text = message.text
    was_first = conversation.first_response_at == message.created_at
    message.delete()
    Draft.objects.update_or_create(
        conversation=conversation,
        agent=actor,
        defaults={"text": text[:200_000], "updated_at": timezone.now()},
    )
    first = None
    if was_first:
        first = (
            conversation.messages.filter(kind=Message.Kind.REPLY)
            .order_by("created_at")
            .values_list("created_at", flat=True)
        ).first()
    _event(conversation, actor, "reply_withdrawn", {})
    Conversation.objects.filter(pk=conversation.pk).update(
        message_count=F("message_count") - 1,
        **({"first_response_at": first} if was_first else {}),
    )
    return text


@transaction.atomic
def forward_record(*, conversation: Conversation, actor: User, to: Sequence[str], note: str) -> Message:
    """The event line for a forward to someone outside (the mail app sends it, without this
    conversation's reply address, so their answer cannot land in the customer's thread)."""
    return _event(conversation, actor, "forwarded", {"to": list(to), "note": note[:500]})


@transaction.atomic
def conversation_start(
    *, mailbox: Mailbox, customer: Customer, subject: str, text: str, author: User, cc: Sequence[str] = ()
) -> Conversation:
    """An agent starts an outbound conversation to a customer: the conversation, then the first reply
    (queued through the outbox like any reply; the customer's answer threads back by its reply token)."""
    conversation = conversation_open(mailbox=mailbox, customer=customer, subject=subject, cc=cc)
    reply_create(conversation=conversation, author=author, text=text, status=Conversation.Status.PENDING)
    conversation.refresh_from_db()
    return conversation
