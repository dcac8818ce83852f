"""Incidents and maintenance move components through their states, and put them back when done."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from happydesk.status import services
from happydesk.status.models import Component, ComponentState, ComponentStateChange, Incident

pytestmark = pytest.mark.django_db
S = ComponentState
St = Incident.State


@pytest.fixture
def parts():
    group = services.component_group_save(name="Product")
    return {
        name: services.component_save(name=name, group=group, order=i)
        for i, name in enumerate(["Dashboard", "API", "Webhooks"])
    }


def states() -> dict[str, str]:
    return dict(Component.objects.values_list("name", "state"))


def test_incident_lifecycle_sets_and_restores_component_states(parts, agent):
    incident = services.incident_declare(
        title="Logins fail",
        body="Some customers can't sign in.",
        impact=Incident.Impact.MAJOR,
        components={parts["Dashboard"]: S.MAJOR_OUTAGE, parts["API"]: S.DEGRADED},
        author=agent,
    )
    assert states() == {"Dashboard": "major_outage", "API": "degraded", "Webhooks": "operational"}
    assert incident.started_at is not None and incident.resolved_at is None

    services.incident_update(
        incident=incident,
        state=St.MONITORING,
        body="A fix is out; watching.",
        components={parts["Dashboard"]: S.DEGRADED},
        author=agent,
    )
    # The API left the affected set: it recovers, and the record still says it was affected.
    assert states() == {"Dashboard": "degraded", "API": "operational", "Webhooks": "operational"}
    assert sorted(incident.affected.values_list("component__name", "state")) == [
        ("API", "operational"),
        ("Dashboard", "degraded"),
    ]

    resolved = services.incident_resolve(incident=incident, author=agent)
    assert resolved.state == St.RESOLVED and resolved.resolved_at is not None
    assert set(states().values()) == {"operational"}
    assert [u.state for u in resolved.updates.order_by("created_at", "id")] == [
        "investigating",
        "monitoring",
        "resolved",
    ]
    assert resolved.updates.first().body == "This incident has been resolved."
    dashboard_history = list(
        ComponentStateChange.objects.filter(component=parts["Dashboard"]).values_list("state", flat=True)
    )
    assert dashboard_history == ["operational", "major_outage", "degraded", "operational"]
    assert ComponentStateChange.objects.filter(incident=incident).count() == 5


def test_resolving_one_of_two_incidents_keeps_what_the_other_holds(parts):
    a = services.incident_declare(title="A", body="a", components={parts["API"]: S.MAJOR_OUTAGE})
    b = services.incident_declare(title="B", body="b", components={parts["API"]: S.DEGRADED})
    assert states()["API"] == "major_outage"
    services.incident_resolve(incident=a)
    assert states()["API"] == "degraded"
    services.incident_resolve(incident=b)
    assert states()["API"] == "operational"


def test_maintenance_lifecycle(parts):
    now = timezone.now()
    m = services.maintenance_schedule(
        title="Database upgrade",
        scheduled_start=now + timedelta(hours=1),
        scheduled_end=now + timedelta(hours=2),
        components=[parts["API"], parts["Webhooks"]],
        body="Short interruptions possible.",
    )
    assert m.kind == Incident.Kind.MAINTENANCE and m.state == St.SCHEDULED and m.started_at is None
    assert set(states().values()) == {"operational"}  # nothing changes before it starts
    services.maintenance_start(incident=m)
    assert states() == {"Dashboard": "operational", "API": "maintenance", "Webhooks": "maintenance"}
    done = services.maintenance_complete(incident=m, body="All done.")
    assert done.state == St.COMPLETED and done.resolved_at is not None
    assert set(states().values()) == {"operational"}
    assert [u.get_state_display() for u in done.updates.order_by("created_at", "id")] == [
        "Scheduled",
        "In progress",
        "Completed",
    ]


def test_completing_maintenance_that_never_started_records_it_as_run(parts):
    now = timezone.now()
    m = services.maintenance_schedule(
        title="Quick patch",
        scheduled_start=now - timedelta(minutes=30),
        scheduled_end=now + timedelta(minutes=30),
        components=[parts["API"]],
        body="Patch.",
    )
    done = services.maintenance_complete(incident=m)
    assert done.started_at is not None and done.resolved_at is not None
    assert states()["API"] == "operational"


def test_refusals(parts):
    incident = services.incident_declare(title="X", body="x")
    with pytest.raises(services.StatusError):
        services.incident_update(incident=incident, state=St.IN_PROGRESS, body="no")
    with pytest.raises(services.StatusError):
        services.incident_declare(title="Y", body="y", state=St.RESOLVED)
    with pytest.raises(services.StatusError):
        services.incident_declare(title="Z", body="   ")
    services.incident_resolve(incident=incident)
    with pytest.raises(services.StatusError, match="declare a new incident"):
        services.incident_update(incident=incident, state=St.INVESTIGATING, body="again")
    with pytest.raises(services.StatusError):
        services.maintenance_start(incident=incident)
    now = timezone.now()
    with pytest.raises(services.StatusError):
        services.maintenance_schedule(title="m", scheduled_start=now, scheduled_end=now, body="b")
    with pytest.raises(services.StatusError):
        services.component_state_set(component=parts["API"], state="on_fire")


def test_setting_the_same_state_records_nothing(parts):
    before = ComponentStateChange.objects.count()
    services.component_state_set(component=parts["API"], state=S.OPERATIONAL)
    assert ComponentStateChange.objects.count() == before
    services.component_state_set(component=parts["API"], state=S.DEGRADED)
    assert ComponentStateChange.objects.count() == before + 1
