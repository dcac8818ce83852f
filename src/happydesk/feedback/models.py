"""One-click satisfaction: which reply asked, and what the customer answered."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.timezone import now


class RatingRequest(models.Model):
    """A reply that carried the rating question: at most one per conversation, and at most one per
    customer within the mailbox's window (services.rating_request_for_reply decides)."""

    conversation = models.OneToOneField(
        "inbox.Conversation", on_delete=models.CASCADE, related_name="rating_request"
    )
    message = models.OneToOneField("inbox.Message", on_delete=models.CASCADE, related_name="rating_request")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["customer", "created_at"])]


class Rating(models.Model):
    """The customer's answer; they may change it (the latest choice counts) and add a comment."""

    class Value(models.TextChoices):
        GREAT = "great", "Great"
        OKAY = "okay", "Okay"
        NOT_GOOD = "not_good", "Not good"

    request = models.OneToOneField(RatingRequest, on_delete=models.CASCADE, related_name="rating")
    conversation = models.OneToOneField("inbox.Conversation", on_delete=models.CASCADE, related_name="rating")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="ratings")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ratings",
        help_text="Who wrote the rated reply.",
    )
    mailbox = models.ForeignKey("inbox.Mailbox", on_delete=models.CASCADE, related_name="ratings")
    value = models.CharField(max_length=10, choices=Value.choices)
    comment = models.TextField(blank=True)
    changes = models.PositiveIntegerField(default=0, help_text="How often the customer changed their mind.")
    created_at = models.DateTimeField(default=now, db_index=True)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        indexes = [models.Index(fields=["mailbox", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_value_display()} on #{self.conversation_id}"


class ReviewSample(models.Model):
    """A reviewer's random pick of conversations to score: one agent's, or one shift's, in a date range."""

    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="review_samples"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Whose replies were sampled; empty: the whole team's.",
    )
    label = models.CharField(max_length=200, help_text="What was sampled, in words.")
    since = models.DateField()
    until = models.DateField()
    filters = models.JSONField(default=dict, blank=True, help_text="The filters used, for the record.")
    conversations = models.ManyToManyField("inbox.Conversation", related_name="+")
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.label


class QualityReview(models.Model):
    """A colleague's scores for one agent's work on one conversation: tone, facts, reply time and
    procedure on a 1-4 scale, each with an optional comment. Feeds coaching, never a ranking."""

    class Score(models.IntegerChoices):
        NEEDS_WORK = 1, "Needs work"
        GETTING_THERE = 2, "Getting there"
        GOOD = 3, "Good"
        EXCELLENT = 4, "Excellent"

    CRITERIA = (
        ("tone", "Tone"),
        ("facts", "Facts"),
        ("reply_time", "Reply time"),
        ("procedure", "Procedure"),
    )

    conversation = models.ForeignKey(
        "inbox.Conversation", on_delete=models.CASCADE, related_name="quality_reviews"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quality_reviews"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="reviews_given"
    )
    sample = models.ForeignKey(
        ReviewSample, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews"
    )
    tone = models.PositiveSmallIntegerField(choices=Score.choices)
    facts = models.PositiveSmallIntegerField(choices=Score.choices)
    reply_time = models.PositiveSmallIntegerField(choices=Score.choices)
    procedure = models.PositiveSmallIntegerField(choices=Score.choices)
    tone_comment = models.TextField(blank=True)
    facts_comment = models.TextField(blank=True)
    reply_time_comment = models.TextField(blank=True)
    procedure_comment = models.TextField(blank=True)
    comment = models.TextField(blank=True, help_text="Overall: what went well, what to try next time.")
    created_at = models.DateTimeField(default=now, db_index=True)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["agent", "created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "agent", "reviewer"], name="one_review_per_reviewer"
            ),
            *[
                models.CheckConstraint(
                    condition=models.Q(**{f"{name}__gte": 1, f"{name}__lte": 4}), name=f"review_{name}_1_4"
                )
                for name in ("tone", "facts", "reply_time", "procedure")
            ],
        ]

    def __str__(self) -> str:
        return f"Review of {self.agent_id} on #{self.conversation_id}"

    @property
    def average(self) -> float:
        return (self.tone + self.facts + self.reply_time + self.procedure) / 4
