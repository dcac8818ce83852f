"""Read queries shared by the pages and the API."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import (
    BooleanField,
    Case,
    DateTimeField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Greatest, Ln
from django.db.models.lookups import GreaterThan

from happydesk.accounts.models import User
from happydesk.inbox.access import conversations_for_agent
from happydesk.inbox.models import Conversation, Message

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler, _AsSqlType

    from happydesk.customers.models import Customer
    from happydesk.inbox.models import SavedView


def conversation_list(
    *,
    agent: User,
    status: str | None = None,
    mailbox: str | None = None,
    tag: str | None = None,
    customer_email: str | None = None,
    q: str | None = None,
    hits: list[int] | None = None,
    feeling: str | None = None,
    waiting_over_minutes: int | None = None,
    channel: str | None = None,
    assigned: str | None = None,
) -> QuerySet[Conversation]:
    """Conversations for a list, newest activity first, with what a row shows prefetched."""
    qs = with_row_data(conversations_for_agent(agent).filter(merged_into__isnull=True))
    if status == "snoozed":
        qs = qs.filter(snoozed_until__isnull=False)
    elif status:
        qs = qs.filter(status=status)
        if status != Conversation.Status.CLOSED:
            qs = qs.filter(snoozed_until__isnull=True)  # snoozed ones wait in their own view
    if mailbox:
        qs = qs.filter(
            Q(mailbox__address=mailbox.lower()) | Q(mailbox__pk=mailbox if mailbox.isdigit() else None)
        )
    if tag:
        qs = qs.filter(tags__name=tag.lower())
    if feeling:
        qs = qs.filter(feeling=feeling)
    if channel:
        qs = qs.filter(channel=channel)
    if assigned == "me":
        qs = qs.filter(assignee=agent)
    elif assigned == "nobody":
        qs = qs.filter(assignee__isnull=True)
    if waiting_over_minutes:
        from django.utils import timezone

        qs = qs.filter(waiting_since__lte=timezone.now() - timedelta(minutes=waiting_over_minutes))
    if customer_email:
        qs = qs.filter(customer__emails__address=customer_email.lower())
    if q and q.strip():
        hits = search_hits(q) if hits is None else hits
        text = q.strip()
        match = Q(pk__in=hits)
        if text.lstrip("#").isdigit():
            match |= Q(pk=int(text.lstrip("#")))
        if "@" in text:
            from happydesk.customers.models import CustomerEmail

            owners = CustomerEmail.objects.filter(address=text.lower()).values("customer_id")
            match |= Q(customer_id__in=owners)
        qs = qs.filter(match)  # rank with `search_ranked`
    return qs.order_by("-last_activity_at", "-id")


def search_ranked(qs: QuerySet[Conversation], hits: list[int]) -> list[int]:
    """Ids of a searched list, best match first (the engine's rank), then other matches (a number, an
    address) by recency. Sorted here, not in SQL: a search list is at most a few hundred ids."""
    rank = {pk: i for i, pk in enumerate(hits)}
    found = qs.select_related(None).prefetch_related(None).values_list("id", flat=True)
    return sorted(found, key=lambda pk: rank.get(pk, len(rank)))


def search_hits(q: str, *, limit: int = 200) -> list[int]:
    """Conversation ids matching the words of `q`, best first. "#123" means conversation 123 only."""
    from happydesk.search.engines import engine

    if re.fullmatch(r"\s*#\d+\s*", q):
        return []
    return [hit.conversation_id for hit in engine().search(q, limit=limit)]


def search_snippets(q: str, ids: list[int]) -> dict[int, str]:
    """A highlighted snippet for each of these conversations (only the rows a page shows)."""
    from happydesk.search.engines import engine

    return engine().snippets(q, ids) if q and q.strip() else {}


def status_counts(*, agent: User) -> dict[str, int | None]:
    """How many conversations wait in each open view. Closed is not counted (it only grows, and
    counting it would read every row on each inbox load); its count is None."""
    from django.db.models import Count

    rows = (
        conversations_for_agent(agent)
        .filter(merged_into__isnull=True)
        .filter(status__in=[v for v in Conversation.Status.values if v != Conversation.Status.CLOSED])
        .values(
            "status", snoozed=ExpressionWrapper(Q(snoozed_until__isnull=False), output_field=BooleanField())
        )
        .annotate(n=Count("*"))  # COUNT(*): answered from the covering index alone
        .order_by()
    )
    counts: dict[str, int | None] = dict.fromkeys([*Conversation.Status.values, "snoozed"], 0)
    counts[Conversation.Status.CLOSED] = None
    for row in rows:
        counts["snoozed" if row["snoozed"] else row["status"]] += row["n"]
    return counts


def inbox_badges(*, agent: User) -> dict[str, int]:
    """Two numbers over the open view, in one query: "mine" (open and assigned to the agent) and
    "unread" (open, with a customer message newer than the agent's last look: the tab title's count).
    The seen check is one probe of the (agent, conversation) unique index per open conversation."""
    from django.db.models import Count, Exists, OuterRef

    from happydesk.inbox.models import ConversationSeen

    seen = ConversationSeen.objects.filter(
        agent=agent, conversation=OuterRef("pk"), seen_at__gte=OuterRef("last_customer_message_at")
    )
    return (
        conversations_for_agent(agent)
        .filter(status=Conversation.Status.ACTIVE, merged_into__isnull=True, snoozed_until__isnull=True)
        .aggregate(
            mine=Count("pk", filter=Q(assignee=agent)),
            unread=Count("pk", filter=Q(Q(last_customer_message_at__isnull=False), ~Exists(seen))),
        )
    )


def assignable_agents(conversation: Conversation | None = None) -> QuerySet[User]:
    """Who can own a conversation, by name: active agents, and for a security report not light agents
    (services.assignee_check holds the same rule). Without a conversation: every active agent (bulk)."""
    from django.db.models import Exists

    from happydesk.inbox.models import SecurityFlag

    agents = User.objects.filter(is_active=True).order_by("name", "pk")
    if conversation is not None:
        flagged = SecurityFlag.objects.filter(conversation=conversation, active=True)
        agents = agents.exclude(Q(role=User.Role.LIGHT) & Exists(flagged))
    return agents


def thread(conversation: Conversation) -> list[Message]:
    """Every line of a conversation in time order, with authors and attachments."""
    return list(
        conversation.messages.select_related("author", "outbound")
        .prefetch_related(Prefetch("attachments"))
        .order_by("created_at", "id")
    )


def customer_thread(conversation: Conversation) -> QuerySet[Message]:
    """What the customer sees of a conversation (the portal, the widget), in time order: their
    messages and our replies with attachments, never notes or event lines."""
    return (
        conversation.messages.filter(kind__in=Message.PUBLIC_KINDS)
        .select_related("author")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )


def snooze_options() -> list[tuple[str, str, datetime]]:
    """Snooze choices in the time zone the page shows times in (the agent's, which
    AgentTimeZoneMiddleware made current; else UTC), so "until tomorrow, Tue 9:00" and the snoozed time
    shown afterwards agree: (key, label, until)."""
    from django.utils import timezone

    zone = timezone.get_current_timezone()
    now = timezone.now().astimezone(zone)
    tomorrow = (now + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    monday = (now + timedelta(days=7 - now.weekday())).replace(hour=9, minute=0, second=0, microsecond=0)
    return [
        ("hour", "for an hour", now + timedelta(hours=1)),
        ("tomorrow", f"until tomorrow, {tomorrow:%a} 9:00", tomorrow),
        ("monday", f"until Monday {monday:%b %-d}, 9:00", monday),
        ("week", "for a week", now + timedelta(days=7)),
    ]


def handoff_line(conversation: Conversation, agent: User, thread: Sequence[Message] | None = None) -> str:
    """When someone else answered last, a line that tells the customer who is talking to them now.
    `thread` is the page's already loaded thread (time order), read instead of querying again."""
    if thread is None:
        last = (
            conversation.messages.filter(kind=Message.Kind.REPLY, author__isnull=False)
            .select_related("author")
            .order_by("-created_at", "-id")
            .first()
        )
    else:
        replies = [m for m in thread if m.kind == Message.Kind.REPLY and m.author_id is not None]
        last = replies[-1] if replies else None
    if last is None or last.author is None or last.author_id == agent.pk:
        return ""
    hello = f"Hi {conversation.customer.first_name}, " if conversation.customer.first_name else "Hi, "
    return f"{hello}it's {agent.first_name} here, picking this up from {last.author.first_name}."


