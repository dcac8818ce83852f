"""Two agents in two browsers against a real `happydesk serve` (HTTP, websockets, SMTP, workers):
live presence, a draft that survives a reload, and the send guard when the customer writes mid-draft."""

from __future__ import annotations

import smtplib
import time

import pytest

from happydesk.accounts.services import agent_create
from happydesk.inbox.models import Conversation, Message
from happydesk.mail.inbound import process_pending
from happydesk.mail.store import store_raw
from tests.helpers import free_port, make_email, sign_in, start_serve, stop

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def served(mailbox):
    http, smtp = free_port(), free_port()
    proc = start_serve(http, smtp)
    yield {"url": f"http://127.0.0.1:{http}", "smtp": smtp}
    stop(proc)


def test_presence_drafts_and_send_guard(browser, served, mailbox, agent):
    mailbox.auto_reply_enabled = False
    mailbox.save()
    store_raw(
        make_email(subject="Where is my parcel?", message_id="<p1@example.test>"),
        source="smtp",
        envelope_to=["support@acme.test"],
    )
    process_pending()
    c = Conversation.objects.get()
    sam = agent_create(email="sam@acme.test", name="Sam Smith", password="another-password")
    url = f"{served['url']}/c/{c.number}/"

    alex_page = browser.new_context().new_page()
    sign_in(alex_page, served["url"], agent.email, "correct-horse-battery")
    sam_page = browser.new_context().new_page()
    sign_in(sam_page, served["url"], sam.email, "another-password")

    # Sam watches the list; Alex opens the conversation: Sam's list shows it.
    sam_page.locator("body[data-live=connected]").wait_for(timeout=5000)  # the list's websocket is open
    alex_page.goto(url)
    sam_page.locator(f'tr[data-number="{c.number}"] .presence-badge').filter(
        has_text="Alex Agent is viewing"
    ).wait_for(timeout=3000)

    # Sam opens it too: each sees the other; Sam starts typing and Alex sees "replying".
    started = time.monotonic()
    sam_page.goto(url)
    alex_page.locator("#presence").filter(has_text="Sam Smith is viewing").wait_for(timeout=3000)
    sam_page.locator("#presence").filter(has_text="Alex Agent is viewing").wait_for(timeout=3000)
    print(f"presence seen {time.monotonic() - started:.2f}s after Sam's page load started")
    sam_page.get_by_label("Reply", exact=True).type("Hi Casey, I'm checking with the courier")
    alex_page.locator("#presence").filter(has_text="Sam Smith is replying").wait_for(timeout=3000)

    # The draft is on the server: it survives a reload.
    sam_page.wait_for_function(
        "() => document.getElementById('reply-form').dataset.draftSaved === '1'", timeout=5000
    )
    sam_page.reload()
    assert (
        sam_page.get_by_label("Reply", exact=True).input_value() == "Hi Casey, I'm checking with the courier"
    )

    # The customer writes while Sam's draft is open: sending shows it and asks to confirm.
    # (to the conversation's reply address, as an answer to any of our emails is: nothing verifies
    # example.test, so only that secret lets it in)
    reply_address = mailbox.reply_address(c.reply_token)
    with smtplib.SMTP("127.0.0.1", served["smtp"]) as s:
        s.sendmail(
            "casey@example.test",
            [reply_address],
            make_email(
                to=reply_address,
                subject="Re: Where is my parcel?",
                in_reply_to="<p1@example.test>",
                body="Found it, it was with my neighbour. Thanks!\n",
            ),
        )
    deadline = time.monotonic() + 15
    while c.messages.filter(kind="customer").count() < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    sam_page.get_by_role("button", name="Send reply").click()
    sam_page.get_by_text("New in this conversation since you opened it").wait_for()
    assert sam_page.locator("li.msg.is-new").filter(has_text="with my neighbour").count() == 1
    assert not Message.objects.filter(kind="reply").exists()
    sam_page.get_by_label("Reply", exact=True).fill("Great news, glad it turned up!")
    sam_page.get_by_role("button", name="Send anyway").click()
    sam_page.get_by_text("Reply sent.").wait_for()
    assert Message.objects.get(kind="reply").text == "Great news, glad it turned up!"
