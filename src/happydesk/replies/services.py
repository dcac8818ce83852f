"""Saved replies: create, render for a conversation (recording the use), report the most used."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from happydesk.accounts.models import User
from happydesk.inbox.models import Conversation
from happydesk.inbox.placeholders import fill
from happydesk.replies.models import SavedReply, SavedReplyUse


def placeholder_values(*, conversation: Conversation, agent: User) -> dict[str, str]:
    """What `{{ … }}` names mean. Unknown or empty values stay as placeholders, so sending is refused."""
    customer = conversation.customer
    return {
        "customer.first_name": customer.first_name,
        "customer.name": customer.name,
        "customer.email": customer.primary_email,
        "customer.company": customer.company,
        "agent.first_name": agent.first_name,
        "agent.name": agent.name,
        "conversation.number": str(conversation.number),
        "conversation.subject": conversation.subject,
        "mailbox.name": conversation.mailbox.name,
    }


@transaction.atomic
def saved_reply_save(
    *,
    name: str,
    body: str,
    note: str = "",
    kind: str = SavedReply.Kind.REPLY,
    mailbox_id: int | None = None,
    author: User | None = None,
    saved_reply: SavedReply | None = None,
) -> SavedReply:
    """Create a saved reply, or update `saved_reply`."""
    row = saved_reply or SavedReply(created_by=author)
    row.name, row.body, row.note, row.kind, row.mailbox_id = name.strip(), body, note, kind, mailbox_id
    row.updated_at = timezone.now()
    row.save()
    return row


@transaction.atomic
def saved_reply_use(*, saved_reply: SavedReply, conversation: Conversation, agent: User) -> str:
    """The saved reply's text with this conversation's placeholders filled in; counts the use."""
    SavedReplyUse.objects.create(saved_reply=saved_reply, agent=agent, conversation=conversation)
    return fill(saved_reply.body, placeholder_values(conversation=conversation, agent=agent))


def saved_replies_for(conversation: Conversation) -> QuerySet[SavedReply]:
    """Saved replies offered in a conversation: its mailbox's and the global ones."""
    return SavedReply.objects.filter(Q(mailbox__isnull=True) | Q(mailbox=conversation.mailbox_id))


def most_used(*, days: int = 30, limit: int = 10) -> list[SavedReply]:
    """Saved replies by uses in the last `days` days: frequent answers point at causes worth fixing."""
    since = timezone.now() - timedelta(days=days)
    return list(
        SavedReply.objects.annotate(
            recent=Count("uses", filter=Q(uses__used_at__gte=since)), total=Count("uses")
        )
        .filter(recent__gt=0)
        .order_by("-recent", "name")[:limit]
    )
