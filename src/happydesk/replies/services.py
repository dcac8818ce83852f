"""Saved replies: create, render for a conversation (recording the use), report the most used."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from happydesk.accounts.models import User
from happydesk.inbox.models import Conversation
from happydesk.inbox.placeholders import UNFILLED, fill
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
        "mailbox.call_link": conversation.mailbox.call_link,  # the mailbox's booking link, if it has one
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


# A saved reply answered that many times in 30 days points at a cause worth fixing in the product.
FIX_THE_CAUSE_SENDS = 10
# An insertion still unsent after this long is not waited for: the draft was abandoned.
SEND_WINDOW = timedelta(days=2)


def _words(text: str) -> str:
    """Text compared for "does the reply still carry it": words only, case and spacing ignored."""
    return " ".join(text.lower().split())


@transaction.atomic
def saved_reply_use(*, saved_reply: SavedReply, conversation: Conversation, agent: User) -> str:
    """The saved reply's text with this conversation's placeholders filled in. The insertion is noted;
    it counts as a use when the reply carrying it is sent (saved_replies_mark_sent)."""
    text = fill(saved_reply.body, placeholder_values(conversation=conversation, agent=agent))
    SavedReplyUse.objects.create(
        saved_reply=saved_reply, agent=agent, conversation=conversation, inserted=_mark_of(text)
    )
    return text


def _mark_of(text: str) -> str:
    """What a sent reply must still contain to carry this insertion: its longest stretch between the
    placeholders the agent will fill in (compared as words), at most 120 characters."""
    stretches = [_words(part) for part in UNFILLED.split(text)]
    return max(stretches, key=len, default="")[:120]


def saved_replies_mark_sent(*, message_id: int, conversation_id: int, author_id: int) -> int:
    """A reply was sent (the ReplyCreated receiver): the author's insertions into this conversation that
    the reply still carries count as uses now. Returns how many."""
    from happydesk.inbox.models import Message

    reply = Message.objects.filter(pk=message_id).only("text", "created_at").first()
    if reply is None:
        return 0
    sent = _words(reply.text)
    waiting = SavedReplyUse.objects.filter(
        conversation_id=conversation_id,
        agent_id=author_id,
        sent_at__isnull=True,
        used_at__gte=reply.created_at - SEND_WINDOW,
    )
    carried = [use.pk for use in waiting if use.inserted and use.inserted in sent]
    return SavedReplyUse.objects.filter(pk__in=carried).update(sent_at=reply.created_at)


def saved_replies_for(conversation: Conversation) -> QuerySet[SavedReply]:
    """Saved replies offered in a conversation: its mailbox's and the global ones."""
    return SavedReply.objects.filter(Q(mailbox__isnull=True) | Q(mailbox=conversation.mailbox_id))


def most_used(*, days: int = 30, limit: int = 10, at_least: int = FIX_THE_CAUSE_SENDS) -> list[SavedReply]:
    """Saved replies sent at least `at_least` times in the last `days` days, most first: an answer
    given that often points at a cause worth fixing in the product."""
    since = timezone.now() - timedelta(days=days)
    return list(
        SavedReply.objects.annotate(
            recent=Count("uses", filter=Q(uses__sent_at__gte=since)),
            total=Count("uses", filter=Q(uses__sent_at__isnull=False)),
        )
        .filter(recent__gte=max(at_least, 1))
        .order_by("-recent", "name")[:limit]
    )
