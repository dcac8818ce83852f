"""The shared inbox: mailboxes, conversations, and the messages, notes and event lines in them."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.timezone import now

from happydesk import tokens
from happydesk.crypto import EncryptedTextField

if TYPE_CHECKING:
    from happydesk.inbox.triage import Priority


def default_business_hours() -> dict:
    """Monday to Friday, 9:00-17:00 in the mailbox's time zone (weekday 0 = Monday)."""
    return {str(day): [["09:00", "17:00"]] for day in range(5)}


class Mailbox(models.Model):
    """A support address (support@, billing@) the team answers from, with its promises to customers."""

    address = models.CharField(max_length=320, unique=True)
    name = models.CharField(max_length=200)
    signature = models.TextField(blank=True)
    auto_reply_enabled = models.BooleanField(default=True)
    auto_reply_text = models.TextField(
        blank=True,
        help_text="Extra text for the auto-reply; the typical response time and hours are added for you.",
    )
    auto_reply_window_minutes = models.PositiveIntegerField(
        default=24 * 60, help_text="At most one auto-reply per sender in this window."
    )
    self_help_links = models.JSONField(default=list, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    business_hours = models.JSONField(default=default_business_hours, blank=True)
    response_goal_minutes = models.PositiveIntegerField(default=24 * 60)
    form_enabled = models.BooleanField(
        default=True, help_text="Offer the public contact form for this mailbox."
    )
    form_topics = models.JSONField(
        default=list, blank=True, help_text='Choices for "What\'s this about?" on the contact form.'
    )

    class RatingMode(models.TextChoices):
        OFF = "off", "Never ask"
        CLOSING = "closing", "Only on the reply that closes the conversation"
        EVERY = "every", "On replies (once per conversation)"

    rating_mode = models.CharField(
        max_length=10,
        choices=RatingMode.choices,
        default=RatingMode.CLOSING,
        help_text="Which replies carry the one-click rating (great / okay / not good).",
    )
    rating_window_days = models.PositiveIntegerField(
        default=30, help_text="Ask one customer at most once in this many days, across conversations."
    )
    rating_alert = models.BooleanField(
        default=True,
        help_text="Email the agent who replied, and the admins, when a customer says 'not good'.",
    )
    call_link = models.URLField(
        blank=True, help_text="Booking link for a call or screen share, offered after long back-and-forths."
    )
    # IMAP fetching (optional): the fetcher polls every mailbox that has a host set.
    imap_host = models.CharField(max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(default=993)
    imap_security = models.CharField(
        max_length=10, default="ssl", choices=[("ssl", "SSL/TLS"), ("starttls", "STARTTLS"), ("none", "None")]
    )
    imap_username = models.CharField(max_length=320, blank=True)
    imap_password = EncryptedTextField(blank=True)  # encrypted at rest (crypto.py); never shown again
    imap_folders = models.JSONField(
        default=list, blank=True, help_text='Folders to fetch; empty = ["INBOX"].'
    )
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name_plural = "mailboxes"

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"

    @property
    def local_part(self) -> str:
        return self.address.split("@", 1)[0]

    @property
    def domain(self) -> str:
        return self.address.split("@", 1)[1]

    def reply_address(self, token: str) -> str:
        """The address that threads a customer's answer back to one conversation."""
        return f"{self.local_part}+{token}@{self.domain}"


class Tag(models.Model):
    name = models.CharField(max_length=100, unique=True)
    color = models.CharField(max_length=20, blank=True)

    def __str__(self) -> str:
        return self.name


LINK_PURPOSE, REPLY_PURPOSE = "conversation-link", "reply-address"


def new_link_selector() -> str:
    return tokens.new_selector(12)


def new_reply_selector() -> str:
    return tokens.new_selector(8)


class Conversation(models.Model):
    """A thread with one customer. Nobody owns it by default: anyone on the team can answer."""

    # Not a column: inbox.selectors.with_priority sets it on the rows a page shows.
    priority: Priority

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PENDING = "pending", "Pending"
        CLOSED = "closed", "Closed"
        SPAM = "spam", "Spam"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        FORM = "form", "Web form"
        WIDGET = "widget", "Widget"
        CHAT = "chat", "Chat"
        API = "api", "API"

    mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="conversations")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="conversations")
    subject = models.CharField(max_length=998, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    tags = models.ManyToManyField(Tag, blank=True, related_name="conversations")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Selectors of the two secrets we hand out (happydesk/tokens.py): the portal link's token and the
    # reply address's. The tokens themselves are never stored; links from before are kept as digests.
    link_selector = models.CharField(max_length=32, unique=True, default=new_link_selector)
    reply_selector = models.CharField(max_length=32, unique=True, default=new_reply_selector)
    link_legacy_digest = models.CharField(max_length=64, blank=True, db_index=True)
    reply_legacy_digest = models.CharField(max_length=64, blank=True, db_index=True)
    cc = models.JSONField(default=list, blank=True, help_text="Other addresses on the thread.")
    unverified = models.BooleanField(
        default=False, help_text="Opened from a message whose sender could not be trusted."
    )
    unverified_reason = models.CharField(max_length=300, blank=True)
    possibly_same_as = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="An unverified message pointed at this conversation; one click merges it there.",
    )
    preview = models.CharField(max_length=300, blank=True)
    message_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=now, db_index=True)
    last_activity_at = models.DateTimeField(default=now, db_index=True)
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    waiting_since = models.DateTimeField(
        null=True, blank=True, help_text="The customer has been waiting for an answer since then."
    )
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Feeling(models.TextChoices):
        FRUSTRATED = "frustrated", "Frustrated"
        CONFUSED = "confused", "Confused"
        WORRIED = "worried", "Worried"
        CALM = "calm", "Calm"
        HAPPY = "happy", "Happy"

    topic = models.CharField(
        max_length=200, blank=True, help_text="The customer's answer to \"What's this about?\""
    )
    feeling = models.CharField(max_length=12, choices=Feeling.choices, blank=True)
    private = models.BooleanField(default=True, help_text="Never listed anywhere public.")
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_from",
        help_text="This conversation was merged; its page and reply address lead there.",
    )
    snoozed_until = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="Hidden from the open view until then."
    )
    priority_points = models.SmallIntegerField(
        default=0, help_text="Triage points that do not change with the clock (automations/triage.py)."
    )
    priority_reasons = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "-last_activity_at"]),
            # Covers the open views: their counts and the triage sort read the index only, not the rows.
            models.Index(
                fields=[
                    "status",
                    "merged_into",
                    "snoozed_until",
                    "priority_points",
                    "waiting_since",
                    "mailbox",
                    "last_activity_at",
                ],
                name="conversation_triage",
                include=["id"],  # PostgreSQL: an index-only scan can return ids (SQLite keys by rowid)
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"

    @property
    def number(self) -> int:
        """The public conversation number shown to agents and in subjects (`[#123]`)."""
        return self.pk

    @property
    def token(self) -> str:
        """The secret in the customer's portal link to this conversation (not stored; tokens.py)."""
        return tokens.issue(LINK_PURPOSE, self.link_selector)

    @property
    def reply_token(self) -> str:
        """The secret in the reply address that threads an answer back here (not stored; tokens.py)."""
        return tokens.issue(REPLY_PURPOSE, self.reply_selector)

    @staticmethod
    def with_token(token: str) -> Q:
        """A filter for the conversation whose portal link carries this token."""
        return tokens.matching(
            LINK_PURPOSE, token, selector_field="link_selector", legacy_field="link_legacy_digest"
        )

    @staticmethod
    def with_reply_token(token: str) -> Q:
        """A filter for the conversation whose reply address carries this token."""
        return tokens.matching(
            REPLY_PURPOSE, token, selector_field="reply_selector", legacy_field="reply_legacy_digest"
        )


class Message(models.Model):
    """One line of a thread: a customer's message, a reply, a private note, or an event line."""

    class Kind(models.TextChoices):
        CUSTOMER = "customer", "Customer message"
        REPLY = "reply", "Reply"
        AUTO_REPLY = "auto_reply", "Auto-reply"
        NOTE = "note", "Note"
        EVENT = "event", "Event"

    class Delivery(models.TextChoices):
        NONE = "", "Not sent by mail"
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        RETRY = "retry", "Retrying"
        FAILED = "failed", "Failed"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=12, choices=Kind.choices, db_index=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_name = models.CharField(max_length=300, blank=True)
    from_address = models.CharField(max_length=320, blank=True)
    to = models.JSONField(default=list, blank=True)
    cc = models.JSONField(default=list, blank=True)
    # Blind copies of an agent's reply: in the SMTP envelope only, never in a header or on the customer's side.
    bcc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    text = models.TextField(blank=True, help_text="The new text only.")
    quoted = models.TextField(blank=True, help_text="Quoted history and signature, shown collapsed.")
    html = models.TextField(blank=True, help_text="Sanitized HTML body.")
    event = models.JSONField(default=dict, blank=True, help_text="For event lines: what happened.")
    # Email identity and threading.
    message_id = models.CharField(max_length=998, blank=True, db_index=True)
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.TextField(blank=True)
    dedupe_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    raw = models.ForeignKey(
        "mail.RawMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    threading_rule = models.CharField(max_length=30, blank=True)
    threading_reason = models.CharField(max_length=500, blank=True)
    # Who the sender really is: verified (DMARC-aligned pass, a portal or SSO session, a confirmed
    # address) or not, and how that was decided. Customer messages only; agents' lines leave it empty.
    sender_verified = models.BooleanField(default=False)
    verification = models.CharField(max_length=300, blank=True)
    # Outbound delivery state (replies and auto-replies).
    delivery = models.CharField(max_length=10, choices=Delivery.choices, blank=True, default="")
    delivery_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["conversation", "created_at"]),
            # The outbox sweep's question (replies still queued), answered from a small index.
            models.Index(
                fields=["created_at"], name="message_delivery_queued", condition=models.Q(delivery="queued")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} in #{self.conversation_id}"

    # What the customer sees of a thread: their messages and our replies, never notes or event lines.
    PUBLIC_KINDS = (Kind.CUSTOMER, Kind.REPLY, Kind.AUTO_REPLY)

    @property
    def is_public(self) -> bool:
        return self.kind in self.PUBLIC_KINDS


def attachment_path(instance: Attachment, filename: str) -> str:
    now = timezone.now()
    return f"attachments/{now:%Y/%m/%d}/{secrets.token_hex(8)}/{filename[-120:] or 'file'}"


class Attachment(models.Model):
    """A file on a message; inline images (cid:) are attachments too, never inlined into the body."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    file = models.FileField(upload_to=attachment_path, max_length=400)
    content_id = models.CharField(max_length=255, blank=True)
    inline = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return self.filename


class Draft(models.Model):
    """An agent's unsent reply, saved as they type: it survives a reload or a second device."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="drafts")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    text = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "agent"], name="one_draft_per_agent")]


class SavedView(models.Model):
    """A named inbox filter (status, mailbox, tag, feeling, waiting time, words), shared or personal."""

    name = models.CharField(max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Empty: shared with the whole team.",
    )
    filters = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["name"]
        constraints = [
            # One name per list an agent sees: the team's views, and each agent's own (inbox.services
            # also refuses a personal name that a team view already has, case aside).
            models.UniqueConstraint(
                Lower("name"), condition=Q(owner__isnull=True), name="saved_view_team_name_unique"
            ),
            models.UniqueConstraint(Lower("name"), "owner", name="saved_view_own_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class ConversationDocument(models.Model):
    """The searchable text of a conversation (kept current in the same transaction as the messages:
    inbox/indexing.py). The full-text index over it is engine-specific (an FTS5 table on SQLite, a generated
    tsvector column with a GIN index on PostgreSQL), made in the search app's migrations."""

    conversation = models.OneToOneField(
        Conversation, primary_key=True, on_delete=models.CASCADE, related_name="search_document"
    )
    subject = models.TextField(blank=True)
    body = models.TextField(blank=True, help_text="Customer names and addresses, then every message's text.")

    class Meta:
        db_table = "search_conversationdocument"  # made by the search app, which owned it first


class SecurityFlag(models.Model):
    """A conversation that reports a security problem: hidden from light agents (access.py) and
    escalated to the on-call list once. Clearing it (a false alarm) keeps the record."""

    conversation = models.OneToOneField(Conversation, on_delete=models.CASCADE, related_name="security_flag")
    active = models.BooleanField(default=True)
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        db_table = "status_securityflag"  # made by the status app, which owned it first
        indexes = [models.Index(fields=["active", "conversation"], name="status_secu_active_4188d5_idx")]


class ConversationSeen(models.Model):
    """When an agent last opened a conversation: a customer message newer than this is unread for them
    (the inbox's title count, selectors.unread_count). One row per agent and conversation, kept fresh
    by the conversation page."""

    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agent", "conversation"], name="conversation_seen_once")
        ]
