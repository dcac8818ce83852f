"""The searchable text of each conversation. The full-text index over it is engine-specific (an FTS5
table on SQLite, a generated tsvector column with a GIN index on PostgreSQL), made in the migrations."""

from __future__ import annotations

from django.db import models


class ConversationDocument(models.Model):
    conversation = models.OneToOneField(
        "inbox.Conversation", primary_key=True, on_delete=models.CASCADE, related_name="search_document"
    )
    subject = models.TextField(blank=True)
    body = models.TextField(blank=True, help_text="Customer names and addresses, then every message's text.")
