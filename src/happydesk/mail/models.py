"""Mail plumbing: raw messages as they arrived (the inbound queue), the outbox, IMAP state, loop guards."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class RawMessage(models.Model):
    """The bytes of one inbound mail as received, stored before we acknowledge it.

    The row is also the processing queue: the worker picks `pending` rows, and processing ends in exactly
    one of processed, duplicate, ignored or quarantined, with the reason kept. Nothing is deleted. A
    passing fault (full disk, database locked or gone) leaves the row pending: `last_error` says why it
    waits and `retry_at` when it is tried again; only mail that cannot be processed is quarantined.
    """

    class Source(models.TextChoices):
        SMTP = "smtp", "SMTP"
        IMAP = "imap", "IMAP"
        HTTP = "http", "HTTP"
        IMPORT = "import", "Import"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSED = "processed", "Processed"
        DUPLICATE = "duplicate", "Duplicate"
        QUARANTINED = "quarantined", "Quarantined"

    source = models.CharField(max_length=10, choices=Source.choices)
    mailbox = models.ForeignKey("inbox.Mailbox", null=True, blank=True, on_delete=models.SET_NULL)
    envelope_from = models.CharField(max_length=998, blank=True)
    envelope_to = models.JSONField(default=list, blank=True)
    path = models.CharField(max_length=300, help_text="Relative to the data dir.")
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    origin = models.CharField(max_length=500, blank=True, help_text="IMAP folder/UID, file name, peer.")
    # What only our own SMTP listener knows, kept for the SPF check: the client's IP and its HELO name.
    peer_ip = models.GenericIPAddressField(null=True, blank=True)
    helo = models.CharField(max_length=255, blank=True)
    # The sender-authentication verdict (SPF, DKIM, DMARC, ARC) made when the message was processed.
    auth = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    reason = models.TextField(blank=True, help_text="Why it was quarantined, or what it duplicated.")
    attempts = models.PositiveIntegerField(default=0)
    # A worker leases a batch of pending rows so parallel workers parse different messages; an expired
    # lease (the worker died) makes the rows claimable again. The state check at commit stays the guard.
    claimed_by = models.CharField(max_length=100, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    # Deferred by a passing fault: how often, why the last time (shown to admins), and not before when.
    deferrals = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)
    message = models.ForeignKey(
        "inbox.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "id"])]

    def __str__(self) -> str:
        return f"raw {self.pk} ({self.source}, {self.state})"


class ImapFolderState(models.Model):
    """Per mailbox and folder: the UIDVALIDITY we know and the highest UID stored."""

    mailbox = models.ForeignKey("inbox.Mailbox", on_delete=models.CASCADE, related_name="imap_folders_state")
    folder = models.CharField(max_length=500)
    uidvalidity = models.BigIntegerField(null=True)
    last_uid = models.BigIntegerField(default=0)
    last_polled_at = models.DateTimeField(null=True)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mailbox", "folder"], name="imap_folder_unique")]


class OutboundMail(models.Model):
    """The outbox: one row per email to send (a reply, an auto-reply or a notice), sent by the worker
    with retries. A reply's row is written right after its commit (mail/outbound.py)."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        RETRY = "retry", "Retrying"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    message = models.OneToOneField(
        "inbox.Message", null=True, blank=True, on_delete=models.CASCADE, related_name="outbound"
    )
    # A notice that is not a conversation reply (status updates, alerts, digests) carries its own email:
    kind = models.CharField(max_length=40, blank=True, help_text="What sent it: 'status-update', 'digest'...")
    to = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    # A reply's footer, added by a feature when it was queued (the rating question), text and HTML:
    footer_text = models.TextField(blank=True)
    footer_html = models.TextField(blank=True)
    from_email = models.CharField(max_length=400, blank=True, help_text="Empty: DEFAULT_FROM_EMAIL.")
    dedupe_key = models.CharField(
        max_length=200,
        null=True,
        blank=True,
        unique=True,
        help_text="A notice with a key is queued at most once ('status-update:12:sub:7'): exactly-once sends.",
    )
    # A forward carries this message's attachments (the quoted message is in the body already).
    attachments_of = models.ForeignKey(
        "inbox.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Undo send: a reply is held until then (next_attempt_at starts equal to it). Undo cancels the row only
    # while next_attempt_at still equals hold_until, i.e. no worker has claimed it (a claim moves it).
    hold_until = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["state", "next_attempt_at"])]


class AutoReplyLog(models.Model):
    """Each auto-reply sent, so one sender gets at most one per mailbox per window."""

    mailbox = models.ForeignKey("inbox.Mailbox", on_delete=models.CASCADE)
    address = models.CharField(max_length=320)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["mailbox", "address", "sent_at"])]
