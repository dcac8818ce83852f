"""In the browser: a wrong password, then the right one; the admin opens Admin → Audit log, sees both
sign-ins, filters to failures, and downloads them as CSV. The page is checked at 1280 and 390 pixels
wide (nothing wider than the screen on a phone); screenshots go to SHOTS."""

from __future__ import annotations

import csv
import io

import pytest

from happydesk.accounts.services import agent_create, agent_set_role, token_create
from happydesk.audit.models import Action, AuditEntry
from happydesk.inbox.services import mailbox_create, mailbox_update
from tests.helpers import SHOTS, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct-horse-battery"


def test_the_admin_reads_filters_and_exports_the_log(page, live_server, agent):
    sam = agent_create(
        email="sam@acme.test", name="Sam Support", password=PASSWORD, by=agent, ip="203.0.113.4"
    )
    agent_set_role(agent=sam, role="light", by=agent, ip="203.0.113.4")
    token_create(user=sam, name="Zapier")
    box = mailbox_create(address="billing@acme.test", name="Billing", by=agent, ip="203.0.113.4")
    mailbox_update(
        mailbox=box,
        address="invoices@acme.test",
        name="Invoices",
        imap_host="imap.acme.test",
        imap_password="imap-secret-1",
        by=agent,
        ip="203.0.113.4",
    )

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill(agent.email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("didn't match").wait_for()
    sign_in(page, live_server.url, agent.email, PASSWORD)

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_text("Admin", exact=True).click()
    page.get_by_role("link", name="Audit log").click()
    page.get_by_role("heading", name="Audit log").wait_for()
    rows = page.locator("table.audit-log tbody tr")
    assert rows.first.locator("td").nth(2).text_content() == "Signed in"
    assert rows.nth(1).locator("td").nth(2).text_content() == "Sign-in failed"
    assert "imap-secret-1" not in page.content()
    page.screenshot(path=str(SHOTS / "audit-log-1280.png"), full_page=True)

    page.get_by_label("Action").select_option(Action.SIGNIN_FAILED.value)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**action=signin.failed**")
    assert rows.count() == 1 and "1 entry match" in page.locator(".audit-count").text_content()

    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV (filtered)").click()
    text = download.value.path().read_text(encoding="utf-8")
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert row["action"] == "signin.failed" and row["target_label"] == agent.email
    assert AuditEntry.objects.filter(action=Action.AUDIT_EXPORTED, actor_id=agent.pk).count() == 1

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/admin/audit/")
    page.get_by_role("heading", name="Audit log").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    first = page.locator("table.audit-log tbody tr").first.bounding_box()
    assert first and first["width"] <= 390
    page.screenshot(path=str(SHOTS / "audit-log-390.png"), full_page=True)
