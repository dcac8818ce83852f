"""In the browser: the happiness report renders its charts for the demo data; a share link made from the
page opens in a fresh browser without signing in, and is refused once revoked."""

from __future__ import annotations

import pytest

from happydesk.runtime.demo import DEMO_ADMIN_EMAIL, DEMO_PASSWORD, load_demo
from tests.helpers import SHOTS, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_report_charts_and_a_revocable_share_link(page, browser, live_server):
    load_demo(conversations=300)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server.url, DEMO_ADMIN_EMAIL, DEMO_PASSWORD)
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
    assert page.locator("#chart-heatmap-desc").text_content().startswith(tuple("0123456789"))
    assert page.locator("svg[aria-labelledby^=chart-daily] rect").count() == 30  # a bar a day
    assert page.locator("svg[aria-labelledby^=chart-heatmap] rect").count() == 7 * 24
    conversations = page.locator("#fig-conversations .value").inner_text()
    assert int(conversations.replace(",", "")) > 50
    page.screenshot(path=str(SHOTS / "report.png"), full_page=True)

    page.get_by_role("link", name="Each agent").click()
    page.locator("#table-agents").wait_for()
    assert "not a ranking" in page.content()
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
        assert shared.get_by_role("link", name="Each agent").count() == 0
        assert "Dana Demo" not in shared.content()
        shared.screenshot(path=str(SHOTS / "report-shared.png"), full_page=True)

        page.get_by_role("button", name="Revoke").click()
        page.get_by_text("revoked").first.wait_for()
        response = shared.goto(link)
        assert response is not None and response.status == 410
        assert "revoked" in shared.content()
    finally:
        visitor.close()
