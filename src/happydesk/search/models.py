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


class SynonymGroup(models.Model):
    """Words and short phrases customers use for the same thing ("add user, invite, new member,
    teammate"): a help-centre query using any of them also finds content using the others (each one an
    OR group in the engine's query, see search/content.py). Admins edit them; none exist until then."""

    terms = models.TextField(help_text="Comma-separated words or short phrases that mean the same here.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.terms

    def term_list(self) -> list[str]:
        return [t.strip() for t in self.terms.split(",") if t.strip()]


class SearchQueryDay(models.Model):
    """How often one help-centre query (normalised: its meaningful words, lower-cased, in order) was
    searched on one day, and how many results it last had. No visitor, address or session is kept:
    only the words people typed. `search.services.search_record` caps the distinct queries per day."""

    day = models.DateField()
    query = models.CharField(max_length=200)
    count = models.PositiveIntegerField(default=1)
    results = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "query"], name="search_query_day_unique")]
        indexes = [models.Index(fields=["day", "results"], name="search_query_day_results")]
