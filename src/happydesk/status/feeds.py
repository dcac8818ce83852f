"""Machine-readable status: the JSON feed, the small notice for the company's own app, and Atom."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import feedgenerator, timezone
from django.utils.html import escape, linebreaks

from happydesk.status import selectors
from happydesk.status.models import Component, Incident

FEED_ENTRIES = 50


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def incident_link(incident: Incident) -> str:
    return settings.BASE_URL + reverse("status_incident", args=[incident.pk])


def incident_json(incident: Incident) -> dict:
    return {
        "id": incident.pk,
        "kind": incident.kind,
        "title": incident.title,
        "impact": incident.impact,
        "state": incident.state,
        "url": incident_link(incident),
        "started_at": _iso(incident.started_at),
        "resolved_at": _iso(incident.resolved_at),
        "scheduled_start": _iso(incident.scheduled_start),
        "scheduled_end": _iso(incident.scheduled_end),
        "updated_at": _iso(incident.updated_at),
        "components": [
            {"id": a.component_id, "name": a.component.name, "state": a.state}
            for a in incident.affected.all()
        ],
        "updates": [
            {"state": u.state, "body": u.body, "created_at": _iso(u.created_at)}
            for u in incident.updates.all()
        ],
    }


def component_json(component: Component, up: selectors.ComponentUptime) -> dict:
    return {
        "id": component.pk,
        "name": component.name,
        "group": component.group.name if component.group else None,
        "state": component.state,
        "state_since": _iso(component.state_since),
        "uptime_90d": round(up.share * 100, 4) if up.share is not None else None,
    }


def status_json() -> dict:
    """Everything on the page: summary, components with 90-day uptime, open incidents, maintenance."""
    components = list(selectors.visible_components())
    incidents = list(selectors.open_incidents())
    ups = selectors.uptime_for(components)
    summary = selectors.status_summary(components, incidents)
    return {
        "page": {
            "url": settings.BASE_URL + reverse("status_page"),
            "generated_at": timezone.now().isoformat(),
        },
        "status": {"indicator": summary.indicator, "description": summary.description},
        "components": [
            component_json(c, ups[c.pk])
            for row in selectors.components_grouped(components)
            for c in row.components
        ],
        "incidents": [incident_json(i) for i in incidents],
        "maintenance_in_progress": [incident_json(i) for i in selectors.active_maintenance()],
        "scheduled_maintenances": [incident_json(i) for i in selectors.upcoming_maintenance()],
    }


def notice_json() -> dict:
    """The short list a product polls to show its own banner: open incidents and maintenance under way."""
    return {
        "notices": [
            {
                "id": i.pk,
                "kind": i.kind,
                "title": i.title,
                "state": i.state,
                "state_label": i.get_state_display(),
                "impact": i.impact,
                "url": incident_link(i),
                "updated_at": _iso(i.updated_at),
            }
            for i in selectors.banner_incidents()
        ],
        "status_url": settings.BASE_URL + reverse("status_page"),
    }


def _timeline_html(incident: Incident) -> str:
    parts = []
    if incident.is_maintenance and incident.scheduled_start and incident.scheduled_end:
        parts.append(
            f"<p><strong>Planned window:</strong> {incident.scheduled_start:%Y-%m-%d %H:%M} to "
            f"{incident.scheduled_end:%Y-%m-%d %H:%M} UTC</p>"
        )
    parts.extend(
        f"<p><strong>{escape(update.get_state_display())}</strong> "
        f"({update.created_at:%Y-%m-%d %H:%M} UTC)</p>{linebreaks(update.body, autoescape=True)}"
        for update in incident.updates.all()
    )
    names = [a.component.name for a in incident.affected.all()]
    if names:
        parts.append(f"<p>Affected: {escape(', '.join(names))}</p>")
    return "\n".join(parts)


def atom_feed() -> str:
    """One entry per incident or maintenance, its content the whole timeline; updated with each update."""
    site = settings.BASE_URL + reverse("status_page")
    feed = feedgenerator.Atom1Feed(
        title="Status updates",
        link=site,
        description="Incidents and maintenance",
        feed_url=settings.BASE_URL + reverse("status_feed"),
        language="en",
        id=site,
    )
    for incident in selectors.recently_updated(limit=FEED_ENTRIES):
        label = "Maintenance" if incident.is_maintenance else "Incident"
        feed.add_item(
            title=f"{label}: {incident.title} ({incident.get_state_display()})",
            link=incident_link(incident),
            description=_timeline_html(incident),
            unique_id=incident_link(incident),
            pubdate=incident.created_at,
            updateddate=incident.updated_at,
            categories=[incident.kind],
        )
    return feed.writeString("utf-8")
