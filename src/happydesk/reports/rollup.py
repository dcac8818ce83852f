"""The daily rollup (DailyFact, AgentDailyFact): rebuilt from the raw rows one mailbox and a range of its
local days at a time, so the report reads a few hundred rows however many conversations there are.

`rollup_refresh` (the worker, every few minutes) recomputes only the days something happened to: a new
message or event line (replies, closes, reopens, ratings all write one), a new tag link, saved-reply use or
rating request, plus today and yesterday. `rollup_recent` (nightly) recomputes the last weeks to catch what
leaves no trace (a tag removed from an old conversation). `rollup_rebuild` recomputes everything.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from datetime import tzinfo as TzInfo

from django.db import transaction
from django.db.models import Max, Min, Q, QuerySet
from django.utils import timezone

from happydesk.feedback.models import Rating, RatingRequest
from happydesk.inbox.models import Conversation, Mailbox, Message
from happydesk.replies.models import SavedReplyUse
from happydesk.reports import buckets
from happydesk.reports.hours import ALWAYS_OPEN, BusinessClock, zone
from happydesk.reports.models import AgentDailyFact, DailyFact, RollupState

log = logging.getLogger(__name__)

HOUR = 3600
GOALS = (1 * HOUR, 6 * HOUR, 24 * HOUR)
# A conversation was reopened when the customer wrote back after it was closed, or an agent opened it
# again. A customer's answer to a *pending* conversation is the normal back-and-forth, not a reopen.
REOPEN = Q(event__type="reopened", event__from="closed") | Q(
    event__type="status", event__from="closed", event__to__in=["active", "pending"]
)
INT_FIELDS = (
    "conversations",
    "outside_hours",
    "responded",
    "frt_1h",
    "frt_6h",
    "frt_24h",
    "bfrt_1h",
    "bfrt_6h",
    "bfrt_24h",
    "resolved",
    "resolved_replies",
    "ever_resolved",
    "reopened",
    "rating_requests",
    "great",
    "okay",
    "not_good",
)
_I = {name: i for i, name in enumerate(INT_FIELDS)}
AGENT_FIELDS = ("first_responses", "frt_1h", "bfrt_1h", "replies", "great", "okay", "not_good")
_A = {name: i for i, name in enumerate(AGENT_FIELDS)}
LAG = timedelta(minutes=5)  # look back this far as well: rows committed late by slow transactions
CHUNK_DAYS = 7
Tagging = Conversation.tags.through


class _Row:
    """The counts of one DailyFact row while it is being built."""

    __slots__ = ("ints", "frt", "bfrt", "res", "hour", "saved")

    def __init__(self) -> None:
        self.ints = [0] * len(INT_FIELDS)
        self.frt = buckets.empty()
        self.bfrt = buckets.empty()
        self.res = buckets.empty()
        self.hour = [0] * 24
        self.saved: Counter[int] = Counter()

    def hist(self) -> dict:
        out: dict = {}
        for name in ("frt", "bfrt", "res"):
            counts = buckets.trimmed(getattr(self, name))
            if counts:
                out[name] = counts
        if any(self.hour):
            out["hour"] = self.hour
        if self.saved:
            out["saved"] = {str(k): v for k, v in sorted(self.saved.items())}
        return out


class _AgentRow:
    __slots__ = ("ints", "frt")

    def __init__(self) -> None:
        self.ints = [0] * len(AGENT_FIELDS)
        self.frt = buckets.empty()


def local_midnight(day: date, tz: TzInfo) -> datetime:
    """The instant local `day` begins in `tz`, in UTC."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def mailbox_hours(mailbox: Mailbox) -> dict:
    return mailbox.business_hours or ALWAYS_OPEN


def _conversations(mailbox_id: int, start: datetime, end: datetime) -> QuerySet[Conversation]:
    """The conversations a report counts: arrived in [start, end), not spam, not merged into another."""
    return (
        Conversation.objects.filter(mailbox_id=mailbox_id, created_at__gte=start, created_at__lt=end)
        .exclude(status=Conversation.Status.SPAM)
        .filter(merged_into__isnull=True)
    )


def _counted(qs: QuerySet) -> QuerySet:
    return qs.exclude(conversation__status=Conversation.Status.SPAM).filter(
        conversation__merged_into__isnull=True
    )


