"""Reports: the daily rollup the happiness report reads, share links, the company's business volume and
support cost, and the digest settings and sends. See docs/subsystems/reports.md for the approach."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.timezone import now


def empty_hist() -> dict:
    return {}


class DailyFact(models.Model):
    """One day (in the mailbox's time zone) x mailbox x channel x tag: the counts the report adds up.

    `tag` 0 is the row for every conversation; a tag's id is the row for the conversations with that tag
    (a conversation with two tags counts in both tag rows and once in row 0). Everything about a
    conversation counts on the day it arrived; ratings and rating requests on the day they were given.
    Rebuilt from the raw rows by reports.rollup, never edited by hand.
    """

    day = models.DateField()
    weekday = models.PositiveSmallIntegerField(help_text="0 = Monday")
    mailbox = models.ForeignKey("inbox.Mailbox", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10)
    tag = models.PositiveBigIntegerField(default=0, help_text="Tag id; 0 = every conversation.")
    # Conversations that arrived this day (spam and merged-away conversations are left out).
    conversations = models.PositiveIntegerField(default=0)
    outside_hours = models.PositiveIntegerField(default=0, help_text="Arrived outside business hours.")
    responded = models.PositiveIntegerField(default=0, help_text="Have a first response.")
    frt_1h = models.PositiveIntegerField(default=0)
    frt_6h = models.PositiveIntegerField(default=0)
    frt_24h = models.PositiveIntegerField(default=0)
    bfrt_1h = models.PositiveIntegerField(default=0, help_text="Within 1 h of business hours.")
    bfrt_6h = models.PositiveIntegerField(default=0)
    bfrt_24h = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    resolved_replies = models.PositiveIntegerField(default=0, help_text="Replies in resolved conversations.")
    ever_resolved = models.PositiveIntegerField(default=0, help_text="Resolved now or reopened after one.")
    reopened = models.PositiveIntegerField(default=0)
    # Counted on the day they were given.
    rating_requests = models.PositiveIntegerField(default=0)
    great = models.PositiveIntegerField(default=0)
    okay = models.PositiveIntegerField(default=0)
    not_good = models.PositiveIntegerField(default=0)
    # Histograms (reports.buckets): "frt", "bfrt", "res" response-time buckets, "hour" arrivals by local
    # hour (24), "saved" saved-reply uses by saved reply id.
    hist = models.JSONField(default=empty_hist)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "mailbox", "channel", "tag"], name="daily_fact_unique")
        ]
        indexes = [
            models.Index(fields=["tag", "day"], name="daily_fact_tag_day"),
            models.Index(fields=["mailbox", "day"], name="daily_fact_mailbox_day"),
        ]


class AgentDailyFact(models.Model):
    """One day x mailbox x channel x agent: the per-agent figures (who answered first, how fast, their
    replies, the ratings of their replies). Same day rules as DailyFact; no tag dimension."""

    day = models.DateField()
    weekday = models.PositiveSmallIntegerField()
    mailbox = models.ForeignKey("inbox.Mailbox", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    first_responses = models.PositiveIntegerField(default=0)
    frt_1h = models.PositiveIntegerField(default=0)
    bfrt_1h = models.PositiveIntegerField(default=0)
    replies = models.PositiveIntegerField(default=0)
    great = models.PositiveIntegerField(default=0)
    okay = models.PositiveIntegerField(default=0)
    not_good = models.PositiveIntegerField(default=0)
    hist = models.JSONField(default=empty_hist)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "mailbox", "channel", "agent"], name="agent_fact_unique")
        ]
        indexes = [models.Index(fields=["mailbox", "day"], name="agent_fact_mailbox_day")]


class RollupState(models.Model):
    """Where the incremental refresh stopped: what it has seen of the raw tables (one row, pk 1)."""

    refreshed_at = models.DateTimeField(null=True, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    last_message_id = models.BigIntegerField(default=0)
    last_tag_link_id = models.BigIntegerField(default=0)
    last_saved_use_id = models.BigIntegerField(default=0)
    last_rating_request_id = models.BigIntegerField(default=0)


def new_share_token() -> str:
    return secrets.token_urlsafe(24)


class ReportShare(models.Model):
    """A read-only link to the report with fixed filters, for people without an agent account."""

    token = models.CharField(max_length=64, unique=True, default=new_share_token)
    name = models.CharField(max_length=200, blank=True)
    filters = models.JSONField(default=dict, blank=True, help_text="The report's query parameters.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_viewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name or f"Share {self.pk}"


class BusinessVolume(models.Model):
    """A business figure for one day (orders, active users, transactions), posted through the API or
    entered by an admin: the denominator of contacts per transaction."""

    date = models.DateField()
    metric = models.CharField(max_length=50)
    value = models.PositiveBigIntegerField()
    source = models.CharField(max_length=10, default="form", help_text="api or form")
    updated_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["date", "metric"], name="business_volume_unique")]
        ordering = ["-date", "metric"]


class SupportCost(models.Model):
    """What support cost in a month (salaries, tools); it holds for later months until a new entry."""

    month = models.DateField(unique=True, help_text="The first day of the month.")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-month"]


def default_recipients() -> list:
    return []


class ReportSettings(models.Model):
    """Who hears about the numbers (one row, pk 1): the digest list, masking, baselines, currency."""

    recipients = models.JSONField(
        default=default_recipients,
        blank=True,
        help_text="Addresses that get the digest and conversation of the day.",
    )
    mask_customers = models.BooleanField(
        default=True, help_text="Hide customer names, emails and phone numbers in the mails to the list."
    )
    digest_enabled = models.BooleanField(default=True)
    conversation_of_the_day = models.BooleanField(default=True)
    send_hour = models.PositiveSmallIntegerField(default=9, help_text="Send at or after this hour.")
    timezone = models.CharField(max_length=64, default="UTC", help_text="For report days and send times.")
    baseline_tags = models.JSONField(
        default=default_recipients, blank=True, help_text="Tags whose typical daily count the report shows."
    )
    currency = models.CharField(max_length=8, default="USD")


class ReportSend(models.Model):
    """A digest or conversation of the day that went out: one per kind and period, never twice."""

    class Kind(models.TextChoices):
        DIGEST = "digest", "Weekly digest"
        CONVERSATION = "cotd", "Conversation of the day"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    key = models.CharField(max_length=20, help_text="The week (2025-W10) or day (2025-03-14).")
    sent_at = models.DateTimeField(default=now)
    outbound = models.ForeignKey("mail.OutboundMail", null=True, on_delete=models.SET_NULL, related_name="+")
    conversation = models.ForeignKey(
        "inbox.Conversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="report_send_once")]
