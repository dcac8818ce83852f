"""Reads for ratings: the feed, a customer's history, the score."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Q, QuerySet

from happydesk.feedback.models import Rating


def happiness(ratings: QuerySet[Rating]) -> dict:
    """Counts and the happiness score: (great - not good) / all ratings, as a percentage."""
    c = ratings.aggregate(
        total=Count("id"),
        great=Count("id", filter=Q(value=Rating.Value.GREAT)),
        okay=Count("id", filter=Q(value=Rating.Value.OKAY)),
        not_good=Count("id", filter=Q(value=Rating.Value.NOT_GOOD)),
    )
    c["score"] = round(100 * (c["great"] - c["not_good"]) / c["total"]) if c["total"] else None
    return c


def ratings_feed(
    *,
    value: str | None = None,
    mailbox_id: int | None = None,
    since: datetime | None = None,
    visible: QuerySet | None = None,
) -> QuerySet[Rating]:
    """Ratings newest first; `visible` (inbox.access.conversations_for_agent of the viewer) keeps only
    ratings of conversations the viewer may see."""
    qs = Rating.objects.select_related("conversation", "customer", "agent", "mailbox").order_by("-updated_at")
    if visible is not None:
        qs = qs.filter(conversation__in=visible.values("pk"))
    if value:
        qs = qs.filter(value=value)
    if mailbox_id:
        qs = qs.filter(mailbox_id=mailbox_id)
    if since:
        qs = qs.filter(updated_at__gte=since)
    return qs


def customer_ratings(customer_id: int, *, visible: QuerySet | None = None, limit: int = 10) -> list[Rating]:
    """A customer's past ratings for the sidebar, newest first, on the conversations the viewer may see."""
    qs = Rating.objects.filter(customer_id=customer_id)
    if visible is not None:
        qs = qs.filter(conversation__in=visible.values("pk"))
    return list(qs.select_related("conversation").order_by("-created_at")[:limit])
