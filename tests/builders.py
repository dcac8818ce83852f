"""Builders for page tests: each makes only what a test asserts on, through the app's services, at times
the test chooses, so the test can work out the figures its own data implies instead of copying a page's.

Not a shared world (CONVENTIONS "Not to copy"): every test calls the few it needs and says what it built.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from happydesk.accounts.models import User
from happydesk.feedback.models import Rating, RatingRequest
from happydesk.feedback.services import rating_record
from happydesk.inbox.models import Conversation, Mailbox, Message
from happydesk.inbox.services import reply_create
from happydesk.status import services as status
from happydesk.status.models import Component, Incident
from tests.helpers import customer_conversation

UPTIME_DAYS = 90  # the status page's bars: today and the 89 days before it


def day_at(days_ago: int, hour: int, minute: int = 0) -> datetime:
    """That time of day, in the site's time zone, `days_ago` days before today."""
    day = timezone.localdate() - timedelta(days=days_ago)
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_current_timezone())


# --- status page ---------------------------------------------------------------------------------------


def status_components(groups: Mapping[str, Sequence[str]], *, since: datetime) -> dict[str, Component]:
    """Components under their groups, in the order given, operational since `since`; keyed by name."""
    components: dict[str, Component] = {}
    for group_order, (group_name, names) in enumerate(groups.items()):
        group = status.component_group_save(name=group_name, order=group_order)
        for order, name in enumerate(names):
            components[name] = status.component_save(name=name, group=group, order=order, at=since)
    return components


def past_incident(
    *,
    title: str,
    components: Mapping[Component, str],
    start: datetime,
    length: timedelta,
    impact: str = Incident.Impact.MAJOR,
    steps: Sequence[tuple[str, timedelta, str]] = (),
) -> Incident:
    """A resolved incident: `components` in their states for exactly `length`; steps (state, offset, body)."""
    incident = status.incident_declare(
        title=title,
        body="We're looking into it.",
        impact=impact,
        components=components,
        notify=False,
        at=start,
    )
    for state, after, body in steps:
        status.incident_update(incident=incident, state=state, body=body, notify=False, at=start + after)
    return status.incident_resolve(incident=incident, body="This is fixed.", notify=False, at=start + length)


def planned_maintenance(
    *,
    title: str,
    components: Sequence[Component],
    start: datetime,
    length: timedelta,
    body: str,
    announced: datetime | None = None,
) -> Incident:
    """A maintenance window from `start` for `length`, announced at `announced` (default now), not begun."""
    return status.maintenance_schedule(
        title=title,
        scheduled_start=start,
        scheduled_end=start + length,
        components=components,
        body=body,
        notify=False,
        at=announced,
    )


def past_maintenance(
    *, title: str, components: Sequence[Component], start: datetime, length: timedelta
) -> Incident:
    """A maintenance window announced the day before, run from `start` for `length`, and completed."""
    window = planned_maintenance(
        title=title,
        components=components,
        start=start,
        length=length,
        body="Planned work.",
        announced=start - timedelta(days=1),
    )
    status.maintenance_start(incident=window, notify=False, at=start)
    return status.maintenance_complete(incident=window, body="Done.", notify=False, at=start + length)


def uptime_window_start(now: datetime) -> datetime:
    """Where the uptime bars begin at `now`: local midnight of the oldest of the 90 days ending today."""
    oldest = timezone.localdate(now) - timedelta(days=UPTIME_DAYS - 1)
    return datetime.combine(oldest, time.min, tzinfo=timezone.get_current_timezone())


def uptime_figure(*, down: timedelta, now: datetime) -> str:
    """The uptime `down` of full outage in the window leaves at `now`, rounded down (never a false 100%)."""
    covered = (now - uptime_window_start(now)).total_seconds()
    share = 1 - down.total_seconds() / covered
    return f"{math.floor(share * 100 * 100) / 100:.2f}%"


def day_label(day: date, *, down: timedelta, incidents: int) -> str:
    """A bar's title for a whole day with `down` of full outage in it, e.g. "Nov 3: 97.3% up, 1 incident"."""
    share = 1 - down.total_seconds() / timedelta(days=1).total_seconds()
    plural = "" if incidents == 1 else "s"
    return f"{day:%b} {day.day}: {math.floor(share * 100 * 10) / 10:.1f}% up, {incidents} incident{plural}"


# --- conversations ---------------------------------------------------------------------------------------


def conversation_at(
    mailbox: Mailbox, *, address: str, name: str, subject: str, text: str, at: datetime
) -> Conversation:
    """A customer's email conversation whose first message arrived at `at`, through the inbox services."""
    conversation = customer_conversation(
        mailbox, address=address, name=name, subject=subject, text=text, at=at
    )
    conversation.refresh_from_db()
    return conversation


def reply_at(conversation: Conversation, *, author: User, at: datetime, close: bool = False) -> Message:
    """An agent's reply written at `at`; `close` closes the conversation with it, which asks for a rating."""
    return reply_create(
        conversation=conversation,
        author=author,
        text="Here's how: Settings, then Billing.",
        status=Conversation.Status.CLOSED if close else None,
        at=at,
    )


def rate(reply: Message, value: str) -> Rating:
    """The customer's one click on the rating in this closing reply's mail, given now (the service's time)."""
    return rating_record(request=RatingRequest.objects.get(message=reply), value=value)


def weekly_arrivals(
    mailbox: Mailbox, *, first: datetime, weeks: int, address: str, name: str
) -> list[Conversation]:
    """One conversation from this customer each week at the same hour, for `weeks` weeks from `first`."""
    return [
        conversation_at(
            mailbox,
            address=address,
            name=name,
            subject=f"Question {n + 1}",
            text="How do I export my data?",
            at=first + timedelta(weeks=n),
        )
        for n in range(weeks)
    ]
