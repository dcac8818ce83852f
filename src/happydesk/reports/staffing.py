"""Staffing from real data: arrivals per hour of the week, a handle time per channel, a service goal, and
Erlang C for the agents each hour needs, set beside the hours the schedule covers.

Reads only (selectors in spirit): conversations and replies from the inbox, shifts from scheduling."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Window
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, Lag
from django.utils import timezone

from happydesk.inbox.models import Conversation, Message
from happydesk.reports import erlang
from happydesk.scheduling import selectors as schedule

HOURS = 168
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
SESSION_GAP_SECONDS = 30 * 60  # a longer pause between two replies is a break, not handling time
MIN_SAMPLES = 20  # fewer reply gaps than this and the estimate is noise: fall back and say so


@dataclass(frozen=True)
class Queue:
    """A group of channels answered the same way (asynchronous messages, or live chat)."""

    key: str
    label: str
    channels: tuple[str, ...]
    goal_level: float
    goal_seconds: int
    assumed_aht_seconds: int


QUEUES = (
    Queue(
        "email",
        "Email & forms",
        (
            Conversation.Channel.EMAIL,
            Conversation.Channel.FORM,
            Conversation.Channel.WIDGET,
            Conversation.Channel.API,
        ),
        0.8,
        3600,
        6 * 60,
    ),
    Queue("chat", "Chat", (Conversation.Channel.CHAT,), 0.8, 30, 6 * 60),
)
QUEUE_OF_CHANNEL = {channel: q.key for q in QUEUES for channel in q.channels}


def duration(seconds: float) -> str:
    """A short human duration: 30 s, 6.5 min, 1 h, 1 h 30 min."""
    if seconds < 60:
        return f"{seconds:g} s"
    if seconds < 3600:
        return f"{round(seconds / 60, 1):g} min"
    hours, rest = divmod(round(seconds / 60), 60)
    return f"{hours} h" + (f" {rest} min" if rest else "")


@dataclass(frozen=True)
class Goal:
    level: float  # share answered within `seconds`, 0..1
    seconds: int

    @property
    def label(self) -> str:
        return f"{self.level:.0%} answered within {duration(self.seconds)}"


@dataclass
class HandleTime:
    seconds: float
    source: str  # "entered", "estimated" or "assumed"
    samples: int = 0

    @property
    def label(self) -> str:
        return duration(self.seconds)

    @property
    def note(self) -> str:
        if self.source == "entered":
            return "entered in the form"
        if self.source == "estimated":
            return (
                f"estimate: median time between an agent's consecutive replies in a working session "
                f"({self.samples} gaps; pauses over {SESSION_GAP_SECONDS // 60} min are breaks)"
            )
        why = f"only {self.samples} reply gaps" if self.samples else "no replies"
        return f"assumed ({why} in the period, too few to estimate); enter your own"


@dataclass
class QueuePlan:
    queue: Queue
    goal: Goal
    handle_time: HandleTime
    arrivals: list[float]  # average arrivals per hour of week
    needed: list[int]

    @property
    def weekly_volume(self) -> float:
        return sum(self.arrivals)

    @property
    def peak(self) -> int:
        return max(self.needed)

    @property
    def agent_hours(self) -> int:
        return sum(self.needed)


@dataclass
class Cell:
    weekday: int
    hour: int
    needed: int
    covered: float

    @property
    def gap(self) -> float:
        return max(0.0, self.needed - self.covered)

    @property
    def label(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.hour:02d}:00"


@dataclass
class StaffingPlan:
    zone: str
    weeks: float
    since: datetime
    until: datetime
    max_occupancy: float | None
    queues: list[QueuePlan]
    covered: list[float]
    needed: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.needed = [sum(q.needed[i] for q in self.queues) for i in range(HOURS)]

    @property
    def rows(self) -> list[list[Cell]]:
        return [
            [
                Cell(day, hour, self.needed[day * 24 + hour], self.covered[day * 24 + hour])
                for hour in range(24)
            ]
            for day in range(7)
        ]

    @property
    def gaps(self) -> list[Cell]:
        return [cell for row in self.rows for cell in row if cell.gap > 0]

    @property
    def agent_hours_needed(self) -> int:
        return sum(self.needed)

    @property
    def agent_hours_scheduled(self) -> float:
        return round(sum(self.covered), 1)


def arrivals(*, since: datetime, until: datetime, zone: str) -> dict[str, list[int]]:
    """Conversations opened in each hour of the week (in `zone`), per queue, spam left out. One
    grouped query: the database converts time zones (SQLite through Django's functions, PostgreSQL
    with AT TIME ZONE)."""
    tz = ZoneInfo(zone)
    counts = {q.key: [0] * HOURS for q in QUEUES}
    rows = (
        Conversation.objects.filter(created_at__gte=since, created_at__lt=until)
        .exclude(status=Conversation.Status.SPAM)
        .annotate(wd=ExtractIsoWeekDay("created_at", tzinfo=tz), h=ExtractHour("created_at", tzinfo=tz))
        .values("channel", "wd", "h")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        key = QUEUE_OF_CHANNEL.get(row["channel"])
        if key is not None:
            counts[key][(row["wd"] - 1) * 24 + row["h"]] += row["n"]
    return counts


def handle_time_samples(*, since: datetime, until: datetime) -> dict[str, list[float]]:
    """Seconds between an agent's consecutive replies, when the pause is under the session cap,
    counted for the queue of the later reply (the work in between was producing it). The database
    takes the gaps (a window over each agent's replies) and returns only those inside a session."""
    samples: dict[str, list[float]] = {q.key: [] for q in QUEUES}
    previous = Window(Lag("created_at"), partition_by=[F("author_id")], order_by=[F("created_at"), F("id")])
    gaps = (
        Message.objects.filter(
            kind=Message.Kind.REPLY, author__isnull=False, created_at__gte=since, created_at__lt=until
        )
        .annotate(gap=ExpressionWrapper(F("created_at") - previous, output_field=DurationField()))
        .filter(gap__gt=timedelta(0), gap__lte=timedelta(seconds=SESSION_GAP_SECONDS))
        .values_list("conversation__channel", "gap")
    )
    for channel, gap in gaps.iterator(chunk_size=5000):
        key = QUEUE_OF_CHANNEL.get(channel)
        if key:
            samples[key].append(gap.total_seconds())
    return samples


def handle_time(queue: Queue, samples: list[float], entered_seconds: float | None) -> HandleTime:
    """The handle time used: what the user entered, else the measured median, else an assumption."""
    if entered_seconds:
        return HandleTime(entered_seconds, "entered", len(samples))
    if len(samples) >= MIN_SAMPLES:
        return HandleTime(statistics.median(samples), "estimated", len(samples))
    return HandleTime(float(queue.assumed_aht_seconds), "assumed", len(samples))


def _weeks_of_data(since: datetime, until: datetime) -> float:
    """Weeks the averages are taken over: the window, or less if the help desk is younger than it."""
    first = Conversation.objects.aggregate(first=Min("created_at"))["first"]  # the help desk's age
    start = since if first is None else max(since, first.replace(minute=0, second=0, microsecond=0))
    return max(1.0, (until - start) / timedelta(weeks=1))


def staffing_plan(
    *,
    weeks: int = 8,
    zone: str = "UTC",
    goals: dict[str, Goal] | None = None,
    handle_seconds: dict[str, float | None] | None = None,
    max_occupancy: float | None = None,
    now: datetime | None = None,
) -> StaffingPlan:
    """Agents needed in each hour of the week per queue (Erlang C on the average arrivals of the last
    `weeks` weeks), summed over queues (agents are not assumed to switch between chat and email within
    an hour), beside the people the schedule covers each hour."""
    until = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    since = until - timedelta(weeks=weeks)
    span = _weeks_of_data(since, until)
    counts = arrivals(since=since, until=until, zone=zone)
    samples = handle_time_samples(since=since, until=until)
    plans = []
    for queue in QUEUES:
        goal = (goals or {}).get(queue.key) or Goal(queue.goal_level, queue.goal_seconds)
        aht = handle_time(queue, samples[queue.key], (handle_seconds or {}).get(queue.key))
        average = [n / span for n in counts[queue.key]]
        memo: dict[float, int] = {}
        needed = []
        for calls in average:
            if calls not in memo:
                memo[calls] = erlang.agents_needed(
                    calls=calls,
                    interval_seconds=3600,
                    aht_seconds=aht.seconds,
                    answer_within_seconds=goal.seconds,
                    service_level=goal.level,
                    max_occupancy=max_occupancy,
                ).agents
            needed.append(memo[calls])
        plans.append(QueuePlan(queue, goal, aht, average, needed))
    return StaffingPlan(
        zone=zone,
        weeks=round(span, 1),
        since=since,
        until=until,
        max_occupancy=max_occupancy,
        queues=plans,
        covered=schedule.coverage(zone=zone, week_of=until.astimezone(ZoneInfo(zone)).date()),
    )
