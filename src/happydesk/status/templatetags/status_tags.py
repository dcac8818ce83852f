"""The status banner for public pages, and small helpers for the status templates."""

from __future__ import annotations

from django import template
from django.utils import timezone

from happydesk.status import selectors
from happydesk.status.models import Incident

register = template.Library()


@register.inclusion_tag("status/_banner_inner.html")
def status_banner() -> dict:
    """Open incidents and maintenance under way, for a banner on the help centre, portal and widget."""
    return {"banner_incidents": selectors.banner_incidents()}


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