def exchanges_without_resolution(conversation: Conversation, thread: Sequence[Message] | None = None) -> int:
    """Back-and-forths (a customer message answered by a reply) since the conversation was last closed.
    `thread` is the page's already loaded thread (time order), read instead of querying again."""
    wanted = (Message.Kind.CUSTOMER, Message.Kind.REPLY)
    since = conversation.resolved_at
    if thread is None:
        rows = conversation.messages.filter(kind__in=wanted)
        if since:
            rows = rows.filter(created_at__gt=since)
        kinds = list(rows.order_by("created_at", "id").values_list("kind", flat=True))
    else:
        kinds = [m.kind for m in thread if m.kind in wanted and (not since or m.created_at > since)]
    count, previous = 0, None
    for kind in kinds:
        if kind == Message.Kind.REPLY and previous == Message.Kind.CUSTOMER:
            count += 1
        previous = kind
    return count


class SecondsBetween(Func):
    """Seconds from the second datetime to the first, in each engine's own date arithmetic."""

    arity = 2
    output_field = FloatField()

    def as_sqlite(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> _AsSqlType:
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra,
        )

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> _AsSqlType:
        return self.as_sql(
            compiler,
            connection,
            template="CAST(EXTRACT(EPOCH FROM (%(expressions)s)) AS double precision)",
            arg_joiner=" - ",
            **extra,
        )


