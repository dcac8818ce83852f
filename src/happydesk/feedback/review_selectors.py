"""Reads for quality review: averages per criterion over time, a sample's progress, who was reviewed.

Deliberately no ordering by score anywhere: reviews are for coaching, people are listed by name."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Avg, Count, QuerySet
from django.db.models.functions import TruncMonth

from happydesk.accounts.models import User
from happydesk.feedback.models import QualityReview, ReviewSample
from happydesk.inbox.models import Conversation

CRITERIA = QualityReview.CRITERIA


def reviews(*, agent: User | None = None) -> QuerySet[QualityReview]:
    qs = QualityReview.objects.select_related("conversation", "agent", "reviewer").order_by("-created_at")
    return qs.filter(agent=agent) if agent is not None else qs


def averages(qs: QuerySet[QualityReview]) -> dict:
    """Reviews counted and the mean of each criterion (None with no reviews)."""
    row = qs.aggregate(count=Count("id"), **{name: Avg(name) for name, _ in CRITERIA})
    return {"count": row["count"], "criteria": [(label, row[name]) for name, label in CRITERIA]}


@dataclass
class Month:
    month: object
    count: int
    criteria: list[tuple[str, float]]


def trend(qs: QuerySet[QualityReview], *, months: int = 12) -> list[Month]:
    """Averages per criterion per calendar month, newest first: is coaching working?"""
    rows = (
        qs.annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(count=Count("id"), **{name: Avg(name) for name, _ in CRITERIA})
        .order_by("-month")[:months]
    )
    return [
        Month(r["month"], r["count"], [(label, r[name]) for name, label in CRITERIA])  # type: ignore[literal-required]  # averages annotated by name from CRITERIA: the row's TypedDict lacks them
        for r in rows
    ]


def reviewed_agents() -> list[tuple[User, int]]:
    """Agents with reviews and how many, by name (never by score)."""
    counts = dict(QualityReview.objects.values("agent").annotate(n=Count("id")).values_list("agent", "n"))
    agents = User.objects.filter(pk__in=counts).order_by("name", "pk")
    return [(a, counts[a.pk]) for a in agents]


@dataclass
class SampleRow:
    conversation: Conversation
    agent: User | None
    review: QualityReview | None


def sample_rows(sample: ReviewSample, *, reviewer: User) -> list[SampleRow]:
    """The sample's conversations in order, each with the agent reviewed and this reviewer's review."""
    picks = {int(k): v for k, v in sample.filters.get("picks", {}).items()}
    conversations = list(sample.conversations.select_related("customer").order_by("pk"))
    agents = User.objects.in_bulk(set(picks.values()))
    done = {
        (r.conversation_id, r.agent_id): r
        for r in QualityReview.objects.filter(sample=sample, reviewer=reviewer)
    }
    rows = []
    for c in conversations:
        agent = agents.get(picks.get(c.pk, 0))
        rows.append(SampleRow(c, agent, done.get((c.pk, agent.pk)) if agent else None))
    return rows


def open_samples(*, reviewer: User, limit: int = 20) -> list[tuple[ReviewSample, int, int]]:
    """This reviewer's recent samples with (scored, total)."""
    samples = list(
        ReviewSample.objects.filter(reviewer=reviewer)
        .annotate(total=Count("conversations", distinct=True))
        .order_by("-created_at")[:limit]
    )
    scored = dict(
        QualityReview.objects.filter(sample__in=samples, reviewer=reviewer)
        .values("sample")
        .annotate(n=Count("id"))
        .values_list("sample", "n")
    )
    return [(s, scored.get(s.pk, 0), s.total) for s in samples]
