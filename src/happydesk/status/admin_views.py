"""Agent pages for the status page: components, declaring and updating incidents, maintenance windows.

Any signed-in agent may look; light agents may not change what customers are told.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages as flash
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from happydesk.accounts.decorators import AgentRequest, role_required
from happydesk.accounts.models import User
from happydesk.inbox.models import SecurityFlag
from happydesk.mail.models import OutboundMail
from happydesk.status import plan, plan_selectors, rounds, selectors, services
from happydesk.status.early_warning import warning_keywords
from happydesk.status.forms import (
    ComponentForm,
    ComponentStateForm,
    DeclareForm,
    LinkAddForm,
    MaintenanceForm,
    MaintenanceStepForm,
    PlanUpdateForm,
    ResolveForm,
    SendForm,
    UpdateForm,
    split_list,
)
from happydesk.status.models import Component, EarlyWarning, Incident, Subscriber

# Signed in; and for changes (POST), not a light agent.
status_editor = role_required(
    User.Role.ADMIN,
    User.Role.AGENT,
    refusal="Light agents cannot change the status page.",
    changes_only=True,
)


@status_editor
def dashboard(request: AgentRequest) -> HttpResponse:
    components = list(selectors.visible_components())
    incidents = list(selectors.open_incidents())
    return render(
        request,
        "status/admin/dashboard.html",
        {
            "summary": selectors.status_summary(components, incidents),
            "incidents": incidents,
            "in_progress": list(selectors.active_maintenance()),
            "upcoming": list(selectors.upcoming_maintenance()),
            "groups": selectors.components_grouped(components),
            "state_form": ComponentStateForm(),
            "recent": list(selectors.history()[:10]),
            "subscribers": Subscriber.objects.filter(
                confirmed_at__isnull=False, unsubscribed_at__isnull=True
            ).count(),
            "security_open": SecurityFlag.objects.filter(active=True).count()
            if request.user.role != User.Role.LIGHT
            else 0,
            "failed_mail": OutboundMail.objects.filter(
                kind__startswith="status-", state=OutboundMail.State.FAILED
            ).count(),
        },
    )


@status_editor
def incident_new(request: AgentRequest) -> HttpResponse:
    """Declare an incident and run its plan; `?warning=<id>` pre-fills it from an early warning."""
    warning = None
    if request.GET.get("warning", "").isdigit() or str(request.POST.get("warning", "")).isdigit():
        warning = EarlyWarning.objects.filter(
            pk=request.POST.get("warning") or request.GET["warning"]
        ).first()
    initial = {}
    if warning is not None:
        tags, words = warning_keywords(warning)
        initial = {
            "title": f"Customers report problems with {warning.label}",
            "tags": ", ".join(tags),
            "keywords": ", ".join(words),
            "since_hours": 3,
            "warning": warning.pk,
        }
    form = DeclareForm(request.POST or None, initial=initial, components=list(selectors.visible_components()))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = {
            "title": data["title"],
            "body": data["body"],
            "impact": data["impact"],
            "state": data["state"],
            "components": form.affected(),
            "author": request.user,
            "notify": data["notify"],
        }
        try:
            if data["run_plan"]:
                # The page lists the warning's conversations ticked; only those still ticked are linked.
                reviewed = request.POST.get("warning_review") == "1"
                chosen = [int(v) for v in request.POST.getlist("warning_conversations") if v.isdigit()]
                incident = plan.incident_declare_with_plan(
                    **fields,
                    tags=split_list(data["tags"]),
                    keywords=split_list(data["keywords"]),
                    since=timezone.now() - timedelta(hours=data["since_hours"]),
                    warning=warning,
                    warning_conversation_ids=chosen if reviewed and warning is not None else None,
                )
            else:
                incident = services.incident_declare(**fields)
        except services.StatusError as exc:
            form.add_error(None, str(exc))
        else:
            flash.success(
                request,
                "Incident declared and shown on the status page."
                + (
                    " The plan ran: check its steps, review the conversations, then send."
                    if data["run_plan"]
                    else ""
                ),
            )
            return redirect("status_admin_incident", incident_id=incident.pk)
    return render(
        request,
        "status/admin/declare.html",
        {
            "form": form,
            "title": "Declare an incident",
            "warning": warning,
            "warning_rows": plan_selectors.warning_conversations(warning, agent=request.user)
            if warning is not None
            else [],
            "ticked": {int(v) for v in request.POST.getlist("warning_conversations") if v.isdigit()}
            if request.method == "POST"
            else None,
        },
    )


@status_editor
def incident_manage(request: AgentRequest, incident_id: int) -> HttpResponse:
    """The incident's agent page: its plan with each step's outcome, the linked conversations to
    review, the reply to everyone, updates and resolving."""
    incident = get_object_or_404(Incident, pk=incident_id)
    page = plan_selectors.plan_page(incident, agent=request.user)
    form = None
    if not incident.is_maintenance and not incident.is_closed:
        form_class = PlanUpdateForm if page else UpdateForm
        form = form_class(
            request.POST or None, incident=incident, components=list(selectors.visible_components())
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            fields = {
                "incident": incident,
                "state": data["state"],
                "body": data["body"],
                "components": form.affected(),
                "author": request.user,
                "notify": data["notify"],
            }
            try:
                if page:
                    rounds.plan_update(**fields, reply_to_linked=data["reply_to_linked"])
                else:
                    services.incident_update(**fields)
            except services.StatusError as exc:
                form.add_error(None, str(exc))
            else:
                replies = page and data["reply_to_linked"]
                flash.success(
                    request,
                    "Update posted." + (" Replies to linked customers are on their way." if replies else ""),
                )
                return redirect("status_admin_incident", incident_id=incident.pk)
    send_form = None
    if page and not page.first_sent and not incident.is_closed:
        body = page.plan.saved_reply.body if page.plan.saved_reply else ""
        send_form = SendForm(initial={"text": body})
    return render(
        request,
        "status/admin/incident.html",
        {
            "incident": selectors.incident_for_public(incident.pk),
            "form": form,
            "step_form": MaintenanceStepForm(),
            "page": page,
            "send_form": send_form,
            "link_form": LinkAddForm(),
            "can_edit": request.user.role != User.Role.LIGHT,
        },
    )


@require_POST
@status_editor
def incident_resolve(request: AgentRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id, kind=Incident.Kind.INCIDENT)
    form = ResolveForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    try:
        rounds.plan_resolve(
            incident=incident,
            body=data.get("body", ""),
            author=request.user,
            notify=data.get("notify", False),
            reply_to_linked=data.get("reply_to_linked", False),
        )
    except services.StatusError as exc:
        flash.error(request, str(exc))
    else:
        flash.success(
            request,
            "Resolved. Components are back to operational unless another incident holds them."
            + (
                " The “fixed” message is on its way to every linked customer."
                if data.get("reply_to_linked")
                else ""
            ),
        )
    return redirect("status_admin_incident", incident_id=incident.pk)


@status_editor
def maintenance_new(request: AgentRequest) -> HttpResponse:
    form = MaintenanceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = services.maintenance_schedule(
                title=data["title"],
                scheduled_start=data["scheduled_start"],
                scheduled_end=data["scheduled_end"],
                components=list(data["components"]),
                body=data["body"],
                author=request.user,
                notify=data["notify"],
            )
        except services.StatusError as exc:
            form.add_error(None, str(exc))
        else:
            flash.success(request, "Maintenance scheduled and announced.")
            return redirect("status_admin_incident", incident_id=incident.pk)
    return render(request, "status/admin/incident_form.html", {"form": form, "title": "Schedule maintenance"})


@require_POST
@status_editor
def maintenance_step(request: AgentRequest, incident_id: int, step: str) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id, kind=Incident.Kind.MAINTENANCE)
    action = {"start": services.maintenance_start, "complete": services.maintenance_complete}.get(step)
    if action is None:
        return HttpResponse(status=404)
    form = MaintenanceStepForm(request.POST)
    form.is_valid()
    try:
        action(
            incident=incident,
            body=form.cleaned_data.get("body", ""),
            author=request.user,
            notify=form.cleaned_data.get("notify", False),
        )
    except services.StatusError as exc:
        flash.error(request, str(exc))
    else:
        flash.success(request, "Maintenance started." if step == "start" else "Maintenance completed.")
    return redirect("status_admin_incident", incident_id=incident.pk)


@status_editor
def component_edit(request: AgentRequest, component_id: int | None = None) -> HttpResponse:
    component = get_object_or_404(Component, pk=component_id) if component_id else None
    initial = (
        {
            "name": component.name,
            "group": component.group.name if component.group else "",
            "description": component.description,
            "order": component.order,
        }
        if component
        else {"order": Component.objects.count()}
    )
    form = ComponentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.component_save(
            name=data["name"],
            group=services.component_group_for_name(name=data["group"]),
            order=data["order"],
            description=data["description"],
            component=component,
        )
        flash.success(request, f"Component {data['name']} saved.")
        return redirect("status_admin")
    return render(
        request,
        "status/admin/component_form.html",
        {"form": form, "component": component, "groups": selectors.components_grouped()},
    )


@require_POST
@status_editor
def component_state(request: AgentRequest, component_id: int) -> HttpResponse:
    component = get_object_or_404(Component, pk=component_id)
    form = ComponentStateForm(request.POST)
    if form.is_valid():
        services.component_state_set(
            component=component, state=form.cleaned_data["state"], actor=request.user
        )
        flash.success(request, f"{component.name} is now {component.get_state_display().lower()}.")
    return redirect("status_admin")


@require_POST
@status_editor
def component_archive(request: AgentRequest, component_id: int) -> HttpResponse:
    component = get_object_or_404(Component, pk=component_id, archived_at__isnull=True)
    services.component_archive(component=component)
    flash.success(request, f"{component.name} is hidden from the status page; its history is kept.")
    return redirect("status_admin")
