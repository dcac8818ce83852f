"""In the browser: a customer uses the contact form with how they feel, confirms it from the email it
sends, then follows the conversation in the portal through a one-time sign-in link from their email."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

import pytest

from happydesk.inbox.models import Conversation
from happydesk.mail import outbound
from tests.helpers import SHOTS, path_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


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

    assert c.unverified and page.get_by_role("link", name="Follow your conversation").count() == 0
    # The confirmation went to the address typed: its button confirms the message and signs in.
    outbound.send_due()
    ((_, rcpts, data),) = smtp_sink.wait_for(1)
    body = message_from_bytes(data, policy=policy.default).get_body(("plain",)).get_content()
    assert rcpts == ["riley@example.test"]
    confirm = re.search(r"http://\S+/contact/confirm/\S+/", body).group(0)
    page.goto(live_server.url + path_of(confirm))
    page.get_by_role("button", name="Yes, I sent it").click()
    page.get_by_text("only get the first 1,000 rows").wait_for()
    c.refresh_from_db()
    assert not c.unverified
    page.context.clear_cookies()  # a new visit: sign in again by a one-time link
    page.goto(f"{live_server.url}/portal/")
    page.get_by_label("Your email address").fill("riley@example.test")
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.get_by_role("status").wait_for()
    outbound.send_due()  # the link goes out through the outbox, as the worker would send it
    (*_, (_, rcpts, data)) = smtp_sink.wait_for(2)
    body = message_from_bytes(data, policy=policy.default).get_body(("plain",)).get_content()
    link = re.search(r"http://\S+/portal/login/\S+/", body).group(0)
    page.goto(live_server.url + path_of(link))
    page.get_by_role("button", name="Sign in").click()  # the GET only shows the button
    page.get_by_role("link", name="Export stops at 1,000 rows").click()
    page.get_by_label("Add a message").fill("It happens with XLSX too.")
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_text("It happens with XLSX too.").wait_for()
    page.screenshot(path=str(SHOTS / "portal.png"), full_page=True)
    assert c.messages.filter(kind="customer").count() == 2
