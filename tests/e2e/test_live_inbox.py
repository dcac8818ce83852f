"""The live inbox against a real `happydesk serve` (HTTP, websockets, SMTP listener, worker processes):
a customer's email shows up in an open inbox with the count updated, and a colleague's reply shows up
on an open conversation page, without a reload. The tests print how long it took (measured here: 0.2-0.3 s
for mail, 0.06-0.08 s for a reply; the first mail after a start about 0.8 s); their 3 s bound is a
functional one, since speed goals live in benchmarks."""

from __future__ import annotations

import smtplib
import time

import pytest

from happydesk.accounts.services import agent_create
from tests.helpers import SHOTS, customer_conversation, free_port, make_email, sign_in, start_serve, stop

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def served(mailbox):  # type: ignore[no-untyped-def]
    http, smtp = free_port(), free_port()
    proc = start_serve(http, smtp)
    yield {"url": f"http://127.0.0.1:{http}", "smtp": smtp}
    stop(proc)


def _live(page) -> None:  # type: ignore[no-untyped-def]
    page.locator("body[data-live=connected]").wait_for(timeout=5000)


def test_a_customer_email_appears_in_the_open_inbox_with_the_count(browser, served, mailbox, agent):
    mailbox.auto_reply_enabled = False
    mailbox.save()
    customer_conversation(mailbox, address="ann@example.test", name="Ann", subject="Older", text="Hi")
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    sign_in(page, served["url"], agent.email, "correct-horse-battery")
    _live(page)
    count = page.locator('.views .count[data-status="active"]')
    assert count.inner_text() == "1"
    with smtplib.SMTP("127.0.0.1", served["smtp"]) as s:
        s.sendmail(
            "casey@example.test",
            ["support@acme.test"],
            make_email(subject="Parcel never came", message_id="<live1@example.test>"),
        )
    sent = time.monotonic()
    page.locator("#conversation-list tr.row", has_text="Parcel never came").wait_for(timeout=3000)
    print(f"the new row showed {time.monotonic() - sent:.2f} s after SMTP accepted the message")
    assert count.inner_text() == "2"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "live-inbox.png"))


def test_a_colleagues_reply_appears_on_the_open_conversation(browser, served, mailbox, agent):
    mailbox.auto_reply_enabled = False
    mailbox.save()
    c = customer_conversation(
        mailbox, address="bo@example.test", name="Bo", subject="Cannot log in", text="Login fails."
    )
    sam = agent_create(email="sam@acme.test", name="Sam Smith", password="another-password")
    url = f"{served['url']}/c/{c.number}/"
    alex = browser.new_context().new_page()
    sign_in(alex, served["url"], agent.email, "correct-horse-battery")
    bea = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(bea, served["url"], sam.email, "another-password")
    alex.goto(url)
    bea.goto(url)
    _live(alex)
    _live(bea)
    bea.get_by_label("Reply", exact=True).fill("Hi Bo, try the reset link")  # Sam's draft, untouched below
    alex.get_by_label("Reply", exact=True).fill("Hi Bo, we fixed the login issue this morning.")
    alex.get_by_role("button", name="Send reply").click()
    started = time.monotonic()
    bea.locator("ol.thread li.msg", has_text="we fixed the login issue").wait_for(timeout=3000)
    print(f"Alex's reply showed on Sam's page {time.monotonic() - started:.2f} s after Send")
    banner = bea.locator("#live-activity")
    assert "1 new message since you opened" in banner.inner_text()
    assert bea.get_by_label("Reply", exact=True).input_value() == "Hi Bo, try the reset link"
    assert "Pending" in bea.locator(".status-pill").inner_text()  # the reply set it pending
    SHOTS.mkdir(parents=True, exist_ok=True)
    bea.screenshot(path=str(SHOTS / "live-reply-390.png"), full_page=True)
    assert bea.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    # Sam sends anyway: the send guard still asks, as the banner said it would.
    bea.get_by_role("button", name="Send reply").click()
    bea.locator(".new-activity[role=alert]").wait_for(timeout=5000)
