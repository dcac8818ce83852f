"""In the browser: the public status page with a past outage, an open incident and planned maintenance
shows its uptime bars, passes axe-core with no serious or critical violations, and the subscribe form
works."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from happydesk.mail.models import OutboundMail
from happydesk.status import services
from happydesk.status.models import ComponentState, Incident
from tests import builders
from tests.helpers import SHOTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def axe_js() -> Path:
    """axe-core's axe.min.js, installed from the npm registry into .cache/axe by scripts/axe.sh."""
    out = subprocess.run([str(ROOT / "scripts" / "axe.sh")], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    path = Path(out.stdout.strip().splitlines()[-1])
    assert path.is_file(), out.stderr
    return path


def serious_violations(page, axe_js: Path) -> list[str]:  # type: ignore[no-untyped-def]
    # Evaluated by the browser's debugging protocol: a <script> tag would be inline script, which the
    # page's Content-Security-Policy refuses (and the suite would fail on the violation).
    page.evaluate(axe_js.read_text())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_status_page_bars_accessibility_and_subscribe(page, live_server, axe_js):
    parts = builders.status_components(
        {
            "Product": ["Dashboard", "API", "Sensor connectivity"],
            "Notifications and billing": ["Email notifications", "Webhooks"],
        },
        since=timezone.now() - timedelta(days=120),
    )
    down = timedelta(minutes=38)
    builders.past_incident(
        title="Dashboard unavailable",
        components={parts["Dashboard"]: ComponentState.MAJOR_OUTAGE},
        start=builders.day_at(9, 16, 3),
        length=down,
    )
    builders.planned_maintenance(
        title="Webhook delivery upgrade",
        components=[parts["Webhooks"]],
        start=timezone.now() + timedelta(days=4),
        length=timedelta(hours=2),
        body="Deliveries may be delayed by a few minutes.",
    )
    started = timezone.now() - timedelta(minutes=50)
    incident = services.incident_declare(
        title="Sensors in the EU report late",
        body="Readings from some sensors in Europe arrive up to 15 minutes late. Nothing is lost.",
        impact=Incident.Impact.MAJOR,
        components={
            parts["Sensor connectivity"]: ComponentState.PARTIAL_OUTAGE,
            parts["API"]: ComponentState.DEGRADED,
        },
        at=started,
    )
    services.incident_update(
        incident=incident,
        state=Incident.State.IDENTIFIED,
        body="One of our EU message brokers is overloaded. We're moving traffic to a healthy one.",
        at=started + timedelta(minutes=20),
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1100, "height": 900})

    before = timezone.now()
    page.goto(f"{live_server.url}/status/")
    page.get_by_role("heading", name="Partial outage", level=1).wait_for()
    after = timezone.now()
    assert page.get_by_role("heading", name="Current incidents").is_visible()
    assert page.get_by_role("heading", name="Upcoming maintenance").is_visible()
    # 38 minutes fully down over the 90 days: the figure is worked out here, not read off the page.
    figures = {builders.uptime_figure(down=down, now=at) for at in (before, after)}
    bars = page.locator(".bars").first
    label = bars.get_attribute("aria-label")
    assert any(label.startswith(f"Dashboard: {f} uptime over the last 90 days.") for f in figures), label
    assert page.get_by_role("img", name=label, exact=True).is_visible()
    box = bars.bounding_box()
    assert box["width"] > 500 and box["height"] >= 24
    strips = page.locator(".bars")
    assert strips.count() == len(parts)
    for i in range(len(parts)):
        strip = strips.nth(i)
        assert strip.is_visible() and strip.locator(".bar").count() == 90
        last = strip.locator(".bar").last.bounding_box()
        assert last["width"] >= 3 and last["height"] >= 24  # every day's bar is really drawn
    outage_day = builders.day_label(builders.day_at(9, 0).date(), down=down, incidents=1)
    assert strips.first.locator(".bar").nth(89 - 9).get_attribute("title") == outage_day  # 9 days ago
    planned = page.locator(".incident-card.kind-maintenance")
    assert "Scheduled maintenance" in planned.inner_text() and "Planned window" in planned.inner_text()
    assert page.locator(".incident-card.kind-incident").evaluate(
        "el => getComputedStyle(el).borderLeftColor"
    ) != planned.evaluate("el => getComputedStyle(el).borderLeftColor")

    assert serious_violations(page, axe_js) == []
    page.screenshot(path=str(SHOTS / "status-page.png"), full_page=True)

    page.get_by_role("link", name="Sensors in the EU report late").click()
    page.get_by_text("One of our EU message brokers is overloaded").wait_for()
    assert serious_violations(page, axe_js) == []
    page.screenshot(path=str(SHOTS / "status-incident.png"), full_page=True)

    page.get_by_role("link", name="Get these updates by email").click()
    page.get_by_label("Your email address").fill("riley@example.test")
    assert serious_violations(page, axe_js) == []
    page.get_by_role("button", name="Subscribe").click()
    page.get_by_role("status").filter(has_text="Check your inbox").wait_for()
    assert OutboundMail.objects.filter(kind="status-confirm", to=["riley@example.test"]).count() == 1

    page.goto(f"{live_server.url}/portal/")
    banner = page.get_by_role("complementary", name="Service status")
    assert "Sensors in the EU report late" in banner.inner_text()
    assert serious_violations(page, axe_js) == []
