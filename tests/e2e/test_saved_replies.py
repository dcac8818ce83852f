"""In the browser: a saved reply with a placeholder left cannot be sent until it is filled."""

from __future__ import annotations

import pytest

from happydesk.inbox.models import Conversation, Message
from happydesk.mail.inbound import process_pending
from happydesk.mail.store import store_raw
from happydesk.replies.services import saved_reply_save
from tests.helpers import SHOTS, make_email

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_unfilled_placeholder_blocks_sending_until_filled(page, live_server, mailbox, agent):
    store_raw(make_email(subject="Refund for order 1042"), source="smtp", envelope_to=["support@acme.test"])
    process_pending()
    c = Conversation.objects.get()
    saved_reply_save(
        name="Refund issued",
        body="Hi {{ customer.first_name }},\n\nI've refunded order [ORDER NUMBER]; it shows in 3-5 days.\n\n{{ agent.first_name }}",
        note="Check the payment dashboard first.",
        author=agent,
    )
    page.context.add_cookies([])
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill("alex@acme.test")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/inbox/**")
    page.goto(f"{live_server.url}/c/{c.number}/")

    page.get_by_label("Saved reply", exact=True).select_option(label="Refund issued")
    composer = page.get_by_label("Reply", exact=True)
    page.wait_for_function("() => document.getElementById('reply-text').value.includes('Hi Casey')")
    assert "Check the payment dashboard first." in page.locator("#saved-note").inner_text()
    page.get_by_role("button", name="Send reply").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "[ORDER NUMBER]" in alert.inner_text()
    assert page.locator("#unfilled-preview mark").inner_text() == "[ORDER NUMBER]"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "composer-saved-reply.png"), full_page=True)
    assert not Message.objects.filter(kind=Message.Kind.REPLY).exists()

    composer.fill(composer.input_value().replace("[ORDER NUMBER]", "1042"))
    page.get_by_role("button", name="Send reply").click()
    page.get_by_text("Reply sent.").wait_for()
    reply = Message.objects.get(kind=Message.Kind.REPLY)
    assert "refunded order 1042" in reply.text and reply.text.startswith("Hi Casey,")
