"""In the browser: typing in the inbox search filters the list in place (no page load)."""

from __future__ import annotations

import pytest

from happydesk.mail.inbound import process_pending
from happydesk.mail.store import store_raw
from tests.helpers import make_email

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_search_filters_without_reloading(page, live_server, mailbox, agent):
    for subject, body in [
        ("Refund please", "Charged twice."),
        ("Login trouble", "Password reset fails."),
        ("Export question", "CSV export stops."),
    ]:
        store_raw(
            make_email(sender=f"{subject[:3].lower()}@example.test", subject=subject, body=body),
            source="smtp",
            envelope_to=["support@acme.test"],
        )
    process_pending()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill("alex@acme.test")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/inbox/**")
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Search conversations").type("passw")
    page.locator("#conversation-list tr.row").filter(has_text="Login trouble").wait_for()
    page.wait_for_function("() => document.querySelectorAll('#conversation-list tr.row').length === 1")
    assert page.evaluate("window.__sameDocument") is True  # the list changed, the page did not reload
    assert "q=passw" in page.url
    assert page.locator("#conversation-list mark").first.inner_text().lower().startswith("passw")
