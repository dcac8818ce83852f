"""The public pages, feeds and banner, and the agent pages that change them."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from happydesk.accounts.services import agent_create
from happydesk.mail.models import OutboundMail
from happydesk.status import services
from happydesk.status.demo import load_demo_status
from happydesk.status.models import Component, ComponentState, Incident
from happydesk.status.selectors import uptime_for

pytestmark = pytest.mark.django_db
S = ComponentState
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def demo():
    return load_demo_status()


@pytest.fixture
def outage(demo):
    return services.incident_declare(
        title="Dashboard slow to load",
        body="Some pages take 20 seconds.",
        impact=Incident.Impact.MAJOR,
        components={demo["Dashboard"]: S.PARTIAL_OUTAGE},
    )


def test_demo_history_is_believable(demo):
    assert Component.objects.count() == 6
    assert {c.group.name for c in demo.values()} == {"Product", "Notifications and billing"}
    assert set(Component.objects.values_list("state", flat=True)) == {"operational"}
    kinds = list(Incident.objects.values_list("kind", "state"))
    assert kinds.count(("incident", "resolved")) == 3
    assert ("maintenance", "completed") in kinds and ("maintenance", "scheduled") in kinds
    assert not Incident.objects.exclude(state__in=["resolved", "completed", "scheduled"]).exists()
    assert not OutboundMail.objects.filter(kind__startswith="status-").exists()
    r = Client().get("/status/")
    page = r.content.decode()
    assert "All systems operational" in page
    assert "99.97% uptime" in page  # the dashboard's 38 minutes down, computed from its history
    assert len(re.findall(r'class="bar lvl-\w+" title="\w{3} \d+: [^"]+"', page)) == 6 * 90


def test_status_page_shows_incidents_on_top_and_maintenance_differently(demo, outage):
    r = Client().get("/status/")
    assert r.status_code == 200 and r["Cache-Control"] == "public, max-age=30"
    page = r.content.decode()
    assert "Partial outage" in page
    assert page.index("Current incidents") < page.index("Upcoming maintenance") < page.index("Components")
    assert page.index("Dashboard slow to load") < page.index("Webhook delivery upgrade")
    current = page[page.index("Current incidents") : page.index("Upcoming maintenance")]
    upcoming = page[page.index("Upcoming maintenance") : page.index('id="components-title"')]
    assert "kind-incident impact-major" in current and "Major impact" in current
    assert "Investigating" in current and "Some pages take 20 seconds." in current
    assert "kind-maintenance" in upcoming and "Scheduled maintenance" in upcoming
    assert "Planned window:" in upcoming and "kind-incident" not in upcoming
    dashboard = demo["Dashboard"]
    percent = uptime_for([dashboard])[dashboard.pk].percent  # what its history gives, not a demo number
    assert f'aria-label="Dashboard: {percent} uptime over the last 90 days.' in page
    assert "1 incident" in page and "% up" in page


def test_history_and_incident_pages(demo):
    history = Client().get("/status/history/").content.decode()
    titles = ["Dashboard unavailable", "Sensors unable to connect in the EU region", "Database upgrade"]
    assert all(t in history for t in titles)
    assert history.index(titles[0]) < history.index(titles[1]) < history.index(titles[2])  # newest first
    eu = Incident.objects.get(title__startswith="Sensors")
    page = Client().get(f"/status/incidents/{eu.pk}/").content.decode()
    for state in ["Investigating", "Identified", "Monitoring", "Resolved"]:
        assert state in page
    assert "Affected:</span> API, Sensor connectivity" in page
    assert "Resolved after 1 h 40 min" in page
    assert Client().get("/status/incidents/999999/").status_code == 404


def test_json_feed(demo, outage):
    r = Client().get("/status/api.json")
    data = r.json()
    assert r["Access-Control-Allow-Origin"] == "*"
    assert data["status"] == {"indicator": "major", "description": "Partial outage"}
    names = [c["name"] for c in data["components"]]
    assert names == ["Dashboard", "API", "Sensor connectivity", "Email notifications", "Webhooks", "Billing"]
    dashboard = data["components"][0]
    assert dashboard["state"] == "partial_outage" and 99 < dashboard["uptime_90d"] < 100
    assert [i["title"] for i in data["incidents"]] == ["Dashboard slow to load"]
    assert data["incidents"][0]["updates"][0]["body"] == "Some pages take 20 seconds."
    assert data["incidents"][0]["url"].endswith(f"/status/incidents/{outage.pk}/")
    (planned,) = data["scheduled_maintenances"]
    assert (
        planned["title"] == "Webhook delivery upgrade"
        and planned["scheduled_start"] < planned["scheduled_end"]
    )


def test_atom_feed_is_valid_atom(demo, outage):
    r = Client().get("/status/feed.atom")
    assert r["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(r.content)
    assert root.tag == f"{ATOM}feed"
    assert root.find(f"{ATOM}title").text == "Status updates"
    assert root.find(f"{ATOM}updated").text
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == Incident.objects.count() == 6
    first = entries[0]
    assert first.find(f"{ATOM}title").text == "Incident: Dashboard slow to load (Investigating)"
    assert first.find(f"{ATOM}id").text.endswith(f"/status/incidents/{outage.pk}/")
    assert first.find(f"{ATOM}link").get("href").endswith(f"/status/incidents/{outage.pk}/")
    assert "Some pages take 20 seconds." in first.find(f"{ATOM}summary").text
    assert all(e.find(f"{ATOM}updated").text for e in entries)


def test_banner_and_notice_while_an_incident_is_open(demo, mailbox):
    client = Client()
    pages = ["/portal/", f"/contact/{mailbox.pk}/"]
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


def test_maintenance_in_progress_shows_in_the_banner_as_maintenance(demo):
    planned = Incident.objects.get(state="scheduled")
    services.maintenance_start(incident=planned)
    page = Client().get("/portal/").content.decode()
    assert "Maintenance in progress:" in page and "Webhook delivery upgrade" in page
    assert "Under maintenance" in Client().get("/status/").content.decode()


def test_agent_declares_updates_and_resolves(demo, agent, client):
    client.force_login(agent)
    dashboard = demo["Dashboard"]
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


def test_agent_schedules_runs_maintenance_and_manages_components(demo, agent, client):
    client.force_login(agent)
    start = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    r = client.post(
        "/admin/status/maintenance/new/",
        {
            "title": "Network upgrade",
            "scheduled_start": start.strftime("%Y-%m-%dT%H:%M"),
            "scheduled_end": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "components": [demo["API"].pk],
            "body": "Brief interruptions.",
        },
    )
    m = Incident.objects.get(title="Network upgrade")
    assert r.status_code == 302 and m.scheduled_start == start
    client.post(f"/admin/status/maintenance/{m.pk}/start/", {})
    assert Component.objects.get(pk=demo["API"].pk).state == "maintenance"
    client.post(f"/admin/status/maintenance/{m.pk}/complete/", {"body": "Done."})
    m.refresh_from_db()
    assert m.state == "completed" and Component.objects.get(pk=demo["API"].pk).state == "operational"

    client.post("/admin/status/components/new/", {"name": "Mobile app", "group": "Apps", "order": 0})
    mobile = Component.objects.get(name="Mobile app")
    assert mobile.group.name == "Apps" and mobile.state_changes.count() == 1
    client.post(f"/admin/status/components/{mobile.pk}/state/", {"state": "degraded"})
    assert Component.objects.get(pk=mobile.pk).state == "degraded"
    client.post(f"/admin/status/components/{mobile.pk}/archive/")
    assert "Mobile app" not in Client().get("/status/").content.decode()


def test_light_agents_can_look_but_not_change(demo, client):
    light = agent_create(email="lee@acme.test", name="Lee Light", password="long-password-1")
    light.role = light.Role.LIGHT
    light.save()
    client.force_login(light)
    assert client.get("/admin/status/").status_code == 200
    r = client.post(
        "/admin/status/incidents/new/",
        {"title": "x", "impact": "minor", "state": "investigating", "body": "y"},
    )
    assert r.status_code == 403 and not Incident.objects.filter(title="x").exists()
    assert Client().get("/admin/status/").status_code == 302  # signed out: to the login page


def test_the_public_page_and_feeds_cost_a_fixed_number_of_queries(
    demo, outage, django_assert_max_num_queries
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
