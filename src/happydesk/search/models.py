"""The one customer-facing search over self-service content, and the suggestion sessions that measure
deflection. (Conversations' documents belong to the inbox: inbox.models.ConversationDocument.)"""

from __future__ import annotations

from django.db import models


class ContentDocument(models.Model):
    """One piece of self-service content in the one customer-facing search: a knowledge base article,
    an FAQ answer, a forum topic, an idea or an announcement. Kept current by the owning app's services
    (`search.services.content_index` / `content_remove`); internal ones are found by agents only."""

    class Kind(models.TextChoices):
        ARTICLE = "article", "Article"
        FAQ = "faq", "FAQ"
        TOPIC = "topic", "Community"
        IDEA = "idea", "Idea"
        ANNOUNCEMENT = "announcement", "Announcement"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    object_id = models.PositiveIntegerField()
    title = models.TextField()
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500)
    internal = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    helpful = models.FloatField(
        default=0.0, help_text="0..1: share of 'helpful' votes, accepted answers, votes."
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="content_document_unique")]


class SuggestionSession(models.Model):
    """One visitor's time in a contact form or widget, to measure deflection: did they see suggested
    answers, open one, and leave without writing to us? Keyed by a random id the page makes; no
    personal data is kept."""

    class Source(models.TextChoices):
        FORM = "form", "Contact form"
        WIDGET = "widget", "Widget"

    mailbox = models.ForeignKey("inbox.Mailbox", on_delete=models.CASCADE, related_name="suggestion_sessions")
    key = models.CharField(max_length=64, unique=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    shown_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
