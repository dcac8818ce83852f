"""Notices the mail app sends when the core announces something: agents named in a note."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from happydesk.accounts.models import User
from happydesk.inbox import events
from happydesk.inbox.access import conversations_for_agent
from happydesk.inbox.models import Message
from happydesk.mail.outbound import notice_enqueue


def mentions_notify(event: events.NoteAdded) -> int:
    """Email each mentioned agent who may see the conversation the note and a link to it, through the
    outbox (retried like any mail; once per agent and note). Returns how many were queued."""
    if not event.mentioned_ids:
        return 0
    note = Message.objects.select_related("conversation__mailbox", "author").get(pk=event.message_id)
    conversation, author = note.conversation, note.author
    if author is None:  # a note is always an agent's; without one there is nobody to name
        return 0
    link = settings.BASE_URL + reverse("conversation", args=[conversation.pk])
    queued = 0
    for agent in User.objects.filter(pk__in=event.mentioned_ids):
        if not conversations_for_agent(agent).filter(pk=conversation.pk).exists():
            continue  # e.g. a light agent named on a security report: not a word of it by email
        notice_enqueue(
            to=[agent.email],
            subject=f"{author.name} mentioned you in #{conversation.pk}: {conversation.subject}"[:300],
            text=f"{author.name} wrote a note:\n\n{note.text}\n\n{link}\n",
            kind="mention",
            mailbox=conversation.mailbox,
            dedupe_key=f"mention:{note.pk}:{agent.pk}",
        )
        queued += 1
    return queued
