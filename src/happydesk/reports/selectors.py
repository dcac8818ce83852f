"""Reads for the happiness report, from the daily rollup only: a few hundred rollup rows per period
however many conversations there are (docs/subsystems/reports.md). Raw rows are read only where it is
cheap and bounded: the five latest comments."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone

from happydesk.accounts.models import User
from happydesk.feedback.models import Rating
from happydesk.inbox.access import conversations_every_agent_may_see, conversations_for_agent
from happydesk.inbox.models import Conversation, Mailbox, Tag
from happydesk.replies.models import SavedReply
from happydesk.reports import buckets
from happydesk.reports.filters import Filters
from happydesk.reports.hours import zone
from happydesk.reports.models import (
    AgentDailyFact,
    BusinessVolume,
    DailyFact,
    ReportSettings,
    ReportShare,
    SupportCost,
)
from happydesk.reports.rollup import AGENT_FIELDS, INT_FIELDS

NO_TAG = -1  # a tag name that does not exist: matches no rollup row


def report_settings() -> ReportSettings:
    """The one settings row (created with the defaults on first use)."""
    row, _ = ReportSettings.objects.get_or_create(pk=1)
    return row


def report_today() -> date:
    """Today in the report's time zone (the default range ends today)."""
    return timezone.now().astimezone(zone(report_settings().timezone)).date()


def tag_id_for(name: str) -> int:
    if not name:
        return 0
    return Tag.objects.filter(name=name).values_list("pk", flat=True).first() or NO_TAG


def _narrow(qs: QuerySet, f: Filters) -> QuerySet:
    if f.mailbox_id:
        qs = qs.filter(mailbox_id=f.mailbox_id)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    return qs


def happiness_score(great: int, not_good: int, ratings: int) -> int | None:
    """(great - not good) / all ratings as a percentage, as feedback.selectors.happiness, from counts."""
    return round(100 * (great - not_good) / ratings) if ratings else None


class Totals:
    """The rollup rows of one period added up."""

    def __init__(self) -> None:
        self.ints = dict.fromkeys(INT_FIELDS, 0)
        self.frt, self.bfrt, self.res = buckets.empty(), buckets.empty(), buckets.empty()
        self.heat = [[0] * 24 for _ in range(7)]
        self.daily: Counter[date] = Counter()
        self.daily_ratings: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0])
        self.channels: dict[str, Counter[str]] = defaultdict(Counter)
        self.weekdays: dict[int, Counter[str]] = defaultdict(Counter)
        self.weekday_frt: dict[int, list[int]] = defaultdict(buckets.empty)
        self.zone_hours: dict[int, list[int]] = defaultdict(lambda: [0] * 24)  # by mailbox
        self.zone_outside: Counter[int] = Counter()
        self.zone_count: Counter[int] = Counter()
        self.saved: Counter[int] = Counter()

    def add(self, day: date, weekday: int, mailbox_id: int, channel: str, ints: dict, hist: dict) -> None:
        for name, v in ints.items():
            self.ints[name] += v
        self.channels[channel].update(ints)
        self.weekdays[weekday].update(ints)
        self.daily[day] += ints["conversations"]
        rated = self.daily_ratings[day]
        rated[0] += ints["great"]
        rated[1] += ints["okay"]
        rated[2] += ints["not_good"]
        self.zone_count[mailbox_id] += ints["conversations"]
        self.zone_outside[mailbox_id] += ints["outside_hours"]
        buckets.add_into(self.frt, hist.get("frt"))
        buckets.add_into(self.bfrt, hist.get("bfrt"))
        buckets.add_into(self.res, hist.get("res"))
        buckets.add_into(self.weekday_frt[weekday], hist.get("frt"))
        hours = hist.get("hour")
        if hours:
            buckets.add_into(self.heat[weekday], hours)
            buckets.add_into(self.zone_hours[mailbox_id], hours)
        for key, n in (hist.get("saved") or {}).items():
            self.saved[int(key)] += n

    # -- figures ----------------------------------------------------------------------------------------

    def share(self, part: str, whole: str) -> float | None:
        return self.ints[part] / self.ints[whole] if self.ints[whole] else None

    @property
    def ratings(self) -> int:
        return self.ints["great"] + self.ints["okay"] + self.ints["not_good"]

    @property
    def score(self) -> int | None:
        """The happiness score: great minus not good, as a percentage of all ratings."""
        return happiness_score(self.ints["great"], self.ints["not_good"], self.ratings)

    @property
    def response_rate(self) -> float | None:
        requests = self.ints["rating_requests"]
        return min(1.0, self.ratings / requests) if requests else None

    @property
    def replies_per_resolved(self) -> float | None:
        return self.ints["resolved_replies"] / self.ints["resolved"] if self.ints["resolved"] else None


