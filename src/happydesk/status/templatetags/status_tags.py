"""The status banner for public pages, and small helpers for the status templates."""

from __future__ import annotations

from datetime import timedelta

from django import template
from django.utils import timezone

from happydesk.status import selectors
from happydesk.status.models import Incident

register = template.Library()


@register.inclusion_tag("status/_banner_inner.html")
def status_banner() -> dict:
    """Open incidents and maintenance under way, for a banner on the help centre, portal and widget."""
    return {"banner_incidents": selectors.banner_incidents()}


@register.inclusion_tag("status/_early_warning.html", takes_context=True)
def early_warning_panel(context: template.Context) -> dict:
    """Unusual volume and incidents overdue for an update, for the inbox and the status admin page
    (two small queries when all is quiet). Light agents see it without the buttons."""
    from happydesk.accounts.models import User
    from happydesk.status.early_warning import active_warnings
    from happydesk.status.plan_selectors import open_plans_overdue

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "warnings": list(active_warnings()[:3]),
        "overdue": open_plans_overdue(),
        "can_edit": user.role != User.Role.LIGHT,
        "next": request.get_full_path(),
    }


@register.filter
def minutes(value: timedelta) -> int:
    """A duration in whole minutes."""
    return int(value.total_seconds() // 60)


@register.filter
def duration(incident: Incident) -> str:
    """How long it lasted (or has lasted so far), e.g. "2 h 15 min"."""
    if incident.started_at is None:
        return ""
    minutes = int(((incident.resolved_at or timezone.now()) - incident.started_at).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d"] if days else []
    if hours:
        parts.append(f"{hours} h")
    if mins or not parts:
        parts.append(f"{mins} min")
    return " ".join(parts[:2])
