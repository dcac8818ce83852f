"""REST API for incidents and their plan, under /api/v1/status/ (registered in api/api.py).

Interfaces only: validate, fetch (conversations through inbox.access), call one service, serialise.
Light agents may read; changing what customers are told is for agents and admins.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Schema, Status

from happydesk.accounts.decorators import AgentRequest
from happydesk.accounts.models import User
from happydesk.inbox.access import access_conversation_for_agent
from happydesk.status import plan, plan_selectors, rounds
from happydesk.status.early_warning import active_warnings
from happydesk.status.models import Component, EarlyWarning, Incident
from happydesk.status.services import StatusError, incident_declare

router = Router(tags=["status"])


class Error(Schema):
    detail: str


class StepOut(Schema):
    step: int
    name: str
    outcome: str
    detail: str


class LinkOut(Schema):
    number: int
    subject: str
    customer_email: str
    how: str
    reason: str
    removed: bool
    replies: list[str]


class RoundOut(Schema):
    kind: str
    state: str
    sent: int
    failed: int
    waiting: int
    created_at: datetime


class IncidentOut(Schema):
    id: int
    title: str
    state: str
    impact: str
    started_at: datetime | None
    resolved_at: datetime | None
    url: str
    has_plan: bool


class PlanOut(IncidentOut):
    steps: list[StepOut]
    links: list[LinkOut]
    rounds: list[RoundOut]
    customers: int
    known_issue_url: str
    saved_reply_id: int | None
    minutes_without_news: int | None


class DeclareIn(Schema):
    title: str
    body: str
    impact: str = Incident.Impact.MINOR
    state: str = Incident.State.INVESTIGATING
    components: dict[str, str] = {}
    notify: bool = True
    run_plan: bool = True
    tags: list[str] = []
    keywords: list[str] = []
    since_hours: int = 24
    warning_id: int | None = None


class LinkIn(Schema):
    number: int


class SendIn(Schema):
    text: str = ""


class UpdateIn(Schema):
    state: str
    body: str
    notify: bool = True
    reply_to_linked: bool = True


class ResolveIn(Schema):
    body: str = ""
    notify: bool = True
    reply_to_linked: bool = True


class WarningOut(Schema):
    id: int
    sentence: str
    label: str
    kind: str
    count: int
    usual: float
    also: list[str]
    conversation_count: int
    window_start: datetime
    window_end: datetime


def _editor(request: AgentRequest) -> bool:
    return request.user.role != User.Role.LIGHT


def _incident_out(incident: Incident) -> dict:
    from happydesk.status.mail import incident_url

    return {
        "id": incident.pk,
        "title": incident.title,
        "state": incident.state,
        "impact": incident.impact,
        "started_at": incident.started_at,
        "resolved_at": incident.resolved_at,
        "url": incident_url(incident),
        "has_plan": hasattr(incident, "plan"),
    }


def _plan_out(request: AgentRequest, incident: Incident) -> dict:
    page = plan_selectors.plan_page(incident, agent=request.user)
    out = _incident_out(incident)
    if page is None:
        return {**out, "steps": [], "links": [], "rounds": [], "customers": 0, "known_issue_url": "",
                "saved_reply_id": None, "minutes_without_news": None}  # fmt: skip
    rows = page.links + page.removed
    return {
        **out,
        "steps": [
            {"step": s.step, "name": s.get_step_display(), "outcome": s.outcome, "detail": s.detail}
            for s in page.steps
        ],
        "links": [
            {
                "number": r.conversation.number,
                "subject": r.conversation.subject,
                "customer_email": r.conversation.customer.primary_email,
                "how": r.link.how,
                "reason": r.link.reason,
                "removed": r.link.removed,
                "replies": r.replies,
            }
            for r in rows
        ],
        "rounds": [
            {
                "kind": r.notice.kind,
                "state": r.notice.state,
                "sent": r.sent,
                "failed": r.failed,
                "waiting": r.waiting,
                "created_at": r.notice.created_at,
            }
            for r in page.rounds
        ],
        "customers": page.customers,
        "known_issue_url": page.plan.known_issue_url,
        "saved_reply_id": page.plan.saved_reply_id,
        "minutes_without_news": int(page.overdue.total_seconds() // 60) if page.overdue else None,
    }


def _incident(incident_id: int) -> Incident:
    return get_object_or_404(Incident, pk=incident_id, kind=Incident.Kind.INCIDENT)


@router.get("/incidents", response=list[IncidentOut])
def list_incidents(request: AgentRequest, open_only: bool = True) -> list[dict]:
    qs = Incident.objects.filter(kind=Incident.Kind.INCIDENT).select_related("plan").order_by("-started_at")
    if open_only:
        qs = qs.exclude(state=Incident.State.RESOLVED)
    return [_incident_out(i) for i in qs[:100]]


@router.post("/incidents", response={201: PlanOut, 403: Error, 422: Error})
def declare(request: AgentRequest, payload: DeclareIn) -> Status[dict]:
    """Declare an incident; with run_plan (the default) its plan runs at once, as on the agent page."""
    if not _editor(request):
        return Status(403, {"detail": "light agents cannot declare incidents"})
    if payload.impact not in Incident.Impact.values:
        return Status(422, {"detail": f"impact must be one of {', '.join(Incident.Impact.values)}"})
    by_name = {c.name.lower(): c for c in Component.objects.filter(archived_at__isnull=True)}
    components = {}
    for name, state in payload.components.items():
        component = by_name.get(name.lower())
        if component is None:
            return Status(422, {"detail": f"no component named {name!r}"})
        components[component] = state
    warning = None
    if payload.warning_id is not None:
        warning = EarlyWarning.objects.filter(pk=payload.warning_id).first()
        if warning is None:
            return Status(422, {"detail": f"no early warning {payload.warning_id}"})
    fields: dict[str, Any] = {  # the arguments both ways of declaring take
        "title": payload.title,
        "body": payload.body,
        "impact": payload.impact,
        "state": payload.state,
        "components": components,
        "author": request.user,
        "notify": payload.notify,
    }
    try:
        if payload.run_plan:
            incident = plan.incident_declare_with_plan(
                **fields,
                tags=payload.tags,
                keywords=payload.keywords,
                since=timezone.now() - timedelta(hours=max(1, min(payload.since_hours, 24 * 30))),
                warning=warning,
            )
        else:
            incident = incident_declare(**fields)
    except StatusError as exc:
        return Status(422, {"detail": str(exc)})
    return Status(201, _plan_out(request, Incident.objects.get(pk=incident.pk)))


@router.get("/incidents/{incident_id}", response=PlanOut)
def get_incident(request: AgentRequest, incident_id: int) -> dict:
    return _plan_out(request, _incident(incident_id))


@router.post("/incidents/{incident_id}/links", response={201: PlanOut, 403: Error, 422: Error})
def add_link(request: AgentRequest, incident_id: int, payload: LinkIn) -> Status[dict]:
    if not _editor(request):
        return Status(403, {"detail": "light agents cannot change an incident"})
    incident = _incident(incident_id)
    conversation = access_conversation_for_agent(request.user, payload.number)
    try:
        plan.link_add(incident=incident, conversation=conversation, actor=request.user)
    except StatusError as exc:
        return Status(422, {"detail": str(exc)})
    return Status(201, _plan_out(request, incident))


@router.delete("/incidents/{incident_id}/links/{number}", response={200: PlanOut, 403: Error})
def remove_link(request: AgentRequest, incident_id: int, number: int) -> Status[dict]:
    if not _editor(request):
        return Status(403, {"detail": "light agents cannot change an incident"})
    incident = _incident(incident_id)
    conversation = access_conversation_for_agent(request.user, number)
    plan.link_remove(incident=incident, conversation=conversation, actor=request.user)
    return Status(200, _plan_out(request, incident))


@router.post("/incidents/{incident_id}/send", response={202: PlanOut, 403: Error, 422: Error})
def send_first(request: AgentRequest, incident_id: int, payload: SendIn) -> Status[dict]:
    """Step 5: reply to every linked customer (accepted now, sent by the worker at its pace)."""
    if not _editor(request):
        return Status(403, {"detail": "light agents cannot reply for everyone"})
    incident = _incident(incident_id)
    try:
        rounds.plan_send_first(incident=incident, author=request.user, text=payload.text)
    except StatusError as exc:
        return Status(422, {"detail": str(exc)})
    return Status(202, _plan_out(request, incident))


@router.post("/incidents/{incident_id}/updates", response={201: PlanOut, 403: Error, 422: Error})
def post_update(request: AgentRequest, incident_id: int, payload: UpdateIn) -> Status[dict]:
    if not _editor(request):
        return Status(403, {"detail": "light agents cannot post updates"})
    incident = _incident(incident_id)
    try:
        rounds.plan_update(
            incident=incident,
            state=payload.state,
            body=payload.body,
            author=request.user,
            notify=payload.notify,
            reply_to_linked=payload.reply_to_linked,
        )
    except StatusError as exc:
        return Status(422, {"detail": str(exc)})
    return Status(201, _plan_out(request, Incident.objects.get(pk=incident.pk)))


@router.post("/incidents/{incident_id}/resolve", response={200: PlanOut, 403: Error, 422: Error})
def resolve(request: AgentRequest, incident_id: int, payload: ResolveIn) -> Status[dict]:
    if not _editor(request):
        return Status(403, {"detail": "light agents cannot resolve incidents"})
    incident = _incident(incident_id)
    try:
        incident = rounds.plan_resolve(
            incident=incident,
            body=payload.body,
            author=request.user,
            notify=payload.notify,
            reply_to_linked=payload.reply_to_linked,
        )
    except StatusError as exc:
        return Status(422, {"detail": str(exc)})
    return Status(200, _plan_out(request, incident))


@router.get("/early-warnings", response=list[WarningOut])
def list_warnings(request: AgentRequest) -> list[dict]:
    return [
        {
            "id": w.pk,
            "sentence": w.sentence,
            "label": w.label,
            "kind": w.kind,
            "count": w.count,
            "usual": w.usual,
            "also": w.also,
            "conversation_count": len(w.conversation_ids),
            "window_start": w.window_start,
            "window_end": w.window_end,
        }
        for w in active_warnings()
    ]
