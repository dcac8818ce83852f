"""In the browser: an agent's first page tells the server the browser's time zone, and from the next
page on the top bar names it and times are shown in it."""

from __future__ import annotations

import pytest

from happydesk.accounts.models import User
from tests.helpers import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_browsers_time_zone_becomes_the_agents(browser, live_server, agent):
    context = browser.new_context(timezone_id="America/Sao_Paulo", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    with page.expect_response(lambda r: r.url.endswith("/account/time-zone/") and r.status == 204):
        sign_in(page, live_server.url, "alex@acme.test", "correct-horse-battery")
    assert User.objects.get(pk=agent.pk).timezone == "America/Sao_Paulo"
    page.goto(f"{live_server.url}/inbox/")
    label = page.locator(".tz-label")
    assert label.inner_text() == "Sao Paulo time" and "America/Sao_Paulo" in label.get_attribute("title")
    assert page.locator("#tz-auto").count() == 0  # asked once
    context.close()
