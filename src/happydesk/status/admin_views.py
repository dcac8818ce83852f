"""Agent pages for the status page: components, declaring and updating incidents, maintenance windows.

Any signed-in agent may look; light agents may not change what customers are told.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from happydesk.accounts.models import User
from happydesk.status import selectors, services
from happydesk.status.forms import (
    ComponentForm,
    ComponentStateForm,
    IncidentForm,
    MaintenanceForm,
    MaintenanceStepForm,
    UpdateForm,
)
from happydesk.status.models import Component, Incident, StatusMail, Subscriber


def status_editor(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in; and for changes (POST), not a light agent."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:  # type: ignore[no-untyped-def]
        if request.method == "POST" and request.user.role == User.Role.LIGHT:
            return HttpResponseForbidden("Light agents cannot change the status page.")
        return view(request, *args, **kwargs)

    return wrapper


@status_editor
def dashboard(request: HttpRequest) -> HttpResponse:
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
            "failed_mail": StatusMail.objects.filter(state=StatusMail.State.FAILED).count(),
        },
    )


@status_editor
def incident_new(request: HttpRequest) -> HttpResponse:
    form = IncidentForm(request.POST or None, components=list(selectors.visible_components()))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = services.incident_declare(
                title=data["title"],
                body=data["body"],
                impact=data["impact"],
                state=data["state"],
                components=form.affected(),
                author=request.user,
                notify=data["notify"],
            )
        except services.StatusError as exc:
            form.add_error(None, str(exc))
        else:
            flash.success(request, "Incident declared and shown on the status page.")
            return redirect("status_admin_incident", incident_id=incident.pk)
    return render(request, "status/admin/incident_form.html", {"form": form, "title": "Declare an incident"})


@status_editor
def incident_manage(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    form = None
    if not incident.is_maintenance and not incident.is_closed:
        form = UpdateForm(
            request.POST or None, incident=incident, components=list(selectors.visible_components())
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.incident_update(
                    incident=incident,
                    state=data["state"],
                    body=data["body"],
                    components=form.affected(),
                    author=request.user,
                    notify=data["notify"],
                )
            except services.StatusError as exc:
                form.add_error(None, str(exc))
            else:
                flash.success(request, "Update posted.")
                return redirect("status_admin_incident", incident_id=incident.pk)
    return render(
        request,
        "status/admin/incident.html",
        {
            "incident": selectors.incident_for_public(incident.pk),
            "form": form,
            "step_form": MaintenanceStepForm(),
        },
    )


@require_POST
@status_editor
def incident_resolve(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id, kind=Incident.Kind.INCIDENT)
    form = MaintenanceStepForm(request.POST)
    form.is_valid()
    try:
        services.incident_resolve(
            incident=incident,
            body=form.cleaned_data.get("body", ""),
            author=request.user,
            notify=form.cleaned_data.get("notify", False),
        )
    except services.StatusError as exc:
        flash.error(request, str(exc))
    else:
        flash.success(
            request, "Resolved. Components are back to operational unless another incident holds them."
        )
    return redirect("status_admin_incident", incident_id=incident.pk)


@status_editor
def maintenance_new(request: HttpRequest) -> HttpResponse:
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
def maintenance_step(request: HttpRequest, incident_id: int, step: str) -> HttpResponse:
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
def component_edit(request: HttpRequest, component_id: int | None = None) -> HttpResponse:
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
def component_state(request: HttpRequest, component_id: int) -> HttpResponse:
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
def component_archive(request: HttpRequest, component_id: int) -> HttpResponse:
    component = get_object_or_404(Component, pk=component_id, archived_at__isnull=True)
    services.component_archive(component=component)
    flash.success(request, f"{component.name} is hidden from the status page; its history is kept.")
    return redirect("status_admin")
