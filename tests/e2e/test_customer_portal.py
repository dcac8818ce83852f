"""In the browser: a customer uses the contact form with how they feel, then follows the conversation in
the portal through the one-time link from their email; the agent sees the feeling on the conversation."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from happydesk.inbox.models import Conversation
from happydesk.mail import outbound

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_contact_form_then_portal_by_one_time_link(page, live_server, mailbox, agent, smtp_sink):
    mailbox.form_topics = ["Billing", "A bug", "Something else"]
    mailbox.auto_reply_enabled = False
    mailbox.save()
    SHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{live_server.url}/contact/{mailbox.pk}/")
    page.get_by_label("Name").fill("Riley Rivera")
    page.get_by_label("Email").fill("riley@example.test")
    page.get_by_label("What's this about?").select_option("A bug")
    page.get_by_label("Subject").fill("Export stops at 1,000 rows")
    page.get_by_label("Message").fill("When I export contacts to CSV I only get the first 1,000 rows.")
    page.get_by_label("Frustrated").check()
    page.screenshot(path=str(SHOTS / "contact-form.png"), full_page=True)
    page.get_by_role("button", name="Send").click()
    page.get_by_text("we've got it").wait_for()
    c = Conversation.objects.get()
    assert (c.topic, c.feeling, c.channel) == ("A bug", "frustrated", "form")

    page.get_by_role("link", name="Follow your conversation").click()
    page.get_by_text("only get the first 1,000 rows").wait_for()
    page.goto(f"{live_server.url}/portal/")
    page.get_by_label("Your email address").fill("riley@example.test")
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.get_by_role("status").wait_for()
    outbound.send_due()  # the link goes out through the outbox, as the worker would send it
    ((_, rcpts, data),) = smtp_sink.wait_for(1)
    body = message_from_bytes(data, policy=policy.default).get_body(("plain",)).get_content()
    link = re.search(r"http://\S+/portal/login/\S+/", body).group(0)
    page.goto(live_server.url + "/" + link.split("//", 1)[1].split("/", 1)[1])
    page.get_by_role("link", name="Export stops at 1,000 rows").click()
    page.get_by_label("Add a message").fill("It happens with XLSX too.")
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_text("It happens with XLSX too.").wait_for()
    page.screenshot(path=str(SHOTS / "portal.png"), full_page=True)
    assert c.messages.filter(kind="customer").count() == 2
