"""In the browser: the staffing page shows agents needed beside the schedule for every hour of the week,
from the conversations that arrived and the shifts on the schedule; a gap is marked in words as well as
colour, the grid follows the chosen time zone, and an admin adds a shift there."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from happydesk.accounts.services import agent_create
from happydesk.scheduling.models import Shift
from happydesk.scheduling.services import shift_add
from tests import builders
from tests.helpers import SHOTS, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TOKYO = "Asia/Tokyo"  # no daylight saving: eight weeks of arrivals stay in one hour of its week


def cell_text(at: datetime, *, needed: int, scheduled: int) -> str:
    """What a screen reader hears for the hour of the week `at` falls in."""
    gap = needed - scheduled
    return f"{WEEKDAYS[at.weekday()]} {at.hour:02d}:00: {needed} needed, {scheduled} scheduled" + (
        f", short by {gap}" if gap > 0 else ""
    )


def cell_index(at: datetime) -> int:
    return at.weekday() * 24 + at.hour


def test_staffing_page_from_arrivals_and_shifts(page, live_server, mailbox, agent):
    agent_create(email="marcus@acme.test", name="Marcus Lee", password="long-password-3")
    # The page averages the last eight weeks up to the current hour. Two hours of the week (in UTC, the
    # mailbox's zone) get one email each week: one is on Alex's shift, the other on nobody's. Days away
    # from the window's edges, so the hour turning while the test runs changes nothing.
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    covered = hour - timedelta(days=4) + timedelta(minutes=30)
    uncovered = covered + timedelta(days=2)
    for first, who in ((covered - timedelta(weeks=7), "ana"), (uncovered - timedelta(weeks=7), "ben")):
        builders.weekly_arrivals(
            mailbox, first=first, weeks=8, address=f"{who}@example.test", name=who.title()
        )
    # The help desk is older than the window (the averages are over all eight weeks); this one is not counted.
    builders.conversation_at(
        mailbox, address="old@example.test", name="Old", subject="Old", text="x", at=hour - timedelta(weeks=9)
    )
    shift_add(  # Alex: two hours from the start of the covered hour
        agent=agent,
        weekday=covered.weekday(),
        start=time(covered.hour),
        end=time((covered.hour + 2) % 24),
        timezone="UTC",
    )
    SHOTS.mkdir(parents=True, exist_ok=True)

    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server.url, agent.email, "correct-horse-battery")
    page.goto(f"{live_server.url}/staffing/")
    assert page.locator("header.topbar").get_by_role("link", name="Staffing").is_visible()
    grid = page.locator("table.week-grid")
    grid.wait_for()
    cells = grid.locator("td.cell")
    assert cells.count() == 168
    email = page.locator("article.queue-card", has=page.get_by_role("heading", name="Email & forms"))
    assert email.is_visible()
    assert email.locator(".volume").inner_text() == "2 conversations a week"  # 16 emails over 8 weeks
    # One email an hour at six minutes each needs one person; an hour nothing arrives in needs none.
    assert grid.locator("td.cell .need").all_inner_texts().count("1") == 2
    on_shift = cells.nth(cell_index(covered))
    assert "ok" in on_shift.get_attribute("class").split()
    assert on_shift.locator(".sr-only").inner_text() == cell_text(covered, needed=1, scheduled=1)
    # The gap says so in words for screen readers, not only in colour.
    gaps = grid.locator("td.gap")
    assert gaps.count() == 1
    assert gaps.first.locator(".sr-only").inner_text() == cell_text(uncovered, needed=1, scheduled=0)
    summary = page.locator(".summary-line").inner_text()
    assert "Needed: 2 agent-hours a week; scheduled: 2." in summary
    assert "1 hour with fewer people than needed." in summary

    page.locator("input[name=tz]").fill(TOKYO)
    page.get_by_role("button", name="Update").click()
    page.wait_for_url("**/staffing/?**")
    assert TOKYO in page.locator(".summary-line").inner_text()
    there = uncovered.astimezone(ZoneInfo(TOKYO))  # the same hour, on Tokyo's clock
    assert grid.locator("td.gap .sr-only").inner_text() == cell_text(there, needed=1, scheduled=0)
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
    added = Shift.objects.get(weekday=6, agent__name="Marcus Lee")
    assert (added.start, added.end, added.timezone) == (time(10), time(14), TOKYO)  # the zone shown
    assert page.locator("table.shifts").get_by_text("Marcus Lee").is_visible()
