"""Reads for the incident plan, shared by the agent pages and the API. Linked conversations are listed
only through `inbox.access.conversations_for_agent`, so a light agent never sees a security report."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from happydesk.accounts.models import User
from happydesk.inbox.access import conversations_for_agent
from happydesk.inbox.models import Conversation
from happydesk.status import rounds as plan_services
from happydesk.status.models import (
    EarlyWarning,
    Incident,
    IncidentLink,
    IncidentNotice,
    IncidentPlan,
    NoticeDelivery,
    PlanStep,
)


@dataclass
class LinkRow:
    """A linked conversation as the review list shows it, with the replies its customer got."""

    link: IncidentLink
    conversation: Conversation
    replies: list[str] = field(default_factory=list)  # round labels that reached it
    failed: list[str] = field(default_factory=list)
    answered_in: list[int] = field(default_factory=list)  # the customer's other conversation that got them


@dataclass
class RoundRow:
    notice: IncidentNotice
    sent: int
    failed: int
    waiting: int

    @property
    def label(self) -> str:
        return self.notice.get_kind_display()


@dataclass
class PlanPage:
    plan: IncidentPlan
    steps: list[PlanStep]
    links: list[LinkRow]
    removed: list[LinkRow]
    customers: int
    rounds: list[RoundRow]
    first_sent: bool
    overdue: timedelta | None
    last_contact: datetime | None

    @property
    def step_map(self) -> dict[int, PlanStep]:
        return {s.step: s for s in self.steps}


def _round_label(notice: IncidentNotice) -> str:
    if notice.kind == IncidentNotice.Kind.UPDATE:
        return f"update {timezone.localtime(notice.created_at):%H:%M}"
    return notice.get_kind_display().lower()


def plan_page(incident: Incident, *, agent: User, now: datetime | None = None) -> PlanPage | None:
    """Everything the incident's agent page shows about its plan; None if it has none."""
    plan = (
        IncidentPlan.objects.filter(incident=incident)
        .select_related("incident", "saved_reply", "confirmed_by", "warning")
        .first()
    )
    if plan is None:
        return None
    visible = conversations_for_agent(agent).values("id")
    links = list(
        IncidentLink.objects.filter(incident=incident, conversation__in=visible)
        .select_related("conversation__customer", "added_by", "removed_by")
        .prefetch_related("conversation__customer__emails", "conversation__tags")
        .order_by("-conversation__last_customer_message_at", "id")
    )
    notices = list(IncidentNotice.objects.filter(incident=incident).order_by("created_at", "id"))
    labels = {n.pk: _round_label(n) for n in notices}
    got: dict[int, list[str]] = defaultdict(list)
    failed: dict[int, list[str]] = defaultdict(list)
    reached_in: dict[int, set[int]] = defaultdict(set)  # customer -> conversations their replies went to
    for conversation_id, customer_id, notice_id, state in NoticeDelivery.objects.filter(
        notice__incident=incident
    ).values_list("conversation_id", "customer_id", "notice_id", "state"):
        (got if state == NoticeDelivery.State.SENT else failed)[conversation_id].append(labels[notice_id])
        reached_in[customer_id].add(conversation_id)
    rows = [
        LinkRow(
            link,
            link.conversation,
            got[link.conversation_id],
            failed[link.conversation_id],
            sorted(reached_in[link.conversation.customer_id] - {link.conversation_id}),
        )
        for link in links
    ]
    counts = {
        row["notice_id"]: row
        for row in NoticeDelivery.objects.filter(notice__incident=incident)
        .values("notice_id")
        .annotate(
            sent=Count("id", filter=Q(state=NoticeDelivery.State.SENT)),
            failed=Count("id", filter=Q(state=NoticeDelivery.State.FAILED)),
        )
    }
    rounds = []
    for notice in notices:
        c = counts.get(notice.pk, {"sent": 0, "failed": 0})
        waiting = len(plan_services.recipients(notice)) if notice.state == IncidentNotice.State.SENDING else 0
        rounds.append(RoundRow(notice, c["sent"], c["failed"], waiting))
    kept = [r for r in rows if not r.link.removed]
    last = plan_services.last_contact(incident)
    return PlanPage(
        plan=plan,
        steps=list(plan.steps.order_by("step")),
        links=kept,
        removed=[r for r in rows if r.link.removed],
        customers=len({r.conversation.customer_id for r in kept}),
        rounds=rounds,
        first_sent=any(n.kind == IncidentNotice.Kind.FIRST for n in notices),
        overdue=plan_services.contact_overdue(plan, last=last, now=now),
        last_contact=last,
    )


def open_plans_overdue(*, now: datetime | None = None) -> list[tuple[IncidentPlan, timedelta]]:
    """Open incidents whose customers have waited past the minimum contact time (for the dashboard
    and the inbox panel: one query however many incidents are open)."""
    out: list[tuple[IncidentPlan, timedelta]] = []
    for plan in plan_services.open_plans_with_last_contact():
        overdue = plan_services.contact_overdue(plan, last=plan.last_contact_at, now=now)
        if overdue is not None:
            out.append((plan, overdue))
    return out


@dataclass
class WarningRow:
    """One of an early warning's conversations on the declare page: why it matched, ticked to link."""

    conversation: Conversation
    reasons: list[str]


def warning_conversations(warning: EarlyWarning, *, agent: User) -> list[WarningRow]:
    """The warning's conversations this agent may see, each with the words it matched on, in order."""
    rows = (
        conversations_for_agent(agent)
        .filter(pk__in=warning.conversation_ids)
        .select_related("customer")
        .prefetch_related("customer__emails")
        .order_by("created_at", "id")
    )
    return [WarningRow(c, warning.reasons_for(c.pk)) for c in rows[:500]]