def totals(f: Filters) -> tuple[Totals, Totals]:
    """This period and the previous one, added up from the rollup in one query."""
    prev = f.previous()
    current, previous = Totals(), Totals()
    qs = _narrow(DailyFact.objects.filter(tag=tag_id_for(f.tag), day__gte=prev.start, day__lte=f.end), f)
    for day, weekday, mailbox_id, channel, *ints, hist in qs.values_list(
        "day", "weekday", "mailbox_id", "channel", *INT_FIELDS, "hist"
    ):
        target = current if day >= f.start else previous
        target.add(day, weekday, mailbox_id, channel, dict(zip(INT_FIELDS, ints, strict=True)), hist or {})
    return current, previous


@dataclass
class TopIssue:
    tag: str
    current: int
    previous: int
    week: int
    week_before: int


def top_issues(f: Filters, *, limit: int | None = 10) -> list[TopIssue]:
    """Tags ranked by conversations in the period, with the previous period and week over week (the
    last 7 days of the period against the 7 before)."""
    prev = f.previous()
    week_start, before_start = f.end - timedelta(days=6), f.end - timedelta(days=13)
    qs = _narrow(
        DailyFact.objects.filter(tag__gt=0, day__gte=min(prev.start, before_start), day__lte=f.end), f
    )
    rows = (
        qs.values("tag")
        .annotate(
            current=Sum("conversations", filter=Q(day__gte=f.start)),
            previous=Sum("conversations", filter=Q(day__gte=prev.start, day__lt=f.start)),
            week=Sum("conversations", filter=Q(day__gte=week_start)),
            week_before=Sum("conversations", filter=Q(day__gte=before_start, day__lt=week_start)),
        )
        .filter(Q(current__gt=0) | Q(previous__gt=0))
        .order_by("-current", "-previous", "tag")
    )
    if limit:
        rows = rows[:limit]
    rows = list(rows)
    names = Tag.objects.in_bulk([r["tag"] for r in rows])
    return [
        TopIssue(
            tag=names[r["tag"]].name,
            current=r["current"] or 0,
            previous=r["previous"] or 0,
            week=r["week"] or 0,
            week_before=r["week_before"] or 0,
        )
        for r in rows
        if r["tag"] in names
    ]


@dataclass
class Baseline:
    tag: str
    median_day: float
    median_weekday: float | None
    median_weekend: float | None
    busiest: int
    last_day: int


def baselines(f: Filters, tag_names: list[str] | None = None, *, weeks: int = 8) -> list[Baseline]:
    """The typical daily count of chosen tags: the median per day over the `weeks` weeks ending with the
    period (days with none count as 0). Without chosen tags: the three biggest."""
    first = f.end - timedelta(days=7 * weeks - 1)
    base = _narrow(DailyFact.objects.filter(tag__gt=0, day__gte=first, day__lte=f.end), f)
    tags: dict[int, str]
    if tag_names:
        tags = dict(Tag.objects.filter(name__in=tag_names).values_list("pk", "name"))
    else:
        biggest = base.values("tag").annotate(n=Sum("conversations")).order_by("-n", "tag")[:3]
        tags = {pk: t.name for pk, t in Tag.objects.in_bulk([r["tag"] for r in biggest]).items()}
    per_day: dict[int, Counter[date]] = defaultdict(Counter)
    for tag, day, n in (
        base.filter(tag__in=list(tags))
        .values("tag", "day")
        .annotate(n=Sum("conversations"))
        .values_list("tag", "day", "n")
    ):
        per_day[tag][day] = n
    days = [first + timedelta(days=i) for i in range(7 * weeks)]
    out = []
    for pk, name in sorted(tags.items(), key=lambda item: item[1]):
        counts = per_day[pk]
        weekday = [counts[d] for d in days if d.weekday() < 5]
        weekend = [counts[d] for d in days if d.weekday() >= 5]
        out.append(
            Baseline(
                tag=name,
                median_day=statistics.median(counts[d] for d in days),
                median_weekday=statistics.median(weekday) if weekday else None,
                median_weekend=statistics.median(weekend) if weekend else None,
                busiest=max(counts[d] for d in days),
                last_day=counts[f.end],
            )
        )
    return out


def saved_reply_names(ids: list[int]) -> dict[int, str]:
    return {pk: r.name for pk, r in SavedReply.objects.in_bulk(ids).items()}


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """The instants the report's days first..last begin and end, in the report's time zone."""
    tz = zone(report_settings().timezone)
    start = datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


def visible_conversations(viewer: User | None) -> QuerySet[Conversation]:
    """The conversations a report may quote: the signed-in viewer's (inbox.access), or, for readers not
    known by name (share links, the emailed digest), what every agent may see: never a security report."""
    return conversations_for_agent(viewer) if viewer is not None else conversations_every_agent_may_see()


