"""Read queries shared by the pages and the API."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from happydesk.accounts.models import User
from happydesk.inbox.access import conversations_for_agent
from happydesk.inbox.models import Conversation, Message


def conversation_list(
    *,
    agent: User,
    status: str | None = None,
    mailbox: str | None = None,
    tag: str | None = None,
    customer_email: str | None = None,
    q: str | None = None,
) -> QuerySet[Conversation]:
    """Conversations for a list, newest activity first, with what a row shows prefetched."""
    qs = (
        conversations_for_agent(agent)
        .select_related("mailbox", "customer")
        .prefetch_related("tags", "customer__emails")
    )
    if status:
        qs = qs.filter(status=status)
    if mailbox:
        qs = qs.filter(
            Q(mailbox__address=mailbox.lower()) | Q(mailbox__pk=mailbox if mailbox.isdigit() else None)
        )
    if tag:
        qs = qs.filter(tags__name=tag.lower())
    if customer_email:
        qs = qs.filter(customer__emails__address=customer_email.lower())
    if q:
        q = q.strip()
        number = q.lstrip("#")
        match = Q(subject__icontains=q) | Q(preview__icontains=q) | Q(customer__emails__address__icontains=q)
        match |= Q(customer__name__icontains=q)
        if number.isdigit():
            match |= Q(pk=int(number))
        qs = qs.filter(match)
    return qs.distinct().order_by("-last_activity_at", "-id")


def status_counts(*, agent: User) -> dict[str, int]:
    from django.db.models import Count

    rows = conversations_for_agent(agent).values("status").annotate(n=Count("id"))
    counts = dict.fromkeys(Conversation.Status.values, 0)
    for row in rows:
        counts[row["status"]] = row["n"]
    return counts


def thread(conversation: Conversation) -> list[Message]:
    """Every line of a conversation in time order, with authors and attachments."""
    return list(
        conversation.messages.select_related("author", "outbound")
        .prefetch_related(Prefetch("attachments"))
        .order_by("created_at", "id")
    )
