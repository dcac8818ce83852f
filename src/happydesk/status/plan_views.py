"""Agent actions of the incident plan (reply to everyone, review links, confirm), early warnings, incident
settings and security reports. Thin: parse, fetch (conversations through inbox.access), one service."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from happydesk.accounts.decorators import AgentRequest, role_required
from happydesk.accounts.models import User
from happydesk.inbox import security as inbox_security
from happydesk.inbox.access import access_conversation_for_agent, conversations_for_agent
from happydesk.inbox.models import SecurityFlag
from happydesk.status import early_warning, plan, rounds, security
from happydesk.status.admin_views import status_editor
from happydesk.status.forms import IncidentSettingsForm, LinkAddForm, SendForm
from happydesk.status.models import EarlyWarning, Incident, IncidentSettings
from happydesk.status.services import StatusError


def _incident(incident_id: int) -> Incident:
    return get_object_or_404(Incident, pk=incident_id, kind=Incident.Kind.INCIDENT)


def _back(incident: Incident, anchor: str = "") -> HttpResponse:
    response = redirect("status_admin_incident", incident_id=incident.pk)
    response["Location"] += f"#{anchor}" if anchor else ""
    return response


@require_POST
@status_editor
def send_first(request: AgentRequest, incident_id: int) -> HttpResponse:
    """Step 5: the reply to every linked customer is recorded now and sent by the worker."""
    incident = _incident(incident_id)
    form = SendForm(request.POST)
    if not form.is_valid():
        flash.error(request, "Write the reply first.")
        return _back(incident, "reply")
    try:
        notice = rounds.plan_send_first(
            incident=incident, author=request.user, text=form.cleaned_data["text"]
        )
    except StatusError as exc:
        flash.error(request, str(exc))
        return _back(incident, "reply")
    waiting = len(rounds.recipients(notice))
    flash.success(request, f"Sending to {waiting} customer{'s' if waiting != 1 else ''}, one reply each.")
    return _back(incident, "plan")


@require_POST
@status_editor
def link_add(request: AgentRequest, incident_id: int) -> HttpResponse:
    incident = _incident(incident_id)
    form = LinkAddForm(request.POST)
    if not form.is_valid():
        flash.error(request, "Give a conversation number, like 1234.")
        return _back(incident, "affected")
    conversation = access_conversation_for_agent(request.user, form.cleaned_data["number"])
    try:
        plan.link_add(incident=incident, conversation=conversation, actor=request.user)
    except StatusError as exc:
        flash.error(request, str(exc))
    else:
        flash.success(request, f"Linked #{conversation.number}.")
    return _back(incident, "affected")


@require_POST
@status_editor
def link_remove(request: AgentRequest, incident_id: int, number: int) -> HttpResponse:
    incident = _incident(incident_id)
    conversation = access_conversation_for_agent(request.user, number)
    plan.link_remove(incident=incident, conversation=conversation, actor=request.user)
    flash.success(request, f"Removed #{conversation.number}: it gets no replies about this incident.")
    return _back(incident, "affected")


@require_POST
@status_editor
def confirm(request: AgentRequest, incident_id: int) -> HttpResponse:
    incident = _incident(incident_id)
    try:
        plan.plan_confirm(incident=incident, actor=request.user)
    except StatusError as exc:
        flash.error(request, str(exc))
    return _back(incident, "plan")


@require_POST
@status_editor
def retry_forum(request: AgentRequest, incident_id: int) -> HttpResponse:
    incident = _incident(incident_id)
    try:
        plan.plan_retry_forum(incident=incident, author=request.user)
    except StatusError as exc:
        flash.error(request, str(exc))
    return _back(incident, "plan")


@require_POST
@status_editor
def warning_dismiss(request: AgentRequest, warning_id: int) -> HttpResponse:
    warning = get_object_or_404(EarlyWarning, pk=warning_id)
    early_warning.early_warning_dismiss(warning=warning, actor=request.user)
    flash.success(request, "Dismissed. This burst will not alert again.")
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/") and not back.startswith("//") else "status_admin")


@role_required(User.Role.ADMIN, refusal="Only admins change who is told about incidents.", changes_only=True)
def incident_settings(request: AgentRequest) -> HttpResponse:
    """Who is told (early-warning and on-call lists) and the plan's pace; admins change it."""
    row = IncidentSettings.current()
    initial = {
        "early_warning": "\n".join(row.early_warning),
        "on_call": "\n".join(row.on_call),
        "contact_every_minutes": row.contact_every_minutes,
        "replies_per_minute": row.replies_per_minute,
        "reply_template": row.reply_template,
    }
    form = IncidentSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        plan.incident_settings_save(**form.cleaned_data)
        flash.success(request, "Incident settings saved.")
        return redirect("status_admin_settings")
    return render(request, "status/admin/settings.html", {"form": form, "can_edit": request.user.is_admin})


# Light agents never learn that security reports exist: 404, not 403.
security_desk = role_required(User.Role.ADMIN, User.Role.AGENT, hidden=True)


@security_desk
def security_reports(request: AgentRequest) -> HttpResponse:
    """Flagged conversations, newest first; agents and admins only."""
    flags = (
        SecurityFlag.objects.filter(conversation__in=conversations_for_agent(request.user).values("id"))
        .select_related("conversation__customer", "cleared_by")
        .prefetch_related("conversation__customer__emails")
        .order_by("-active", "-created_at")[:200]
    )
    return render(
        request, "status/admin/security.html", {"flags": flags, "on_call": security.on_call_addresses()}
    )


@require_POST
@security_desk
def security_flag(request: AgentRequest) -> HttpResponse:
    """Flag a conversation by number (a report the words missed); on-call hears about it once."""
    number = request.POST.get("number", "").strip().lstrip("#")
    if not number.isdigit():
        flash.error(request, "Give a conversation number, like 1234.")
        return redirect("status_admin_security")
    conversation = access_conversation_for_agent(request.user, int(number))
    inbox_security.security_flag_set(
        conversation=conversation, reason=f"flagged by {request.user.name}", actor=request.user
    )
    flash.success(request, f"#{conversation.number} is flagged: hidden from light agents, on-call told.")
    return redirect("status_admin_security")


@require_POST
@security_desk
@role_required(User.Role.ADMIN, refusal="Only admins clear a security flag.")
def security_clear(request: AgentRequest, number: int) -> HttpResponse:
    """A false alarm (admins only): light agents may see the conversation again."""
    conversation = access_conversation_for_agent(request.user, number)
    flag = get_object_or_404(SecurityFlag, conversation=conversation)
    inbox_security.security_flag_clear(flag=flag, actor=request.user)
    flash.success(request, f"Cleared the flag on #{conversation.number}.")
    return redirect("status_admin_security")
