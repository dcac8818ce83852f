"""The public pages, feeds and banner, and the agent pages that change them."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from happydesk.accounts.services import agent_create
from happydesk.status import services
from happydesk.status.models import Component, ComponentState, Incident
from tests import builders

pytestmark = pytest.mark.django_db
S = ComponentState
ATOM = "{http://www.w3.org/2005/Atom}"
DASHBOARD_DOWN = timedelta(minutes=38)  # the dashboard's one full outage in the 90 days (history fixture)
OUTAGE_AGO = timedelta(minutes=40)  # the open incident (outage fixture) began this long ago


@pytest.fixture
def parts() -> dict[str, Component]:
    """Five components in two groups, operational since well before the 90 days of bars."""
    return builders.status_components(
        {
            "Product": ["Dashboard", "API", "Sensor connectivity"],
            "Notifications and billing": ["Webhooks", "Billing"],
        },
        since=timezone.now() - timedelta(days=120),
    )


@pytest.fixture
def history(parts) -> dict[str, Incident]:  # type: ignore[no-untyped-def]
    """Three closed events, oldest first: a maintenance, an EU incident in every state, a dashboard outage."""
    upgrade = builders.past_maintenance(
        title="Database upgrade",
        components=[parts["Dashboard"], parts["API"]],
        start=builders.day_at(40, 2),
        length=timedelta(minutes=40),
    )
    eu = builders.past_incident(
        title="Sensors unable to connect in the EU region",
        components={parts["Sensor connectivity"]: S.PARTIAL_OUTAGE, parts["API"]: S.DEGRADED},
        start=builders.day_at(23, 8, 47),
        length=timedelta(hours=1, minutes=40),
        steps=[
            (Incident.State.IDENTIFIED, timedelta(minutes=25), "An expired certificate."),
            (Incident.State.MONITORING, timedelta(minutes=55), "Devices are reconnecting."),
        ],
    )
    dashboard = builders.past_incident(
        title="Dashboard unavailable",
        components={parts["Dashboard"]: S.MAJOR_OUTAGE},
        start=builders.day_at(9, 16, 3),
        length=DASHBOARD_DOWN,
        impact=Incident.Impact.CRITICAL,
    )
    return {"upgrade": upgrade, "eu": eu, "dashboard": dashboard}


@pytest.fixture
def upcoming(parts) -> Incident:  # type: ignore[no-untyped-def]
    """Webhook work announced yesterday for four days from now."""
    return builders.planned_maintenance(
        title="Webhook delivery upgrade",
        components=[parts["Webhooks"]],
        start=timezone.now() + timedelta(days=4),
        length=timedelta(hours=2),
        body="Deliveries may be delayed by a few minutes.",
        announced=timezone.now() - timedelta(days=1),
    )


@pytest.fixture
def outage(parts) -> Incident:  # type: ignore[no-untyped-def]
    """The dashboard in a partial outage since OUTAGE_AGO, still open."""
    return services.incident_declare(
        title="Dashboard slow to load",
        body="Some pages take 20 seconds.",
        impact=Incident.Impact.MAJOR,
        components={parts["Dashboard"]: S.PARTIAL_OUTAGE},
        at=timezone.now() - OUTAGE_AGO,
    )


def open_outage_figures(outage: Incident, *moments: datetime) -> set[str]:
    """The dashboard's uptime at these moments, its only downtime the open partial outage (counts half)."""
    return {builders.uptime_figure(down=(at - outage.started_at) / 2, now=at) for at in moments}


