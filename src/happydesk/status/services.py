"""Every change to the status page: component states, incidents, maintenance, subscribers.

Each service runs in one transaction and writes what happened (state changes, timeline entries, outbox
rows for subscribers) together; the worker sends the outbox after commit. `at` lets history (the demo, imports) be
written with its real times; it defaults to now.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from happydesk.accounts.models import User
from happydesk.mail.outbound import notice_enqueue, notices_cancel
from happydesk.status import mail
from happydesk.status.models import (
    SEVERITY,
    Component,
    ComponentGroup,
    ComponentState,
    ComponentStateChange,
    Incident,
    IncidentComponent,
    IncidentUpdate,
    Subscriber,
    new_subscriber_selector,
)

# A pending subscription can be confirmed for a week; the confirmation is sent again at most this often.
CONFIRM_VALID_FOR = timedelta(days=7)
CONFIRM_RESEND_AFTER = timedelta(minutes=10)

DEFAULT_BODY: dict[str, str] = {
    Incident.State.RESOLVED: "This incident has been resolved.",
    Incident.State.IN_PROGRESS: "The scheduled maintenance has started.",
    Incident.State.COMPLETED: "The scheduled maintenance is complete.",
}


class StatusError(ValueError):
    """A change the status page refuses, with a message fit to show the agent."""


# --- components ---------------------------------------------------------------------------------------


@transaction.atomic
def component_group_save(*, name: str, order: int = 0, group: ComponentGroup | None = None) -> ComponentGroup:
    """Create a group, or rename/reorder `group`."""
    row = group or ComponentGroup()
    row.name, row.order = name.strip(), order
    row.save()
    return row


def component_group_for_name(*, name: str) -> ComponentGroup | None:
    """The group with this name, created when new; None for a blank name (no group)."""
    name = name.strip()
    if not name:
        return None
    group, _ = ComponentGroup.objects.get_or_create(
        name=name, defaults={"order": ComponentGroup.objects.count()}
    )
    return group


@transaction.atomic
def component_save(
    *,
    name: str,
    group: ComponentGroup | None = None,
    order: int = 0,
    description: str = "",
    component: Component | None = None,
    at: datetime | None = None,
) -> Component:
    """Create a component (operational from `at`, recorded as its first state change) or edit one."""
    at = at or timezone.now()
    row = component or Component(created_at=at, state_since=at)
    row.name, row.group, row.order, row.description = name.strip(), group, order, description.strip()
    row.save()
    if component is None:
        ComponentStateChange.objects.create(component=row, state=row.state, at=at)
    return row


@transaction.atomic
def component_archive(*, component: Component, at: datetime | None = None) -> Component:
    """Hide a component from the page; its history stays for the record."""
    component.archived_at = at or timezone.now()
    component.save(update_fields=["archived_at"])
    return component


@transaction.atomic
def component_state_set(
    *,
    component: Component,
    state: str,
    actor: User | None = None,
    incident: Incident | None = None,
    at: datetime | None = None,
) -> Component:
    """Put the component in `state` from `at` on and record the change; the same state records nothing."""
    if state not in ComponentState.values:
        raise StatusError(f"Unknown component state {state!r}.")
    at = at or timezone.now()
    row = Component.objects.select_for_update().get(pk=component.pk)
    if row.state != state:
        ComponentStateChange.objects.create(component=row, state=state, at=at, incident=incident, actor=actor)
        row.state, row.state_since = state, at
        row.save(update_fields=["state", "state_since"])
    component.state, component.state_since = row.state, row.state_since
    return row


def _active_incidents() -> Q:
    """Incidents that hold components in their states right now (prefix: `incident__`)."""
    return Q(incident__kind=Incident.Kind.INCIDENT) & ~Q(incident__state=Incident.State.RESOLVED) | Q(
        incident__kind=Incident.Kind.MAINTENANCE, incident__state=Incident.State.IN_PROGRESS
    )


def _held_state(component_id: int) -> str:
    """The worst state active incidents put the component in; operational when none does."""
    states = IncidentComponent.objects.filter(_active_incidents(), component_id=component_id).values_list(
        "state", flat=True
    )
    return max(states, key=lambda s: SEVERITY[s], default=ComponentState.OPERATIONAL)


def _components_refresh(
    component_ids: Iterable[int], *, incident: Incident, actor: User | None, at: datetime
) -> None:
    for component in Component.objects.filter(pk__in=set(component_ids)).order_by("pk"):
        component_state_set(
            component=component, state=_held_state(component.pk), actor=actor, incident=incident, at=at
        )


def _affected_set(incident: Incident, components: Mapping[Component, str]) -> set[int]:
    """Set the states the incident holds `components` in; components it affected before and that are
    left out recover (kept as operational, so the record still shows they were affected). Returns every
    component id touched."""
    for state in components.values():
        if state not in ComponentState.values:
            raise StatusError(f"Unknown component state {state!r}.")
    before = set(incident.affected.values_list("component_id", flat=True))
    keep = {c.pk: state for c, state in components.items()}
    incident.affected.exclude(component_id__in=keep).update(state=ComponentState.OPERATIONAL)
    for component_id, state in keep.items():
        IncidentComponent.objects.update_or_create(
            incident=incident, component_id=component_id, defaults={"state": state}
        )
    return before | set(keep)


# --- incidents and maintenance ------------------------------------------------------------------------


def _post(
    *, incident: Incident, state: str, body: str, author: User | None, at: datetime, notify: bool
) -> IncidentUpdate:
    body = body.strip() or DEFAULT_BODY.get(state, "")
    if not body:
        raise StatusError("Write what is going on: the update is shown publicly.")
    update = IncidentUpdate.objects.create(
        incident=incident, state=state, body=body, created_at=at, author=author
    )
    if notify:
        _notify_subscribers(update)
    return update


def _transition(
    incident: Incident,
    *,
    state: str,
    body: str,
    author: User | None,
    at: datetime | None,
    notify: bool,
    components: Mapping[Component, str] | None = None,
    impact: str | None = None,
) -> IncidentUpdate:
    at = at or timezone.now()
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    allowed = Incident.MAINTENANCE_STATES if incident.is_maintenance else Incident.INCIDENT_STATES
    if state not in allowed:
        label = dict(Incident.State.choices).get(state, state)
        raise StatusError(f"{label} is not a state for {incident.get_kind_display().lower()}.")
    if incident.is_closed and state != incident.state:
        raise StatusError("This is closed; declare a new incident instead of reopening it.")
    if (
        incident.is_maintenance
        and incident.state == Incident.State.IN_PROGRESS
        and state == Incident.State.SCHEDULED
    ):
        raise StatusError("Maintenance in progress cannot go back to scheduled.")
    touched = set(incident.affected.values_list("component_id", flat=True))
    if components is not None:
        if incident.is_closed:
            raise StatusError("Components of a closed incident no longer change.")
        touched |= _affected_set(incident, components)
    if impact is not None:
        incident.impact = impact
    incident.state, incident.updated_at = state, at
    if state == Incident.State.IN_PROGRESS and incident.started_at is None:
        incident.started_at = at
    if state in Incident.CLOSED_STATES and incident.resolved_at is None:
        incident.resolved_at = at
    incident.save()
    _components_refresh(touched, incident=incident, actor=author, at=at)
    return _post(incident=incident, state=state, body=body, author=author, at=at, notify=notify)


@transaction.atomic
def incident_declare(
    *,
    title: str,
    body: str,
    impact: str = Incident.Impact.MINOR,
    components: Mapping[Component, str] | None = None,
    state: str = Incident.State.INVESTIGATING,
    author: User | None = None,
    notify: bool = True,
    at: datetime | None = None,
) -> Incident:
    """Open an incident: affected components take their states, the first update is posted and sent."""
    if state not in Incident.INCIDENT_STATES or state == Incident.State.RESOLVED:
        raise StatusError("A new incident starts as investigating, identified or monitoring.")
    if not title.strip():
        raise StatusError("Give the incident a title customers will recognise.")
    at = at or timezone.now()
    incident = Incident.objects.create(
        kind=Incident.Kind.INCIDENT,
        title=title.strip(),
        impact=impact,
        state=state,
        started_at=at,
        created_at=at,
        updated_at=at,
        created_by=author,
    )
    touched = _affected_set(incident, components or {})
    _components_refresh(touched, incident=incident, actor=author, at=at)
    _post(incident=incident, state=state, body=body, author=author, at=at, notify=notify)
    return incident


@transaction.atomic
def incident_update(
    *,
    incident: Incident,
    state: str,
    body: str,
    components: Mapping[Component, str] | None = None,
    impact: str | None = None,
    author: User | None = None,
    notify: bool = True,
    at: datetime | None = None,
) -> IncidentUpdate:
    """Post a timeline entry; `components` (when given) replaces the affected set and their states."""
    return _transition(
        incident,
        state=state,
        body=body,
        author=author,
        at=at,
        notify=notify,
        components=components,
        impact=impact,
    )


@transaction.atomic
def incident_resolve(
    *,
    incident: Incident,
    body: str = "",
    author: User | None = None,
    notify: bool = True,
    at: datetime | None = None,
) -> Incident:
    """Resolve: the final update is posted and sent, and components go back to operational (or to what
    another still-open incident holds them in)."""
    if incident.is_maintenance:
        raise StatusError("Maintenance is completed, not resolved.")
    _transition(incident, state=Incident.State.RESOLVED, body=body, author=author, at=at, notify=notify)
    return Incident.objects.get(pk=incident.pk)


@transaction.atomic
def maintenance_schedule(
    *,
    title: str,
    scheduled_start: datetime,
    scheduled_end: datetime,
    body: str,
    components: Iterable[Component] = (),
    impact: str = Incident.Impact.MINOR,
    author: User | None = None,
    notify: bool = True,
    at: datetime | None = None,
) -> Incident:
    """Announce a planned window; components show under maintenance only once it starts."""
    if scheduled_end <= scheduled_start:
        raise StatusError("The maintenance window must end after it starts.")
    if not title.strip():
        raise StatusError("Give the maintenance a title customers will recognise.")
    at = at or timezone.now()
    incident = Incident.objects.create(
        kind=Incident.Kind.MAINTENANCE,
        title=title.strip(),
        impact=impact,
        state=Incident.State.SCHEDULED,
        scheduled_start=scheduled_start,
        scheduled_end=scheduled_end,
        created_at=at,
        updated_at=at,
        created_by=author,
    )
    _affected_set(incident, dict.fromkeys(components, ComponentState.MAINTENANCE))
    _post(incident=incident, state=Incident.State.SCHEDULED, body=body, author=author, at=at, notify=notify)
    return incident


@transaction.atomic
def maintenance_start(
    *,
    incident: Incident,
    body: str = "",
    author: User | None = None,
    notify: bool = True,
    at: datetime | None = None,
) -> Incident:
    """The window begins: affected components show under maintenance."""
    if not incident.is_maintenance:
        raise StatusError("Only scheduled maintenance can be started.")
    _transition(incident, state=Incident.State.IN_PROGRESS, body=body, author=author, at=at, notify=notify)
    return Incident.objects.get(pk=incident.pk)


@transaction.atomic
def maintenance_complete(
    *,
    incident: Incident,
    body: str = "",
    author: User | None = None,
    notify: bool = True,
    at: datetime | None = None,
) -> Incident:
    """The window is over: components go back to operational."""
    if not incident.is_maintenance:
        raise StatusError("Only maintenance is completed; resolve an incident instead.")
    if Incident.objects.filter(pk=incident.pk, state=Incident.State.SCHEDULED).exists():
        maintenance_start(incident=incident, body="", author=author, notify=False, at=at)
    _transition(incident, state=Incident.State.COMPLETED, body=body, author=author, at=at, notify=notify)
    return Incident.objects.get(pk=incident.pk)


# --- subscribers --------------------------------------------------------------------------------------


def _notify_subscribers(update: IncidentUpdate) -> int:
    """Queue one mail per confirmed subscriber for this update in the shared outbox; its key
    (subscriber, update) makes it exactly one however often this runs."""
    parts = mail.update_parts(update)
    count = 0
    for subscriber in Subscriber.objects.filter(
        confirmed_at__isnull=False, unsubscribed_at__isnull=True
    ).iterator():
        copy = mail.update_for(parts, subscriber)
        notice_enqueue(
            to=[subscriber.email],
            subject=copy["subject"],
            text=copy["body"],
            headers=copy["headers"],
            kind=mail.KIND_UPDATE,
            dedupe_key=mail.update_key(subscriber, update),
        )
        count += 1
    return count


def normalize_email(email: str) -> str:
    return email.strip().lower()


@transaction.atomic
def subscriber_add(*, email: str, at: datetime | None = None) -> Subscriber:
    """Ask for updates: mail a confirmation link (double opt-in). An active subscriber gets nothing new,
    and a pending one at most one confirmation per `CONFIRM_RESEND_AFTER`; callers answer the same way
    in every case, so the form does not reveal who subscribes."""
    at = at or timezone.now()
    subscriber, created = Subscriber.objects.select_for_update().get_or_create(
        email=normalize_email(email), defaults={"created_at": at}
    )
    if not created:
        if subscriber.is_active:
            return subscriber
        if subscriber.unsubscribed_at is not None:  # subscribing again starts over, with a fresh token
            subscriber.unsubscribed_at = subscriber.confirmed_at = None
            subscriber.selector, subscriber.legacy_digest = new_subscriber_selector(), ""
            subscriber.created_at = at
        elif subscriber.confirm_sent_at and at - subscriber.confirm_sent_at < CONFIRM_RESEND_AFTER:
            return subscriber
    subscriber.confirm_sent_at = at
    subscriber.save()
    confirmation = mail.confirm_for(subscriber)
    notice_enqueue(
        to=[subscriber.email],
        subject=confirmation["subject"],
        text=confirmation["body"],
        headers=confirmation["headers"],
        kind=mail.KIND_CONFIRM,
        dedupe_key=mail.confirm_key(subscriber, at),
    )
    return subscriber


@transaction.atomic
def subscriber_confirm(*, token: str, at: datetime | None = None) -> Subscriber | None:
    """Confirm by the emailed link; None when the link is unknown, unsubscribed or expired."""
    at = at or timezone.now()
    subscriber = (
        Subscriber.objects.select_for_update()
        .filter(Subscriber.with_token(token), unsubscribed_at__isnull=True)
        .first()
    )
    if subscriber is None:
        return None
    if subscriber.confirmed_at is None:
        sent = subscriber.confirm_sent_at or subscriber.created_at
        if at - sent > CONFIRM_VALID_FOR:
            return None
        subscriber.confirmed_at = at
        subscriber.save(update_fields=["confirmed_at"])
    return subscriber


@transaction.atomic
def subscriber_unsubscribe(*, token: str, at: datetime | None = None) -> Subscriber | None:
    """Stop all mail to this subscriber, including anything still queued; repeating it is harmless."""
    subscriber = Subscriber.objects.select_for_update().filter(Subscriber.with_token(token)).first()
    if subscriber is None:
        return None
    if subscriber.unsubscribed_at is None:
        subscriber.unsubscribed_at = at or timezone.now()
        subscriber.save(update_fields=["unsubscribed_at"])
    notices_cancel(dedupe_key_prefix=mail.subscriber_prefix(subscriber))
    return subscriber