def triage_score(now: datetime) -> ExpressionWrapper:
    """The triage score of inbox/triage.py as a database expression: the stored clock-free points plus
    the waiting points of active conversations, 40 per response-goal length waited up to 3 goals, then
    logarithmic and never capped (`triage.waiting_points`; a test keeps the two in step)."""
    from happydesk.inbox.triage import WAITING_KNEE, WAITING_WEIGHT

    goal_seconds = Greatest(F("mailbox__response_goal_minutes"), Value(1)) * Value(60.0)
    waited = SecondsBetween(Value(now, output_field=DateTimeField()), F("waiting_since"))
    ratio = Greatest(waited / goal_seconds, Value(0.0))
    knee = Value(WAITING_KNEE * WAITING_WEIGHT)
    points = Case(
        When(GreaterThan(ratio, Value(WAITING_KNEE)), then=knee + knee * Ln(ratio / Value(WAITING_KNEE))),
        default=ratio * Value(float(WAITING_WEIGHT)),
        output_field=FloatField(),
    )
    waiting = Case(
        When(status=Conversation.Status.ACTIVE, waiting_since__isnull=False, then=points),
        default=Value(0.0),
        output_field=FloatField(),
    )
    return ExpressionWrapper(F("priority_points") + waiting, output_field=FloatField())


def triage_order(qs: QuerySet[Conversation], *, now: datetime | None = None) -> QuerySet[Conversation]:
    """Stuck customers first: the whole list sorted by the triage score in the database, so paging
    stays one indexed query however many conversations are open."""
    from django.utils import timezone

    now = now or timezone.now()
    return qs.annotate(triage=triage_score(now)).order_by(
        F("triage").desc(), F("waiting_since").asc(nulls_last=True), "-last_activity_at", "-id"
    )