def test_the_page_shows_each_components_uptime_from_its_history(parts, history):
    before = timezone.now()
    page = Client().get("/status/").content.decode()
    after = timezone.now()
    assert "All systems operational" in page  # everything in the history is over

    def figure_shown(name: str, down: timedelta) -> str:
        """The figure the page shows for `name`, which must be what `down` over the 90 days gives."""
        figures = {builders.uptime_figure(down=down, now=at) for at in (before, after)}
        shown = re.search(rf'aria-label="{name}: ([\d.]+%) uptime over the last 90 days\.', page)
        assert shown and shown.group(1) in figures, (name, shown and shown.group(1), figures)
        return shown.group(1)

    # 38 minutes fully down: the share of the 90 days up, rounded down, worked out here to the second.
    dashboard = figure_shown("Dashboard", DASHBOARD_DOWN)
    assert f'<span class="uptime-figure">{dashboard} uptime</span>' in page
    outage_day = builders.day_label(
        builders.day_at(9, 0).date(), down=DASHBOARD_DOWN, incidents=1
    )  # e.g. "Nov 3: 97.3% up, 1 incident"
    assert f"Dashboard: {dashboard} uptime over the last 90 days. {outage_day}." in page
    assert f'title="{outage_day}"' in page
    # A partial outage counts half down: the sensors' 100 minutes are 50 down.
    figure_shown("Sensor connectivity", timedelta(minutes=50))
    # Degraded (the API in the EU incident) and maintenance count as up.
    assert page.count('<span class="uptime-figure">100% uptime</span>') == 3  # API, Webhooks, Billing
    bars = re.findall(r'class="bar lvl-(\w+)" title="\w{3} \d+: [^"]+"', page)
    assert len(bars) == len(parts) * 90
    worst = Counter(bars)
    assert worst == {
        "operational": len(parts) * 90 - 5,
        "major_outage": 1,  # the dashboard's day
        "partial_outage": 1,  # the sensors' day
        "degraded": 1,  # the API's side of the same incident
        "maintenance": 2,  # the database upgrade, for the dashboard and the API
    }


def test_status_page_shows_incidents_on_top_and_maintenance_differently(parts, outage, upcoming):
    before = timezone.now()
    r = Client().get("/status/")
    after = timezone.now()
    assert r.status_code == 200 and r["Cache-Control"] == "public, max-age=30"
    page = r.content.decode()
    assert "Partial outage" in page
    assert page.index("Current incidents") < page.index("Upcoming maintenance") < page.index("Components")
    assert page.index("Dashboard slow to load") < page.index("Webhook delivery upgrade")
    current = page[page.index("Current incidents") : page.index("Upcoming maintenance")]
    planned = page[page.index("Upcoming maintenance") : page.index('id="components-title"')]
    assert "kind-incident impact-major" in current and "Major impact" in current
    assert "Investigating" in current and "Some pages take 20 seconds." in current
    assert "kind-maintenance" in planned and "Scheduled maintenance" in planned
    assert "Planned window:" in planned and "kind-incident" not in planned
    # The open partial outage is the dashboard's only downtime: half of the time since it began.
    figures = open_outage_figures(outage, before, after)
    assert any(f'aria-label="Dashboard: {f} uptime over the last 90 days.' in page for f in figures)
    assert "1 incident" in page and "% up" in page


def test_history_and_incident_pages(history):
    listing = Client().get("/status/history/").content.decode()
    titles = ["Dashboard unavailable", "Sensors unable to connect in the EU region", "Database upgrade"]
    assert all(t in listing for t in titles)
    assert listing.index(titles[0]) < listing.index(titles[1]) < listing.index(titles[2])  # newest first
    eu = history["eu"]
    page = Client().get(f"/status/incidents/{eu.pk}/").content.decode()
    for state in ["Investigating", "Identified", "Monitoring", "Resolved"]:
        assert state in page
    assert "Affected:</span> API, Sensor connectivity" in page
    assert "Resolved after 1 h 40 min" in page
    assert Client().get("/status/incidents/999999/").status_code == 404