@transaction.atomic
def rollup_range(*, mailbox: Mailbox, first: date, last: date) -> int:
    """Recompute the rollup rows of one mailbox for its local days first..last (inclusive) from the raw
    rows, replacing what was there; returns the number of DailyFact rows written."""
    tz = zone(mailbox.timezone)
    clock = BusinessClock(mailbox_hours(mailbox), tz)
    start, end = local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz)
    convs = _conversations(mailbox.pk, start, end)
    rows: dict[tuple[date, str, int], _Row] = defaultdict(_Row)
    agents: dict[tuple[date, str, int], _AgentRow] = defaultdict(_AgentRow)

    tags: dict[int, list[int]] = defaultdict(list)
    ratings = _counted(
        Rating.objects.filter(conversation__mailbox_id=mailbox.pk, created_at__gte=start, created_at__lt=end)
    )
    requests = _counted(
        RatingRequest.objects.filter(
            conversation__mailbox_id=mailbox.pk, created_at__gte=start, created_at__lt=end
        )
    )
    for conversation_id, tag_id in Tagging.objects.filter(
        Q(conversation__in=convs.values("pk"))
        | Q(conversation__in=ratings.values("conversation_id"))
        | Q(conversation__in=requests.values("conversation_id"))
    ).values_list("conversation_id", "tag_id"):
        tags[conversation_id].append(tag_id)

    replies: dict[int, list[tuple[datetime, int | None]]] = defaultdict(list)
    for conversation_id, author_id, at in Message.objects.filter(
        conversation__in=convs.values("pk"), kind=Message.Kind.REPLY
    ).values_list("conversation_id", "author_id", "created_at"):
        replies[conversation_id].append((at, author_id))
    reopened = set(
        Message.objects.filter(conversation__in=convs.values("pk"), kind=Message.Kind.EVENT)
        .filter(REOPEN)
        .values_list("conversation_id", flat=True)
    )
    saved: dict[int, Counter[int]] = defaultdict(Counter)
    for conversation_id, saved_reply_id in SavedReplyUse.objects.filter(
        conversation__in=convs.values("pk"), sent_at__isnull=False
    ).values_list("conversation_id", "saved_reply_id"):
        saved[conversation_id][saved_reply_id] += 1

    def keys(day: date, channel: str, conversation_id: int) -> Iterable[tuple[date, str, int]]:
        yield (day, channel, 0)
        for tag_id in tags.get(conversation_id, ()):
            yield (day, channel, tag_id)

    for pk, channel, created_at, first_response_at, resolved_at in convs.values_list(
        "pk", "channel", "created_at", "first_response_at", "resolved_at"
    ):
        local = created_at.astimezone(tz)
        day = local.date()
        if not first <= day <= last:
            continue  # a midnight that does not exist locally (DST): counted by its own day's pass
        delta = [0] * len(INT_FIELDS)
        delta[_I["conversations"]] = 1
        delta[_I["outside_hours"]] = 0 if clock.is_open(created_at) else 1
        frt = bfrt = res = None
        if first_response_at is not None:
            frt = max(0.0, (first_response_at - created_at).total_seconds())
            bfrt = clock.seconds(created_at, first_response_at)
            delta[_I["responded"]] = 1
            for goal, name in zip(GOALS, ("1h", "6h", "24h"), strict=True):
                delta[_I["frt_" + name]] = int(frt <= goal)
                delta[_I["bfrt_" + name]] = int(bfrt <= goal)
        own_replies = sorted(replies.get(pk, ()), key=lambda r: r[0])
        was_reopened = pk in reopened
        if resolved_at is not None:
            res = max(0.0, (resolved_at - created_at).total_seconds())
            delta[_I["resolved"]] = 1
            delta[_I["resolved_replies"]] = len(own_replies)
        if resolved_at is not None or was_reopened:
            delta[_I["ever_resolved"]] = 1
            delta[_I["reopened"]] = int(was_reopened)
        for key in keys(day, channel, pk):
            row = rows[key]
            ints = row.ints
            for i, v in enumerate(delta):
                ints[i] += v
            row.hour[local.hour] += 1
            if frt is not None and bfrt is not None:  # set together, by the first response
                row.frt[buckets.bucket_of(frt)] += 1
                row.bfrt[buckets.bucket_of(bfrt)] += 1
            if res is not None:
                row.res[buckets.bucket_of(res)] += 1
            if pk in saved:
                row.saved.update(saved[pk])
        # Per agent: who answered first and how fast, and everyone's replies.
        if own_replies and own_replies[0][1] is not None and frt is not None:
            arow = agents[(day, channel, own_replies[0][1])]
            arow.ints[_A["first_responses"]] += 1
            arow.ints[_A["frt_1h"]] += int(frt <= HOUR)
            arow.ints[_A["bfrt_1h"]] += int(bfrt is not None and bfrt <= HOUR)
            arow.frt[buckets.bucket_of(frt)] += 1
        for author_id, n in Counter(a for _, a in own_replies if a is not None).items():
            agents[(day, channel, author_id)].ints[_A["replies"]] += n

    for conversation_id, channel, value, agent_id, at in ratings.values_list(
        "conversation_id", "conversation__channel", "value", "agent_id", "created_at"
    ):
        day = at.astimezone(tz).date()
        if first <= day <= last and value in _I:
            for key in keys(day, channel, conversation_id):
                rows[key].ints[_I[value]] += 1
            if agent_id is not None:
                agents[(day, channel, agent_id)].ints[_A[value]] += 1
    for conversation_id, channel, at in requests.values_list(
        "conversation_id", "conversation__channel", "created_at"
    ):
        day = at.astimezone(tz).date()
        if first <= day <= last:
            for key in keys(day, channel, conversation_id):
                rows[key].ints[_I["rating_requests"]] += 1

    DailyFact.objects.filter(mailbox_id=mailbox.pk, day__gte=first, day__lte=last).delete()
    AgentDailyFact.objects.filter(mailbox_id=mailbox.pk, day__gte=first, day__lte=last).delete()
    DailyFact.objects.bulk_create(
        [
            DailyFact(
                day=day,
                weekday=day.weekday(),
                mailbox_id=mailbox.pk,
                channel=channel,
                tag=tag_id,
                hist=row.hist(),
                **dict(zip(INT_FIELDS, row.ints, strict=True)),
            )
            for (day, channel, tag_id), row in rows.items()
        ],
        batch_size=500,
    )
    AgentDailyFact.objects.bulk_create(
        [
            AgentDailyFact(
                day=day,
                weekday=day.weekday(),
                mailbox_id=mailbox.pk,
                channel=channel,
                agent_id=agent_id,
                hist={"frt": buckets.trimmed(arow.frt)} if any(arow.frt) else {},
                **dict(zip(AGENT_FIELDS, arow.ints, strict=True)),
            )
            for (day, channel, agent_id), arow in agents.items()
        ],
        batch_size=500,
    )
    return len(rows)


