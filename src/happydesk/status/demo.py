"""Demo status page: six components in two groups and 90 days of believable history.

Written through the services with past times (`at=`), so the state history, timelines and uptime agree
exactly as they would in real use. Nobody is subscribed, so nothing is queued or sent. No incident is
open at the end; one maintenance window is announced for the coming days.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from happydesk.status import services
from happydesk.status.models import Component, ComponentState, Incident

GROUPS = {
    "Product": ["Dashboard", "API", "Sensor connectivity"],
    "Notifications and billing": ["Email notifications", "Webhooks", "Billing"],
}
DESCRIPTIONS = {
    "Sensor connectivity": "Devices reporting over MQTT",
    "Webhooks": "Deliveries to your endpoints",
}


def _day(now: datetime, days_ago: int, hour: int, minute: int = 0) -> datetime:
    midnight = now.astimezone(timezone.get_current_timezone()).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return midnight - timedelta(days=days_ago) + timedelta(hours=hour, minutes=minute)


@transaction.atomic
def load_demo_status(*, now: datetime | None = None) -> dict[str, Component]:
    """Create the demo components and their history up to `now`; returns the components by name."""
    now = now or timezone.now()
    created = now - timedelta(days=120)
    components: dict[str, Component] = {}
    for group_order, (group_name, names) in enumerate(GROUPS.items()):
        group = services.component_group_save(name=group_name, order=group_order)
        for order, name in enumerate(names):
            components[name] = services.component_save(
                name=name, group=group, order=order, description=DESCRIPTIONS.get(name, ""), at=created
            )
    c = components
    S, St = ComponentState, Incident.State

    # 62 days ago: email notifications slow for a couple of hours.
    t = _day(now, 62, 14, 12)
    mail = services.incident_declare(
        title="Delayed email notifications",
        impact=Incident.Impact.MINOR,
        components={c["Email notifications"]: S.DEGRADED},
        body="Alert emails are arriving late, up to 40 minutes. We're looking into it. Sensor data is recorded normally.",
        notify=False,
        at=t,
    )
    services.incident_update(
        incident=mail,
        state=St.IDENTIFIED,
        body="A configuration change left one of our sending queues with too few workers. We're adding capacity now.",
        notify=False,
        at=t + timedelta(minutes=35),
    )
    services.incident_update(
        incident=mail,
        state=St.MONITORING,
        body="The backlog is cleared and new alerts go out within seconds. We're keeping an eye on it.",
        notify=False,
        at=t + timedelta(hours=1, minutes=20),
    )
    services.incident_resolve(
        incident=mail,
        body="All delayed emails have been delivered and sending is back to normal. Sorry for the wait.",
        notify=False,
        at=t + timedelta(hours=2, minutes=10),
    )

    # 45 days ago announced, 40 days ago done: a database upgrade at night.
    start = _day(now, 40, 2)
    upgrade = services.maintenance_schedule(
        title="Database upgrade",
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        components=[c["Dashboard"], c["API"]],
        body="We're upgrading our main database. The dashboard and API may be slow or briefly unavailable during the window. Sensors keep recording; nothing is lost.",
        notify=False,
        at=_day(now, 45, 10),
    )
    services.maintenance_start(incident=upgrade, notify=False, at=start + timedelta(minutes=1))
    services.maintenance_complete(
        incident=upgrade,
        body="The upgrade is done, 20 minutes ahead of plan. Everything is running normally.",
        notify=False,
        at=start + timedelta(minutes=41),
    )

    # 23 days ago: sensors in the EU could not connect.
    t = _day(now, 23, 8, 47)
    eu = services.incident_declare(
        title="Sensors unable to connect in the EU region",
        impact=Incident.Impact.MAJOR,
        components={c["Sensor connectivity"]: S.PARTIAL_OUTAGE, c["API"]: S.DEGRADED},
        body="Some sensors in Europe can't connect and show as offline. Readings are kept on the device and will be sent once they reconnect.",
        notify=False,
        at=t,
    )
    services.incident_update(
        incident=eu,
        state=St.IDENTIFIED,
        body="An expired certificate on one of our EU connection servers is refusing devices. We're replacing it.",
        notify=False,
        at=t + timedelta(minutes=25),
    )
    services.incident_update(
        incident=eu,
        state=St.MONITORING,
        body="The certificate is replaced and devices are reconnecting. Stored readings are being uploaded, so charts fill in over the next hour.",
        components={c["Sensor connectivity"]: S.DEGRADED},
        notify=False,
        at=t + timedelta(minutes=55),
    )
    services.incident_resolve(
        incident=eu,
        body="All sensors are back online and their stored readings have been uploaded. We've added an alert so certificates are renewed well before they expire.",
        notify=False,
        at=t + timedelta(hours=1, minutes=40),
    )

    # 9 days ago: the dashboard was down for about half an hour.
    t = _day(now, 9, 16, 3)
    dash = services.incident_declare(
        title="Dashboard unavailable",
        impact=Incident.Impact.CRITICAL,
        components={c["Dashboard"]: S.MAJOR_OUTAGE},
        body="The dashboard isn't loading for anyone. The API and sensors are not affected. We're on it.",
        notify=False,
        at=t,
    )
    services.incident_update(
        incident=dash,
        state=St.IDENTIFIED,
        body="A database failover didn't complete cleanly. We're switching the dashboard to the healthy database.",
        notify=False,
        at=t + timedelta(minutes=18),
    )
    services.incident_resolve(
        incident=dash,
        body="The dashboard is back. It was unavailable for 38 minutes; no data was lost.",
        notify=False,
        at=t + timedelta(minutes=38),
    )

    # Announced yesterday, happening in four days.
    start = _day(now, -4, 2)
    services.maintenance_schedule(
        title="Webhook delivery upgrade",
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=2),
        components=[c["Webhooks"]],
        body="We're moving webhook delivery to new servers. Deliveries may be delayed by a few minutes during the window; none will be lost.",
        notify=False,
        at=_day(now, 1, 11),
    )
    for component in components.values():
        component.refresh_from_db()
    return components