def test_json_feed(parts, outage, upcoming):
    before = timezone.now()
    r = Client().get("/status/api.json")
    after = timezone.now()
    data = r.json()
    assert r["Access-Control-Allow-Origin"] == "*"
    assert data["status"] == {"indicator": "major", "description": "Partial outage"}
    names = [c["name"] for c in data["components"]]
    assert names == ["Dashboard", "API", "Sensor connectivity", "Webhooks", "Billing"]  # page order
    dashboard = data["components"][0]
    assert dashboard["state"] == "partial_outage"
    # The percentage up (4 decimals) that half the time since the outage began implies.
    window = [(at - builders.uptime_window_start(at)).total_seconds() for at in (before, after)]
    down = [(at - outage.started_at).total_seconds() / 2 for at in (before, after)]
    low, high = sorted(100 * (1 - d / w) for d, w in zip(down, window, strict=True))
    assert low - 0.0001 <= dashboard["uptime_90d"] <= high + 0.0001 < 100
    assert {c["uptime_90d"] for c in data["components"][1:]} == {100.0}
    assert [i["title"] for i in data["incidents"]] == ["Dashboard slow to load"]
    assert data["incidents"][0]["updates"][0]["body"] == "Some pages take 20 seconds."
    assert data["incidents"][0]["url"].endswith(f"/status/incidents/{outage.pk}/")
    (planned,) = data["scheduled_maintenances"]
    assert (
        planned["title"] == "Webhook delivery upgrade"
        and planned["scheduled_start"] < planned["scheduled_end"]
    )


