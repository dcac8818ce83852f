"""Saved replies and snippets: the team's best answers, with a private note on how to use each."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class SavedReply(models.Model):
    class Kind(models.TextChoices):
        REPLY = "reply", "Saved reply"
        SNIPPET = "snippet", "Snippet"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.REPLY)
    body = models.TextField(help_text="Placeholders: {{ customer.first_name }}, {{ agent.first_name }}, …")
    note = models.TextField(blank=True, help_text="How to use it. Agents see this; customers never do.")
    mailbox = models.ForeignKey(
        "inbox.Mailbox", null=True, blank=True, on_delete=models.CASCADE, help_text="Empty: every mailbox."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SavedReplyUse(models.Model):
    """One insertion into a reply. It counts as a use once the reply that carries it is sent
    (`sent_at`, set by replies.services.saved_replies_mark_sent); an insertion deleted again before
    sending never counts. Usage counts and the "fix the cause" list read the sent ones."""

    saved_reply = models.ForeignKey(SavedReply, on_delete=models.CASCADE, related_name="uses")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    conversation = models.ForeignKey(
        "inbox.Conversation", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    used_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The start of the text inserted, to tell whether the reply sent still carries it.
    inserted = models.CharField(max_length=120, blank=True)
