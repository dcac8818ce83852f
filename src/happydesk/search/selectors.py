"""Reads about self-service: the deflection rate per mailbox."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from happydesk.search.models import SuggestionSession, SynonymGroup

SETTLE = timedelta(minutes=30)  # a visitor who has not submitted half an hour later has left


def deflection(*, since: datetime, mailbox_id: int | None = None) -> list[dict]:
    """Per mailbox: visitors who saw suggestions, opened one, left without submitting, and the
    deflection rate (left without submitting after seeing suggestions / saw suggestions)."""
    settled = timezone.now() - SETTLE
    qs = SuggestionSession.objects.filter(
        created_at__gte=since, created_at__lte=settled, shown_at__isnull=False
    )
    if mailbox_id:
        qs = qs.filter(mailbox_id=mailbox_id)
    rows = (
        qs.values("mailbox_id", "mailbox__name")
        .annotate(
            saw=Count("id"),
            opened=Count("id", filter=Q(opened_at__isnull=False)),
            left=Count("id", filter=Q(submitted_at__isnull=True)),
            opened_and_left=Count("id", filter=Q(opened_at__isnull=False, submitted_at__isnull=True)),
        )
        .order_by("mailbox__name")
    )
    out: list[dict] = []
    for r in rows:
        row = dict(r)  # the values() row plus the rate, a key its TypedDict does not have
        row["rate"] = round(100 * r["left"] / r["saw"]) if r["saw"] else None
        out.append(row)
    return out


def searches_without_results(*, days: int = 30, limit: int = 100) -> list[dict]:
    """Help-centre queries that found nothing on the last `days` days, most searched first: the query,
    how many times, and the last day it was searched."""
    from django.db.models import Max, Sum

    from happydesk.search.models import SearchQueryDay

    since = timezone.localdate() - timedelta(days=days - 1)
    rows = (
        SearchQueryDay.objects.filter(day__gte=since, results=0)
        .values("query")
        .annotate(searches=Sum("count"), last_day=Max("day"))
        .order_by("-searches", "query")[:limit]
    )
    return [dict(r) for r in rows]


def synonym_groups() -> list[SynonymGroup]:
    """Every synonym group, oldest first (the admin page's list)."""
    return list(SynonymGroup.objects.all())