def recent_comments(f: Filters, *, limit: int = 5, viewer: User | None = None) -> list[dict]:
    """The latest rating comments in the period (bounded: an indexed range, newest first, a few rows),
    on conversations the viewer may see (`visible_conversations`)."""
    start, end = day_bounds(f.start, f.end)
    qs = (
        Rating.objects.filter(created_at__gte=start, created_at__lt=end)
        .exclude(comment="")
        .exclude(conversation__status=Conversation.Status.SPAM)
        .filter(conversation__in=visible_conversations(viewer).values("pk"))
    )
    if f.mailbox_id:
        qs = qs.filter(conversation__mailbox_id=f.mailbox_id)
    if f.channel:
        qs = qs.filter(conversation__channel=f.channel)
    if f.tag:
        qs = qs.filter(conversation__tags__name=f.tag)
    rows = qs.order_by("-created_at").values(
        "conversation_id",
        "value",
        "comment",
        "created_at",
        customer_name=F("conversation__customer__name"),
    )[:limit]
    return [dict(r) for r in rows]


@dataclass
class VolumeFigure:
    metric: str
    volume: int
    conversations: int
    previous_volume: int
    previous_conversations: int

    @staticmethod
    def per_thousand(conversations: int, volume: int) -> float | None:
        return 1000 * conversations / volume if volume else None


def contacts_per_transaction(f: Filters, current: Totals, previous: Totals) -> list[VolumeFigure]:
    """Conversations per business unit (orders, active users...), over the days that have a figure."""
    prev = f.previous()
    days: dict[str, dict[date, int]] = defaultdict(dict)
    for metric, day, value in BusinessVolume.objects.filter(
        date__gte=prev.start, date__lte=f.end
    ).values_list("metric", "date", "value"):
        days[metric][day] = value
    out = []
    for metric in sorted(days):
        values = days[metric]
        cur_days = [d for d in values if d >= f.start]
        prev_days = [d for d in values if d < f.start]
        out.append(
            VolumeFigure(
                metric=metric,
                volume=sum(values[d] for d in cur_days),
                conversations=sum(current.daily[d] for d in cur_days),
                previous_volume=sum(values[d] for d in prev_days),
                previous_conversations=sum(previous.daily[d] for d in prev_days),
            )
        )
    return out


def support_cost(first: date, last: date) -> Decimal | None:
    """What support cost over these days: each month's amount spread over its days; a month without an
    entry costs what the last earlier entry says. None unless an entry covers the first day."""
    entries = list(
        SupportCost.objects.filter(month__lte=last).order_by("month").values_list("month", "amount")
    )
    if not entries or entries[0][0] > first.replace(day=1):
        return None  # not known for the whole period
    total, day, i = Decimal(0), first, -1
    while day <= last:
        while i + 1 < len(entries) and entries[i + 1][0] <= day:
            i += 1
        month_days = ((day.replace(day=28) + timedelta(days=4)).replace(day=1) - day.replace(day=1)).days
        total += entries[i][1] / month_days
        day += timedelta(days=1)
    return total.quantize(Decimal("0.01"))


@dataclass
class AgentFigures:
    agent: str
    first_responses: int = 0
    frt_1h: int = 0
    bfrt_1h: int = 0
    replies: int = 0
    great: int = 0
    okay: int = 0
    not_good: int = 0
    frt: list[int] = field(default_factory=buckets.empty)

    @property
    def ratings(self) -> int:
        return self.great + self.okay + self.not_good

    @property
    def score(self) -> int | None:
        return happiness_score(self.great, self.not_good, self.ratings)


def agent_figures(f: Filters) -> list[tuple[AgentFigures, AgentFigures]]:
    """Each agent's figures for the period and the previous one, in alphabetical order (not a ranking).
    Not narrowed by tag: the per-agent rollup has no tag dimension."""
    prev = f.previous()
    figures: dict[int, tuple[AgentFigures, AgentFigures]] = {}
    qs = _narrow(AgentDailyFact.objects.filter(day__gte=prev.start, day__lte=f.end), f)
    for agent_id, day, *ints, hist in qs.values_list("agent_id", "day", *AGENT_FIELDS, "hist"):
        pair = figures.setdefault(agent_id, (AgentFigures(""), AgentFigures("")))
        target = pair[0] if day >= f.start else pair[1]
        for name, v in zip(AGENT_FIELDS, ints, strict=True):
            setattr(target, name, getattr(target, name) + v)
        buckets.add_into(target.frt, (hist or {}).get("frt"))
    names = dict(User.objects.filter(pk__in=list(figures)).values_list("pk", "name"))
    for agent_id, (cur, before) in figures.items():
        cur.agent = before.agent = names.get(agent_id, "(removed)")
    return sorted(figures.values(), key=lambda pair: pair[0].agent.lower())


def mailboxes_by_id() -> dict[int, Mailbox]:
    return Mailbox.objects.in_bulk()


def active_shares() -> list[ReportShare]:
    return list(ReportShare.objects.filter(revoked_at__isnull=True).select_related("created_by"))
