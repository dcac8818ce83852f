"""Reads shared by the status page, its feeds, the banner and the agent pages."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from happydesk.status import uptime
from happydesk.status.models import (
    SEVERITY,
    Component,
    ComponentGroup,
    ComponentState,
    ComponentStateChange,
    Incident,
    IncidentComponent,
    IncidentUpdate,
)

UPTIME_DAYS = 90


@dataclass(frozen=True)
class Summary:
    """The page's one-line answer to "is it working?" and a machine-readable indicator."""

    indicator: str  # none | minor | major | critical | maintenance
    description: str


@dataclass
class ComponentUptime:
    """A component's bars and its uptime over the whole range."""

    days: list[uptime.DayUptime]
    share: float | None

    @property
    def percent(self) -> str:
        return uptime.percent(self.share) if self.share is not None else "no data"

    @property
    def bad_days(self) -> list[uptime.DayUptime]:
        return [d for d in self.days if d.share is not None and (d.share < 1 or d.incidents)]

    def describe(self, name: str) -> str:
        """The bars in words, for screen readers: the overall figure and every day that was not clean."""
        text = f"{name}: {self.percent} uptime over the last {len(self.days)} days."
        bad = self.bad_days
        if not bad:
            return text + " No incidents."
        return text + " " + "; ".join(d.label for d in bad) + "."


@dataclass
class GroupRow:
    group: ComponentGroup | None
    components: list[Component] = field(default_factory=list)


PAGE_ORDER = (F("group__order").asc(nulls_first=True), "group__name", "order", "name")


def visible_components() -> QuerySet[Component]:
    """Components shown on the page, in page order (ungrouped first, then by group)."""
    return Component.objects.filter(archived_at__isnull=True).select_related("group").order_by(*PAGE_ORDER)


def components_grouped(components: list[Component] | None = None) -> list[GroupRow]:
    """Components under their groups, in page order; ungrouped ones first. `components` must already be
    in page order (as `visible_components` returns them)."""
    components = list(visible_components()) if components is None else components
    rows: dict[int | None, GroupRow] = {}
    for component in components:
        rows.setdefault(component.group_id, GroupRow(group=component.group)).components.append(component)
    return list(rows.values())


def _with_timeline(qs: QuerySet[Incident]) -> QuerySet[Incident]:
    return qs.prefetch_related(
        Prefetch("updates", queryset=IncidentUpdate.objects.order_by("-created_at", "-id")),
        Prefetch(
            "affected",
            queryset=IncidentComponent.objects.select_related("component").order_by(
                "component__order", "component__name"
            ),
        ),
    )


def open_incidents() -> QuerySet[Incident]:
    """Unplanned incidents not yet resolved, newest first, with their timelines."""
    return _with_timeline(
        Incident.objects.filter(kind=Incident.Kind.INCIDENT)
        .exclude(state=Incident.State.RESOLVED)
        .order_by("-started_at", "-id")
    )


def active_maintenance() -> QuerySet[Incident]:
    """Maintenance windows in progress right now."""
    return _with_timeline(
        Incident.objects.filter(kind=Incident.Kind.MAINTENANCE, state=Incident.State.IN_PROGRESS).order_by(
            "scheduled_start"
        )
    )


def upcoming_maintenance(now: datetime | None = None) -> QuerySet[Incident]:
    """Announced windows that have not started, soonest first (including ones running late to start)."""
    now = now or timezone.now()
    return _with_timeline(
        Incident.objects.filter(
            kind=Incident.Kind.MAINTENANCE, state=Incident.State.SCHEDULED, scheduled_end__gt=now
        ).order_by("scheduled_start", "id")
    )


def history() -> QuerySet[Incident]:
    """Resolved incidents and completed maintenance, newest first."""
    return _with_timeline(
        Incident.objects.filter(state__in=Incident.CLOSED_STATES).order_by("-resolved_at", "-id")
    )


def recently_updated(*, limit: int) -> list[Incident]:
    """Incidents and maintenance by their latest update, newest first (for the Atom feed)."""
    return list(_with_timeline(Incident.objects.order_by("-updated_at", "-id"))[:limit])


