"""In the browser: the staffing page on the demo workspace shows agents needed beside the schedule for
every hour of the week, gaps marked in words as well as colour, and an admin adds a shift there."""

from __future__ import annotations

import pytest

from happydesk.accounts.models import User
from happydesk.runtime.demo import DEMO_ADMIN_EMAIL, DEMO_PASSWORD, MAILBOX_ZONE, load_demo
from happydesk.scheduling.demo import load_demo_shifts
from happydesk.scheduling.models import Shift
from tests.helpers import SHOTS, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_staffing_page_on_the_demo(page, live_server):
    load_demo(conversations=300)
    agents = list(
        User.objects.filter(email__endswith="happydesk.test")
        | User.objects.filter(email__endswith="acme-demo.test")
    )
    agents.sort(key=lambda u: u.date_joined)
    load_demo_shifts(agents=agents, zone=MAILBOX_ZONE)
    SHOTS.mkdir(parents=True, exist_ok=True)

    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server.url, DEMO_ADMIN_EMAIL, DEMO_PASSWORD)
    page.goto(f"{live_server.url}/staffing/")
    assert page.locator("header.topbar").get_by_role("link", name="Staffing").is_visible()
    grid = page.locator("table.week-grid")
    grid.wait_for()
    assert grid.locator("td.cell").count() == 168
    assert page.get_by_role("heading", name="Email & forms").is_visible()
    assert page.get_by_text("conversations a week").first.is_visible()
    # Numbers are in every cell; a gap says so in words for screen readers, not only in colour.
    assert grid.locator("td.cell .need").first.inner_text().strip().isdigit()
    gaps = grid.locator("td.gap")
    if gaps.count():
        assert "short by" in gaps.first.inner_text()
    page.locator("input[name=tz]").fill(MAILBOX_ZONE)
    page.get_by_role("button", name="Update").click()
    page.wait_for_url("**/staffing/?**")
    assert MAILBOX_ZONE in page.locator(".summary-line").inner_text()
    page.screenshot(path=str(SHOTS / "staffing.png"), full_page=True)

    before = Shift.objects.count()
    form = page.locator("form.shift-add")
    form.get_by_label("Agent", exact=True).select_option(label="Marcus Lee")
    form.get_by_label("Day", exact=True).select_option(label="Sunday")
    form.get_by_label("From", exact=True).fill("10:00")
    form.get_by_label("To", exact=True).fill("14:00")
    form.get_by_role("button", name="Add shift").click()
    page.wait_for_url("**/staffing/")
    assert Shift.objects.count() == before + 1
    assert Shift.objects.filter(weekday=6, agent__name="Marcus Lee").exists()
