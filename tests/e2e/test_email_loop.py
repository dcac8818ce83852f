"""The email loop in a real browser: customer mail over SMTP, agent replies in Chromium, the reply reaches a
real SMTP server with threading headers, and the customer's answer lands in the same conversation."""

from __future__ import annotations

import email
import smtplib
from email import policy

import pytest

from happydesk.inbox.models import Conversation
from happydesk.runtime.worker import run_once
from tests.helpers import SHOTS, make_email

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_customer_email_agent_reply_customer_answer(
    page, live_server, mailbox, agent, smtp_listener, smtp_sink
):
    mailbox.auto_reply_enabled = False
    mailbox.save()
    with smtplib.SMTP("127.0.0.1", smtp_listener.port) as s:
        s.sendmail(
            "casey@example.test",
            ["support@acme.test"],
            make_email(
                subject="Charged twice for order 1042",
                message_id="<order1042@example.test>",
                body="Hi, I see two charges of $49 on my card for order 1042. Can you refund one?\n\nCasey\n",
            ),
        )
    run_once()
    c = Conversation.objects.get()

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill("alex@acme.test")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/inbox/**")
    row = page.get_by_role("link", name="Charged twice for order 1042", exact=False).first
    row.wait_for()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "email-loop-inbox.png"), full_page=True)
    row.click()
    page.wait_for_url(f"**/c/{c.number}/")
    assert page.get_by_text("two charges of $49").is_visible()
    page.get_by_label("Reply", exact=True).fill(
        "Hi Casey, sorry about that! I've refunded the second charge; you'll see it in 3-5 days."
    )
    page.get_by_role("button", name="Send reply").click()
    page.get_by_text("Reply sent.").wait_for()
    page.screenshot(path=str(SHOTS / "email-loop-conversation.png"), full_page=True)

    run_once()
    ((mail_from, rcpts, data),) = smtp_sink.wait_for(1)
    sent = email.message_from_bytes(data, policy=policy.default)
    assert rcpts == ["casey@example.test"]
    assert sent["In-Reply-To"] == "<order1042@example.test>"
    assert "<order1042@example.test>" in sent["References"]
    assert sent["Reply-To"] == mailbox.reply_address(c.reply_token)
    assert "refunded the second charge" in sent.get_body(("plain",)).get_content()

    # The customer answers from their mail client: to the Reply-To address, with In-Reply-To.
    answer = make_email(
        to=str(sent["Reply-To"]),
        subject="Re: " + str(sent["Subject"]),
        message_id="<answer@example.test>",
        in_reply_to=str(sent["Message-ID"]),
        references=f"{sent['References']} {sent['Message-ID']}",
        body="Thank you so much!\n\nOn Mon, Alex Agent via Acme Support wrote:\n> Hi Casey, sorry about that!\n",
    )
    with smtplib.SMTP("127.0.0.1", smtp_listener.port) as s:
        s.sendmail("casey@example.test", [str(sent["Reply-To"])], answer)
    run_once()
    assert Conversation.objects.count() == 1
    page.reload()
    assert page.get_by_text("Thank you so much!").is_visible()
    assert c.messages.filter(kind="customer").count() == 2
