"""Read queries shared by the pages and the API."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import BooleanField, Case, ExpressionWrapper, F, Prefetch, Q, QuerySet, Value, When

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
    hits: dict[int, str] | None = None,
    feeling: str | None = None,
    waiting_over_minutes: int | None = None,
    channel: str | None = None,
    assigned: str | None = None,
) -> QuerySet[Conversation]:
    """Conversations for a list, newest activity first, with what a row shows prefetched."""
    qs = (
        conversations_for_agent(agent)
        .filter(merged_into__isnull=True)
        .select_related("mailbox", "customer", "assignee")
        .prefetch_related("tags", "customer__emails")
    )
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
        number = q.strip().lstrip("#")
        match = Q(pk__in=list(hits)) | Q(customer__emails__address__iexact=q.strip())
        if number.isdigit():
            match |= Q(pk=int(number))
        qs = qs.filter(match).distinct()
        if hits:  # best match first
            order = Case(*[When(pk=pk, then=Value(i)) for i, pk in enumerate(hits)], default=Value(len(hits)))
            return qs.order_by(order, "-last_activity_at", "-id")
        return qs.order_by("-last_activity_at", "-id")
    return qs.distinct().order_by("-last_activity_at", "-id")


def search_hits(q: str, *, limit: int = 200) -> dict[int, str]:
    """Conversation ids matching the words of `q`, best first, with a highlighted snippet each."""
    from happydesk.search.engines import engine

    return {hit.conversation_id: hit.snippet for hit in engine().search(q, limit=limit)}


def status_counts(*, agent: User) -> dict[str, int]:
    from django.db.models import Count

    rows = (
        conversations_for_agent(agent)
        .filter(merged_into__isnull=True)
        .values(
            "status", snoozed=ExpressionWrapper(Q(snoozed_until__isnull=False), output_field=BooleanField())
        )
        .annotate(n=Count("id"))
    )
    counts = dict.fromkeys([*Conversation.Status.values, "snoozed"], 0)
    for row in rows:
        if row["snoozed"] and row["status"] != Conversation.Status.CLOSED:
            counts["snoozed"] += row["n"]
        else:
            counts[row["status"]] += row["n"]
    return counts


def thread(conversation: Conversation) -> list[Message]:
    """Every line of a conversation in time order, with authors and attachments."""
    return list(
        conversation.messages.select_related("author", "outbound")
        .prefetch_related(Prefetch("attachments"))
        .order_by("created_at", "id")
    )


def snooze_options(conversation: Conversation) -> list[tuple[str, str, datetime]]:
    """Snooze choices in the mailbox's time zone: (key, label, until)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from django.utils import timezone

    try:
        zone = ZoneInfo(conversation.mailbox.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    now = timezone.now().astimezone(zone)
    nine = {"hour": 9, "minute": 0, "second": 0, "microsecond": 0}
    tomorrow = (now + timedelta(days=1)).replace(**nine)
    monday = (now + timedelta(days=7 - now.weekday())).replace(**nine)
    return [
        ("hour", "for an hour", now + timedelta(hours=1)),
        ("tomorrow", f"until tomorrow, {tomorrow:%a} 9:00", tomorrow),
        ("monday", f"until Monday {monday:%b %-d}, 9:00", monday),
        ("week", "for a week", now + timedelta(days=7)),
    ]


def handoff_line(conversation: Conversation, agent: User) -> str:
    """When someone else answered last, a line that tells the customer who is talking to them now."""
    last = (
        conversation.messages.filter(kind=Message.Kind.REPLY, author__isnull=False)
        .select_related("author")
        .order_by("-created_at", "-id")
        .first()
    )
    if last is None or last.author_id == agent.pk:
        return ""
    hello = f"Hi {conversation.customer.first_name}, " if conversation.customer.first_name else "Hi, "
    return f"{hello}it's {agent.first_name} here, picking this up from {last.author.first_name}."


def exchanges_without_resolution(conversation: Conversation) -> int:
    """Back-and-forths (a customer message answered by a reply) since the conversation was last closed."""
    kinds = conversation.messages.filter(kind__in=[Message.Kind.CUSTOMER, Message.Kind.REPLY])
    if conversation.resolved_at:
        kinds = kinds.filter(created_at__gt=conversation.resolved_at)
    count, previous = 0, None
    for kind in kinds.order_by("created_at", "id").values_list("kind", flat=True):
        if kind == Message.Kind.REPLY and previous == Message.Kind.CUSTOMER:
            count += 1
        previous = kind
    return count


def triage_order(
    qs: QuerySet[Conversation], *, limit: int = 1000, now: datetime | None = None
) -> list[Conversation]:
    """Stuck customers first. Scores the `limit` longest-waiting conversations from a light query (no
    prefetching); the caller loads full rows only for the page it shows (`with_rows`)."""
    from django.utils import timezone

    from happydesk.automations.triage import priority

    now = now or timezone.now()
    light = (
        qs.prefetch_related(None)
        .select_related(None)
        .select_related("mailbox", "customer")
        .order_by(F("waiting_since").asc(nulls_last=True), "-last_activity_at")
        .only(
            "id",
            "status",
            "waiting_since",
            "last_activity_at",
            "feeling",
            "subject",
            "preview",
            "mailbox__response_goal_minutes",
            "customer__attributes",
        )[:limit]
    )
    conversations = list(light)
    for c in conversations:
        waiting = c.waiting_since if c.status == Conversation.Status.ACTIVE else None
        c.priority = priority(
            now=now,
            waiting_since=waiting,
            goal_minutes=c.mailbox.response_goal_minutes,
            feeling=c.feeling,
            text=f"{c.subject}\n{c.preview}",
            attributes=c.customer.attributes,
        )
    return sorted(conversations, key=lambda c: (-c.priority.score, c.waiting_since or c.last_activity_at))


def with_rows(light: list[Conversation], base: QuerySet[Conversation]) -> list[Conversation]:
    """Full list rows (customer, tags, addresses prefetched) for these conversations, in their order,
    keeping the triage priority computed on the light copies."""
    full = {c.pk: c for c in base.filter(pk__in=[c.pk for c in light])}
    rows = []
    for c in light:
        row = full.get(c.pk)
        if row is not None:
            row.priority = c.priority
            rows.append(row)
    return rows


def customer_local_time(customer) -> str:  # type: ignore[no-untyped-def]
    """The customer's local time, when we know their time zone ("14:05, Tuesday (Europe/Berlin)")."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from django.utils import timezone

    if not customer.timezone:
        return ""
    try:
        local = timezone.now().astimezone(ZoneInfo(customer.timezone))
    except (ZoneInfoNotFoundError, ValueError):
        return ""
    return f"{local:%H:%M, %A} ({customer.timezone})"


VIEW_FILTERS = ("status", "mailbox", "tag", "feeling", "waiting_over_minutes", "q", "channel", "assigned")


def saved_views_for(agent: User):  # type: ignore[no-untyped-def]
    """The team's shared views and the agent's own."""
    from happydesk.inbox.models import SavedView

    return SavedView.objects.filter(Q(owner__isnull=True) | Q(owner=agent))
