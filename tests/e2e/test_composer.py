"""The composer in a real browser, against a real SMTP sink: a saved-reply answer in five keys from the
inbox, undo send with a worker running (nothing reaches the sink), and CC/BCC and forward arriving with
the right headers and envelope."""

from __future__ import annotations

import email
import threading
import time
from email import policy

import pytest
from django.db import connection

from happydesk.inbox.models import Conversation, Draft, Message
from happydesk.mail import outbound
from happydesk.replies.services import saved_reply_save
from happydesk.runtime.worker import run_once
from tests.helpers import SHOTS, customer_conversation, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=policy.default)


@pytest.fixture
def convo(mailbox):  # type: ignore[no-untyped-def]
    mailbox.auto_reply_enabled = False
    mailbox.save()
    c = customer_conversation(
        mailbox,
        address="casey@example.test",
        name="Casey Customer",
        subject="Where is my parcel?",
        text="Ordered last week, nothing yet.",
        message_id="parcel@example.test",
        cc=["dana@example.test"],
    )
    c.refresh_from_db()
    return c


def test_a_saved_reply_answer_takes_five_keys_from_the_inbox(page, live_server, convo, agent, smtp_sink):
    saved_reply_save(name="Billing: card declined", body="Please try another card.", author=agent)
    saved_reply_save(
        name="Shipping delay",
        body="Hi {{ customer.first_name }}, your parcel is on its way and arrives within 3 days.",
        author=agent,
    )
    saved_reply_save(name="Password reset", body="Use the reset link on the sign-in page.", author=agent)
    sign_in(page, live_server.url, agent.email, "correct-horse-battery")
    page.goto(f"{live_server.url}/inbox/?status=active")
    page.keyboard.press("j")  # the conversation is selected: the count starts here
    assert page.locator("#conversation-list tr.selected").get_attribute("data-number") == str(convo.number)

    keys = 0

    def press(key: str) -> None:
        nonlocal keys
        page.keyboard.press(key)
        keys += 1

    press("Enter")  # open the conversation
    page.wait_for_url(f"**/c/{convo.number}/")
    press("s")  # open the saved-reply picker
    page.locator("#saved-filter").wait_for()
    press("h")  # type to filter: "Shipping delay" is the first match (and "Password reset" goes)
    assert page.locator("#saved-options [aria-selected=true]").inner_text().startswith("Shipping delay")
    press("Enter")  # insert it, placeholders filled by the server
    page.wait_for_function("() => document.getElementById('reply-text').value.includes('on its way')")
    press("Control+Enter")  # send
    page.get_by_text("Reply sent.").wait_for()
    assert keys == 5

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "composer-five-keys.png"), full_page=True)
    run_once()
    ((_, rcpts, data),) = smtp_sink.wait_for(1)
    assert "casey@example.test" in rcpts
    assert "Hi Casey, your parcel is on its way" in parse(data).get_body(("plain",)).get_content()