def _state() -> RollupState:
    state, _ = RollupState.objects.get_or_create(pk=1)
    return state


def _marks() -> dict[str, int]:
    """The newest id of each raw table the refresh watches."""
    return {
        "last_message_id": Message.objects.aggregate(m=Max("pk"))["m"] or 0,
        "last_tag_link_id": Tagging.objects.aggregate(m=Max("pk"))["m"] or 0,
        "last_saved_use_id": SavedReplyUse.objects.aggregate(m=Max("pk"))["m"] or 0,
        "last_rating_request_id": RatingRequest.objects.aggregate(m=Max("pk"))["m"] or 0,
    }


def _ranges(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days grouped into (first, last) ranges of at most CHUNK_DAYS days."""
    out: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if out and day == out[-1][1] + timedelta(days=1) and (day - out[-1][0]).days < CHUNK_DAYS:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


def _recompute(dirty: dict[int, set[date]]) -> int:
    mailboxes = Mailbox.objects.in_bulk(list(dirty))
    done = 0
    for mailbox_id, days in dirty.items():
        mailbox = mailboxes.get(mailbox_id)
        if mailbox is None:
            continue
        for first, last in _ranges(days):
            rollup_range(mailbox=mailbox, first=first, last=last)
            done += (last - first).days + 1
    return done


def _clear(mailbox_id: int, first: date | None, last: date) -> None:
    for model in (DailyFact, AgentDailyFact):
        rows = model.objects.filter(mailbox_id=mailbox_id, day__lte=last)
        (rows if first is None else rows.filter(day__gte=first)).delete()


def _next_activity(mailbox_id: int, since: datetime) -> datetime | None:
    """The first thing the rollup counts at or after `since`: an arrival, a rating or a rating request."""
    found = [
        Conversation.objects.filter(mailbox_id=mailbox_id, created_at__gte=since).aggregate(
            m=Min("created_at")
        )["m"],
        Rating.objects.filter(conversation__mailbox_id=mailbox_id, created_at__gte=since).aggregate(
            m=Min("created_at")
        )["m"],
        RatingRequest.objects.filter(conversation__mailbox_id=mailbox_id, created_at__gte=since).aggregate(
            m=Min("created_at")
        )["m"],
    ]
    return min((f for f in found if f is not None), default=None)


def rollup_rebuild(*, now: datetime | None = None) -> int:
    """Recompute every day of every mailbox from the raw rows (`happydesk reports rebuild`), up to `now`;
    returns the number of mailbox-days recomputed. Each week is its own transaction: the report stays
    readable meanwhile."""
    marks, started = _marks(), now or timezone.now()
    done = 0
    for mailbox in Mailbox.objects.order_by("pk"):
        tz = zone(mailbox.timezone)
        oldest = Conversation.objects.filter(mailbox=mailbox).aggregate(m=Min("created_at"))["m"]
        if oldest is None:
            _clear(mailbox.pk, None, date.max)
            continue
        first, today = oldest.astimezone(tz).date(), started.astimezone(tz).date()
        _clear(mailbox.pk, None, first - timedelta(days=1))
        while first <= today:
            after = _next_activity(mailbox.pk, local_midnight(first, tz))
            resume = today + timedelta(days=1) if after is None else after.astimezone(tz).date()
            if resume > first:  # nothing happened in between: no rows there
                _clear(mailbox.pk, first, min(today, resume - timedelta(days=1)))
                first = resume
                continue
            last = min(today, first + timedelta(days=CHUNK_DAYS - 1))
            rollup_range(mailbox=mailbox, first=first, last=last)
            done += (last - first).days + 1
            first = last + timedelta(days=1)
    RollupState.objects.update_or_create(
        pk=1, defaults={"refreshed_at": started, "rebuilt_at": started, **marks}
    )
    return done


def rollup_recent(*, days: int = 35) -> int:
    """Recompute the last `days` days of every mailbox (the nightly sweep)."""
    now = timezone.now()
    dirty: dict[int, set[date]] = {}
    for mailbox in Mailbox.objects.all():
        today = now.astimezone(zone(mailbox.timezone)).date()
        dirty[mailbox.pk] = {today - timedelta(days=n) for n in range(days)}
    return _recompute(dirty)


def rollup_refresh() -> int:
    """Recompute the days that changed since the last refresh (and today and yesterday); returns the
    number of mailbox-days recomputed. The first refresh is a full rebuild."""
    state = _state()
    if state.refreshed_at is None:
        return rollup_rebuild()
    marks, started = _marks(), timezone.now()
    since = state.refreshed_at - LAG
    new_messages = Message.objects.filter(Q(pk__gt=state.last_message_id) | Q(created_at__gte=since))
    changed = (
        Q(pk__in=new_messages.values("conversation_id"))
        | Q(pk__in=Tagging.objects.filter(pk__gt=state.last_tag_link_id).values("conversation_id"))
        | Q(
            pk__in=SavedReplyUse.objects.filter(
                Q(pk__gt=state.last_saved_use_id) | Q(used_at__gte=since) | Q(sent_at__gte=since)
            ).values("conversation_id")
        )
        | Q(
            pk__in=RatingRequest.objects.filter(pk__gt=state.last_rating_request_id).values("conversation_id")
        )
        | Q(pk__in=Rating.objects.filter(updated_at__gte=since).values("conversation_id"))
    )
    changed_ids = Conversation.objects.filter(changed).values("pk")
    mailboxes = {m.pk: zone(m.timezone) for m in Mailbox.objects.all()}
    dirty: dict[int, set[date]] = defaultdict(set)

    def mark(mailbox_id: int, at: datetime) -> None:
        tz = mailboxes.get(mailbox_id)
        if tz is not None:
            dirty[mailbox_id].add(at.astimezone(tz).date())

    for mailbox_id, at in Conversation.objects.filter(pk__in=changed_ids).values_list(
        "mailbox_id", "created_at"
    ):
        mark(mailbox_id, at)
    for model in (Rating, RatingRequest):
        for mailbox_id, at in model.objects.filter(conversation__in=changed_ids).values_list(
            "conversation__mailbox_id", "created_at"
        ):
            mark(mailbox_id, at)
    # A conversation moved to another mailbox leaves stale rows in the old one: redo its day everywhere.
    moved = new_messages.filter(kind=Message.Kind.EVENT, event__type="moved").values("conversation_id")
    for at in Conversation.objects.filter(pk__in=moved).values_list("created_at", flat=True):
        for mailbox_id in mailboxes:
            mark(mailbox_id, at)
    for mailbox_id, tz in mailboxes.items():
        today = started.astimezone(tz).date()
        dirty[mailbox_id] |= {today, today - timedelta(days=1)}
    done = _recompute(dirty)
    RollupState.objects.filter(pk=1).update(refreshed_at=started, **marks)
    return done
