"""Notices the mail app sends when the core announces something: agents named in a note, and the new
owner of a conversation."""

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


def assignment_notify(event: events.AssigneeChanged) -> int:
    """Email the agent a conversation was just assigned to, with a link, through the outbox (once per
    assignment). Nobody is emailed about assigning themselves, nor about what they may not see.
    Returns how many were queued (0 or 1)."""
    if event.assignee_id is None or event.assignee_id == event.actor_id:
        return 0
    agent = User.objects.filter(pk=event.assignee_id, is_active=True).first()
    if agent is None:
        return 0
    conversation = (
        conversations_for_agent(agent)
        .select_related("mailbox", "customer")
        .filter(pk=event.conversation_id)
        .first()
    )
    if conversation is None:
        return 0
    actor = User.objects.filter(pk=event.actor_id).first() if event.actor_id else None
    who = actor.name if actor else "Happydesk"
    link = settings.BASE_URL + reverse("conversation", args=[conversation.pk])
    customer = conversation.customer.name or conversation.customer.primary_email
    notice_enqueue(
        to=[agent.email],
        subject=f"{who} assigned you #{conversation.pk}: {conversation.subject}"[:300],
        text=(
            f"{who} assigned you a conversation with {customer}:\n\n"
            f"#{conversation.pk} {conversation.subject}\n{conversation.preview}\n\n{link}\n"
        ),
        kind="assignment",
        mailbox=conversation.mailbox,
        dedupe_key=f"assigned:{event.conversation_id}:{agent.pk}:{event.line_id or 0}",
    )
    return 1