def test_atom_feed_is_valid_atom(history, upcoming, outage):
    r = Client().get("/status/feed.atom")
    assert r["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(r.content)
    assert root.tag == f"{ATOM}feed"
    assert root.find(f"{ATOM}title").text == "Status updates"
    assert root.find(f"{ATOM}updated").text
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == len(history) + 2  # every incident and maintenance: none is left out
    first = entries[0]
    assert first.find(f"{ATOM}title").text == "Incident: Dashboard slow to load (Investigating)"
    assert first.find(f"{ATOM}id").text.endswith(f"/status/incidents/{outage.pk}/")
    assert first.find(f"{ATOM}link").get("href").endswith(f"/status/incidents/{outage.pk}/")
    assert "Some pages take 20 seconds." in first.find(f"{ATOM}summary").text
    assert all(e.find(f"{ATOM}updated").text for e in entries)


def test_banner_and_notice_while_an_incident_is_open(history, upcoming, mailbox):
    client = Client()
    # Every page a customer lands on during an outage: the help centre first.
    pages = ["/help/", "/help/search/?q=email", "/community/", "/portal/", f"/contact/{mailbox.pk}/"]
    # Closed incidents and maintenance that has not started show no banner.
    for path in pages:
        assert "status-banner" not in client.get(path).content.decode()
    assert client.get("/status/notice.json").json()["notices"] == []

    incident = services.incident_declare(title="Emails are delayed", body="Looking into it.")
    for path in pages:
        page = client.get(path).content.decode()
        assert "status-banner" in page and "Emails are delayed" in page
        assert f"/status/incidents/{incident.pk}/" in page
    r = client.get("/status/notice.json")
    assert r["Access-Control-Allow-Origin"] == "*"
    (notice,) = r.json()["notices"]
    assert notice["title"] == "Emails are delayed" and notice["state"] == "investigating"
    assert notice["url"].endswith(f"/status/incidents/{incident.pk}/")

    services.incident_resolve(incident=incident)
    for path in pages:
        assert "status-banner" not in client.get(path).content.decode()
    assert client.get("/status/notice.json").json()["notices"] == []


def test_maintenance_in_progress_shows_in_the_banner_as_maintenance(upcoming):
    assert "Maintenance in progress:" not in Client().get("/portal/").content.decode()
    services.maintenance_start(incident=upcoming)
    page = Client().get("/portal/").content.decode()
    assert "Maintenance in progress:" in page and "Webhook delivery upgrade" in page
    assert "Under maintenance" in Client().get("/status/").content.decode()


def test_agent_declares_updates_and_resolves(parts, agent, client):
    client.force_login(agent)
    dashboard = parts["Dashboard"]
    assert client.get("/admin/status/").status_code == 200
    r = client.post(
        "/admin/status/incidents/new/",
        {
            "title": "Logins fail",
            "impact": "major",
            "state": "investigating",
            "body": "Some customers can't sign in.",
            "notify": "on",
            f"component_{dashboard.pk}": "major_outage",
        },
    )
    incident = Incident.objects.get(title="Logins fail")
    assert r.status_code == 302 and r["Location"] == f"/admin/status/incidents/{incident.pk}/"
    assert Component.objects.get(pk=dashboard.pk).state == "major_outage"
    assert incident.created_by == agent

    page = client.get(f"/admin/status/incidents/{incident.pk}/").content.decode()
    assert "Post an update" in page and "Resolve incident" in page
    client.post(
        f"/admin/status/incidents/{incident.pk}/",
        {"state": "monitoring", "body": "Fixed; watching.", f"component_{dashboard.pk}": "degraded"},
    )
    assert Component.objects.get(pk=dashboard.pk).state == "degraded"
    client.post(f"/admin/status/incidents/{incident.pk}/resolve/", {"body": "", "notify": "on"})
    incident.refresh_from_db()
    assert incident.state == "resolved" and Component.objects.get(pk=dashboard.pk).state == "operational"
    assert incident.updates.count() == 3


def test_agent_schedules_runs_maintenance_and_manages_components(parts, agent, client):
    client.force_login(agent)
    start = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    r = client.post(
        "/admin/status/maintenance/new/",
        {
            "title": "Network upgrade",
            "scheduled_start": start.strftime("%Y-%m-%dT%H:%M"),
            "scheduled_end": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "components": [parts["API"].pk],
            "body": "Brief interruptions.",
        },
    )
    m = Incident.objects.get(title="Network upgrade")
    assert r.status_code == 302 and m.scheduled_start == start
    client.post(f"/admin/status/maintenance/{m.pk}/start/", {})
    assert Component.objects.get(pk=parts["API"].pk).state == "maintenance"
    client.post(f"/admin/status/maintenance/{m.pk}/complete/", {"body": "Done."})
    m.refresh_from_db()
    assert m.state == "completed" and Component.objects.get(pk=parts["API"].pk).state == "operational"

    client.post("/admin/status/components/new/", {"name": "Mobile app", "group": "Apps", "order": 0})
    mobile = Component.objects.get(name="Mobile app")
    assert mobile.group.name == "Apps" and mobile.state_changes.count() == 1
    client.post(f"/admin/status/components/{mobile.pk}/state/", {"state": "degraded"})
    assert Component.objects.get(pk=mobile.pk).state == "degraded"
    assert "Mobile app" in Client().get("/status/").content.decode()
    client.post(f"/admin/status/components/{mobile.pk}/archive/")
    assert "Mobile app" not in Client().get("/status/").content.decode()


def test_light_agents_can_look_but_not_change(parts, client):
    light = agent_create(email="lee@acme.test", name="Lee Light", password="long-password-1")
    light.role = light.Role.LIGHT
    light.save()
    client.force_login(light)
    look = client.get("/admin/status/")
    assert look.status_code == 200 and all(name in look.content.decode() for name in parts)
    r = client.post(
        "/admin/status/incidents/new/",
        {"title": "x", "impact": "minor", "state": "investigating", "body": "y"},
    )
    assert r.status_code == 403 and not Incident.objects.filter(title="x").exists()
    assert Client().get("/admin/status/").status_code == 302  # signed out: to the login page


def test_the_public_page_and_feeds_cost_a_fixed_number_of_queries(
    history, outage, upcoming, django_assert_max_num_queries
):
    """Everyone reloads the page during an outage: its cost must not grow with history or components."""
    for path, most in [
        ("/status/", 14),
        ("/status/api.json", 14),
        ("/status/feed.atom", 3),
        ("/status/notice.json", 1),
    ]:
        with django_assert_max_num_queries(most):
            assert Client().get(path).status_code == 200
