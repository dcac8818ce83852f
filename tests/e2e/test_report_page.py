"""In the browser: the happiness report renders its charts for conversations answered at known times; a
share link made from the page opens in a fresh browser without signing in, shows no agent's name, and is
refused once revoked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from happydesk.accounts.services import agent_create
from happydesk.reports.rollup import rollup_refresh
from tests import builders
from tests.helpers import SHOTS, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def test_report_charts_and_a_revocable_share_link(page, browser, live_server, mailbox, agent):
    robin = agent_create(email="robin@acme.test", name="Robin Reply", password="long-password-2")
    # One conversation at 09:20 (UTC, the mailbox's zone) on each of the 14 days before today, and a
    # second one three days ago at 09:45; each from its own customer. Two in three get their answer
    # (which closes them) after 30 minutes, every third after 3 hours; Alex and Robin take turns.
    arrivals = [builders.day_at(days, 9, 20) for days in range(1, 15)] + [builders.day_at(3, 9, 45)]
    replies = []
    for n, at in enumerate(arrivals):
        conversation = builders.conversation_at(
            mailbox,
            address=f"customer{n}@example.test",
            name=f"Customer {n}",
            subject=f"Question number {n}",
            text="Where do I find my invoices?",
            at=at,
        )
        wait = timedelta(hours=3) if n % 3 == 0 else timedelta(minutes=30)
        replies.append(
            builders.reply_at(conversation, author=(agent, robin)[n % 2], at=at + wait, close=True)
        )
    for reply, value in zip(replies, ["great"] * 4 + ["okay", "not_good"], strict=False):
        builders.rate(reply, value)  # given today
    rollup_refresh()  # what the worker's periodic job does

    today = timezone.localdate()
    within_1h = sum(n % 3 != 0 for n in range(len(arrivals))) / len(arrivals)  # 10 of 15
    busiest = WEEKDAYS[(today - timedelta(days=3)).weekday()]  # 3 and 10 days ago, and the extra one
    days = [today - timedelta(days=29 - i) for i in range(30)]  # the default period: 30 days to today
    weeks = [days[i] for i in range(0, 30, 7)]  # the trend has a point per week of the period
    score = 100 * (4 - 1) / 6  # (great - not good) / ratings
    trend = "; ".join(
        f"{d:%b} {d.day}: " + (f"{score:.0f}" if d == weeks[-1] else "no ratings") for d in weeks
    )

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server.url, agent.email, "correct-horse-battery")
    page.get_by_role("link", name="Reports", exact=True).click()
    page.get_by_role("heading", name="Happiness report").wait_for()

    charts = page.locator("svg.chart")
    assert charts.count() == 4
    for name in (
        "First response within 1, 6 and 24 hours",
        "Conversations per day",
        "Arrivals by weekday and hour",
        "Happiness score over the period",
    ):
        chart = page.get_by_role("img", name=name)
        assert chart.is_visible(), name
        box = chart.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 80, name
    goals = page.locator("#chart-goals-desc").text_content()
    assert f"Within 1 h (calendar): {100 * within_1h:.0f}% (previous no data)" in goals, goals
    assert "Within 6 h (calendar): 100%" in goals and "Within 24 h (calendar): 100%" in goals
    assert page.locator("#chart-heatmap-desc").text_content() == (
        f"{len(arrivals)} arrivals; the busiest hour is {busiest} 09:00 with 3."
    )
    assert page.locator("#chart-trend-desc").text_content() == trend
    assert page.locator("svg[aria-labelledby^=chart-daily] rect").count() == 30  # a bar a day
    assert page.locator("svg[aria-labelledby^=chart-heatmap] rect").count() == 7 * 24
    conversations = page.locator("#fig-conversations .value").inner_text()
    assert int(conversations.replace(",", "")) == len(arrivals)
    page.screenshot(path=str(SHOTS / "report.png"), full_page=True)

    page.get_by_role("link", name="Each agent").click()
    agents = page.locator("#table-agents")
    agents.wait_for()
    assert "not a ranking" in page.content()
    assert "Alex Agent" in agents.inner_text() and "Robin Reply" in agents.inner_text()
    page.get_by_role("link", name="Team").click()

    page.get_by_label("Name of the link").fill("Support numbers for the whole company")
    page.get_by_role("button", name="Create share link").click()
    link = page.get_by_label("Share link for Support numbers for the whole company").input_value()
    assert "/reports/shared/" in link

    visitor = browser.new_context(viewport={"width": 1280, "height": 900})  # no session, no cookies
    try:
        shared = visitor.new_page()
        response = shared.goto(link)
        assert response is not None and response.status == 200
        shared.get_by_role("heading", name="Support numbers for the whole company").wait_for()
        assert shared.locator("svg.chart").count() == 4
        assert shared.locator("#fig-conversations .value").inner_text() == conversations
        assert shared.get_by_role("link", name="Each agent").count() == 0
        assert "Alex Agent" not in shared.content() and "Robin Reply" not in shared.content()
        shared.screenshot(path=str(SHOTS / "report-shared.png"), full_page=True)

        page.get_by_role("button", name="Revoke").click()
        page.get_by_text("revoked").first.wait_for()
        response = shared.goto(link)
        assert response is not None and response.status == 410
        assert "revoked" in shared.content()
    finally:
        visitor.close()