def triage_ids(qs: QuerySet[Conversation], *, now: datetime | None = None) -> QuerySet:
    """Conversation ids in triage order from a lean query (no row joins), for paging."""
    lean = qs.select_related(None).prefetch_related(None)
    return triage_order(lean, now=now).values_list("id", flat=True)


def with_row_data(qs: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """What a list row shows, fetched with the rows (the security flag too: full agents see the mark)."""
    return qs.select_related("mailbox", "customer", "assignee", "security_flag").prefetch_related(
        "tags", "customer__emails"
    )


def rows_in_order(ids: list[int]) -> list[Conversation]:
    """The full list rows for these ids (already permission-checked by the query that found them),
    in the ids' order, looked up by primary key."""
    rows = {c.pk: c for c in with_row_data(Conversation.objects.filter(pk__in=ids))}
    return [rows[pk] for pk in ids if pk in rows]


def with_priority(rows: Iterable[Conversation], *, now: datetime | None = None) -> list[Conversation]:
    """Attach the score and its reasons to the rows a page shows (`c.priority`)."""
    from django.utils import timezone

    from happydesk.inbox.triage import Priority, combine

    now = now or timezone.now()
    out = []
    for c in rows:
        waiting = c.waiting_since if c.status == Conversation.Status.ACTIVE else None
        fixed = Priority(c.priority_points, list(c.priority_reasons or []))
        c.priority = combine(
            now=now, waiting_since=waiting, goal_minutes=c.mailbox.response_goal_minutes, fixed=fixed
        )
        out.append(c)
    return out


def customer_local_time(customer: Customer) -> str:
    """The customer's local time, when we know their time zone ("14:05, Tuesday (Europe/Berlin)"), or
    only the offset their email's Date header gave ("09:30, Tuesday (UTC-03:00, from their email)")."""
    from datetime import timezone as dt_timezone
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from django.utils import timezone

    if not customer.timezone:
        return ""
    if customer.timezone.startswith("UTC") and len(customer.timezone) == 9:  # "UTC+01:00": an email's Date
        sign = -1 if customer.timezone[3] == "-" else 1
        hours, minutes = int(customer.timezone[4:6]), int(customer.timezone[7:9])
        offset = dt_timezone(sign * timedelta(hours=hours, minutes=minutes))
        local = timezone.now().astimezone(offset)
        return f"{local:%H:%M, %A} ({customer.timezone}, from their email)"
    try:
        local = timezone.now().astimezone(ZoneInfo(customer.timezone))
    except (ZoneInfoNotFoundError, ValueError):
        return ""
    return f"{local:%H:%M, %A} ({customer.timezone})"


ATTRIBUTE_LABELS = {"vip": "VIP", "mrr": "MRR", "ltv": "Lifetime value", "id": "ID", "sso_id": "SSO ID"}


def customer_attribute_rows(attributes: dict[str, object] | None) -> list[tuple[str, str]]:
    """A customer's attributes as a person reads them: "VIP: Yes", "Plan: Pro", "Seats: 40". Keys come
    from SSO or the API as code names (snake_case), values as JSON; a false flag or empty value is left
    out, since "VIP: No" says nothing worth the space."""
    rows = []
    for key, value in sorted((attributes or {}).items()):
        if value is None or value is False or value == "" or value == []:
            continue
        label = (
            ATTRIBUTE_LABELS.get(key.lower()) or key.replace("_", " ").replace("-", " ").strip().capitalize()
        )
        if value is True:
            text = "Yes"
        elif isinstance(value, list):
            text = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):
            text = ", ".join(f"{k}: {v}" for k, v in value.items())
        else:
            text = str(value)
        rows.append((label, text[:200]))
    return rows


VIEW_FILTERS = ("status", "mailbox", "tag", "feeling", "waiting_over_minutes", "q", "channel", "assigned")


def saved_views_for(agent: User) -> QuerySet[SavedView]:
    """The team's shared views and the agent's own."""
    from happydesk.inbox.models import SavedView

    return SavedView.objects.filter(Q(owner__isnull=True) | Q(owner=agent))
