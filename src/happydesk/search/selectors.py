"""Reads about self-service: the deflection rate per mailbox."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from happydesk.search.models import SuggestionSession

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
