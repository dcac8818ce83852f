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