def incident_for_public(incident_id: int) -> Incident | None:
    """Any incident or announced maintenance by id (all of them are public), with its timeline."""
    return _with_timeline(Incident.objects.filter(pk=incident_id)).first()


def banner_incidents() -> list[Incident]:
    """What the help centre, portal and widget show a banner for: open incidents, maintenance under way."""
    return list(
        Incident.objects.filter(
            Q(kind=Incident.Kind.INCIDENT) & ~Q(state=Incident.State.RESOLVED)
            | Q(kind=Incident.Kind.MAINTENANCE, state=Incident.State.IN_PROGRESS)
        )
        .only("id", "kind", "title", "state", "impact", "started_at", "updated_at")
        .order_by("kind", "-started_at", "-id")
    )


SUMMARIES = {
    ComponentState.MAJOR_OUTAGE: Summary("critical", "Major outage"),
    ComponentState.PARTIAL_OUTAGE: Summary("major", "Partial outage"),
    ComponentState.DEGRADED: Summary("minor", "Degraded performance"),
    ComponentState.MAINTENANCE: Summary("maintenance", "Under maintenance"),
    ComponentState.OPERATIONAL: Summary("none", "All systems operational"),
}


def status_summary(components: list[Component], incidents: list[Incident]) -> Summary:
    """The worst current component state decides; an open incident with impact shows even when every
    component still looks operational."""
    worst = max((c.state for c in components), key=lambda s: SEVERITY[s], default=ComponentState.OPERATIONAL)
    if worst == ComponentState.OPERATIONAL and any(i.impact != Incident.Impact.NONE for i in incidents):
        return Summary("minor", "We're looking into an issue")
    return SUMMARIES[ComponentState(worst)]


def uptime_for(
    components: list[Component], *, days: int = UPTIME_DAYS, now: datetime | None = None
) -> dict[int, ComponentUptime]:
    """Per component, one entry per day of the last `days` days (today last), from the state history.

    Three queries whatever the number of components: the state each was in when the range began, the
    changes inside it, and the incidents and maintenance windows that touched them.
    """
    now = now or timezone.now()
    tz = timezone.get_current_timezone()
    today = timezone.localdate(now)
    day_list = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    start = uptime.day_bounds(day_list[0], tz)[0]
    ids = [c.pk for c in components]

    before = ComponentStateChange.objects.filter(component=OuterRef("pk"), at__lte=start).order_by(
        "-at", "-id"
    )
    initial = dict(
        Component.objects.filter(pk__in=ids)
        .annotate(initial=Subquery(before.values("state")[:1]))
        .values_list("pk", "initial")
    )
    changes: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for component_id, at, state in (
        ComponentStateChange.objects.filter(component_id__in=ids, at__gt=start, at__lte=now)
        .order_by("at", "id")
        .values_list("component_id", "at", "state")
    ):
        changes[component_id].append((at, state))
    windows: dict[int, list[tuple[datetime, datetime | None, bool]]] = defaultdict(list)
    for component_id, started, resolved, kind in (
        IncidentComponent.objects.filter(
            component_id__in=ids, incident__started_at__isnull=False, incident__started_at__lte=now
        )
        .filter(Q(incident__resolved_at__isnull=True) | Q(incident__resolved_at__gte=start))
        .values_list("component_id", "incident__started_at", "incident__resolved_at", "incident__kind")
    ):
        if started is not None:  # always (filtered above): narrows the nullable column
            windows[component_id].append((started, resolved, kind == Incident.Kind.MAINTENANCE))

    result: dict[int, ComponentUptime] = {}
    for component_id in ids:
        segs = uptime.segments(
            initial=initial.get(component_id), changes=changes[component_id], start=start, end=now
        )
        per_day = uptime.daily(segs=segs, days=day_list, tz=tz, windows=windows[component_id], now=now)
        result[component_id] = ComponentUptime(days=per_day, share=uptime.overall_share(per_day))
    return result