class Worker(threading.Thread):
    """A worker sending due outbox rows every 100 ms, as `happydesk worker` does, until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.halt = threading.Event()
        self.attempts = 0

    def run(self) -> None:
        try:
            while not self.halt.is_set():
                self.attempts += outbound.send_due()
                time.sleep(0.1)
        finally:
            connection.close()


def test_undo_send_takes_the_reply_back_with_a_worker_running(
    page, live_server, convo, agent, smtp_sink, settings
):
    settings.HAPPYDESK_UNDO_SEND_SECONDS = 3
    worker = Worker()
    worker.start()
    try:
        sign_in(page, live_server.url, agent.email, "correct-horse-battery")
        page.goto(f"{live_server.url}/c/{convo.number}/")
        page.get_by_label("Reply", exact=True).fill("Sorry, that was meant for someone else")
        page.get_by_role("button", name="Send reply").click()
        page.get_by_text("Sent —").wait_for()
        page.get_by_role("button", name="Undo").click()
        page.get_by_text("Undone").wait_for()
        assert (
            page.get_by_label("Reply", exact=True).input_value() == "Sorry, that was meant for someone else"
        )
        time.sleep(4)  # past the hold, with the worker polling all along
    finally:
        worker.halt.set()
        worker.join(5)
    assert smtp_sink.messages == []
    assert worker.attempts == 0
    assert not Message.objects.filter(kind=Message.Kind.REPLY).exists()
    assert Draft.objects.get(agent=agent).text == "Sorry, that was meant for someone else"


def test_undo_too_late_says_it_already_left(page, live_server, convo, agent, smtp_sink, settings):
    settings.HAPPYDESK_UNDO_SEND_SECONDS = 30
    sign_in(page, live_server.url, agent.email, "correct-horse-battery")
    page.goto(f"{live_server.url}/c/{convo.number}/")
    page.get_by_label("Reply", exact=True).fill("On its way!")
    page.get_by_role("button", name="Send reply").click()
    page.get_by_text("Sent —").wait_for()
    from django.utils import timezone

    from happydesk.mail.models import OutboundMail

    OutboundMail.objects.update(next_attempt_at=timezone.now(), hold_until=timezone.now())
    assert outbound.send_due() == 1  # the worker took it meanwhile
    page.get_by_role("button", name="Undo").click()
    page.get_by_text("Too late to undo").wait_for()
    assert len(smtp_sink.wait_for(1)) == 1


def test_cc_bcc_and_forward_reach_the_sink_with_the_right_headers(page, live_server, convo, agent, smtp_sink):
    sign_in(page, live_server.url, agent.email, "correct-horse-battery")
    page.goto(f"{live_server.url}/c/{convo.number}/")
    assert page.get_by_label("Cc", exact=True).input_value() == "dana@example.test"
    page.get_by_label("Cc", exact=True).fill("dana@example.test, finance@example.test")
    page.get_by_label("Bcc", exact=True).fill("lead@acme.test")
    page.get_by_label("Reply", exact=True).fill("It left our warehouse **today**.")
    page.get_by_role("button", name="Send reply").click()
    page.get_by_text("Reply sent.").wait_for()
    assert page.locator(".formatted-reply strong").inner_text() == "today"
    run_once()
    ((_, rcpts, data),) = smtp_sink.wait_for(1)
    sent = parse(data)
    assert sorted(rcpts) == [
        "casey@example.test",
        "dana@example.test",
        "finance@example.test",
        "lead@acme.test",
    ]
    assert sent["Cc"] == "dana@example.test, finance@example.test"
    assert sent["Bcc"] is None and b"lead@acme.test" not in data
    assert "<strong>today</strong>" in sent.get_body(("html",)).get_content()
    assert "**today**" in sent.get_body(("plain",)).get_content()

    page.get_by_text("Forward…").click()
    page.get_by_label("Forward to").fill("carrier@logistics.test")
    page.get_by_label("Note for the recipient").fill("Can you trace this parcel?")
    page.get_by_role("button", name="Forward", exact=True).click()
    page.get_by_text("Forwarded to carrier@logistics.test").wait_for()
    assert page.get_by_text("forwarded the conversation to carrier@logistics.test").is_visible()
    page.screenshot(path=str(SHOTS / "composer-forward.png"), full_page=True)
    run_once()
    messages = smtp_sink.wait_for(2)
    _, rcpts, data = messages[1]
    fwd = parse(data)
    assert rcpts == ["carrier@logistics.test"]
    assert fwd["Subject"] == f"Fwd: Where is my parcel? [#{convo.number}]"
    assert fwd["In-Reply-To"] is None and fwd["Reply-To"] is None
    assert convo.reply_token not in data.decode(errors="replace")
    body = fwd.get_body(("plain",)).get_content()
    assert body.startswith("Can you trace this parcel?") and "Ordered last week, nothing yet." in body
    assert Conversation.objects.count() == 1
