"""The customer's side: the contact form, the portal's one-time sign-in, and what customers may see."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

import pytest
from django.test import Client

from happydesk.customers.services import customer_for_address
from happydesk.inbox.models import Conversation, Message
from happydesk.inbox.services import (
    conversation_open,
    conversation_set_status,
    message_receive,
    note_add,
    reply_create,
)
from happydesk.mail import outbound

pytestmark = pytest.mark.django_db


@pytest.fixture
def form_mailbox(mailbox):
    mailbox.form_topics = ["Billing", "A bug", "Something else"]
    mailbox.save()
    return mailbox


def submit(client: Client, mailbox, **overrides):
    data = {
        "name": "Riley Rivera",
        "email": "riley@example.test",
        "subject": "Charged twice",
        "message": "My card shows two charges.",
        "topic": "Billing",
        "feeling": "worried",
        "tz_offset": "-120",
        "tz_name": "Europe/Berlin",
        "website": "",
    }
    data.update(overrides)
    return client.post(f"/contact/{mailbox.pk}/", data)


def test_contact_form_creates_a_conversation_for_triage(form_mailbox, smtp_sink):
    r = submit(Client(), form_mailbox)
    assert r.status_code == 200 and b"we've got it" in r.content
    c = Conversation.objects.get()
    assert (c.channel, c.topic, c.feeling, c.subject) == ("form", "Billing", "worried", "Charged twice")
    assert c.customer.timezone == "Europe/Berlin"
    assert c.messages.get(kind="customer").threading_rule == "form"
    outbound.send_due()
    ((_, rcpts, data),) = smtp_sink.wait_for(1)
    body = message_from_bytes(data, policy=policy.default).get_body(("plain",)).get_content()
    assert rcpts == ["riley@example.test"]
    assert "UTC+02:00" in body  # support hours in the customer's own time
    assert f"/portal/c/{c.token}/" in body


def test_contact_form_validates_and_traps_bots(form_mailbox):
    r = submit(Client(), form_mailbox, email="not-an-email", topic="Hacking")
    assert r.status_code == 200 and b"Enter a valid email address" in r.content
    assert not Conversation.objects.exists()
    r = submit(Client(), form_mailbox, website="http://spam.example")
    assert r.status_code == 200 and not Conversation.objects.exists()
    form_mailbox.form_enabled = False
    form_mailbox.save()
    assert Client().get(f"/contact/{form_mailbox.pk}/").status_code == 404


def sign_in_link(sink) -> str:
    from happydesk.mail.outbound import send_due

    send_due()  # the link goes out through the outbox, as the worker would send it
    sink.wait_for(1)
    data = sink.messages[-1][2]
    body = message_from_bytes(data, policy=policy.default).get_body(("plain",)).get_content()
    return re.search(r"http://\S+/portal/login/\S+/", body).group(0).split("//", 1)[1].split("/", 1)[1]


def test_portal_one_time_link_lists_only_own_conversations(form_mailbox, smtp_sink):
    submit(Client(), form_mailbox)
    other = customer_for_address(address="someone@example.test", name="Someone Else")
    conversation_open(mailbox=form_mailbox, customer=other, subject="Their private matter")
    browser = Client()
    r = browser.post("/portal/", {"email": "riley@example.test"})
    assert b"If we know that address" in r.content
    r2 = Client().post("/portal/", {"email": "unknown@example.test"})
    assert r2.content.count(b"If we know that address") == 1  # same answer: no enumeration
    link = "/" + sign_in_link(smtp_sink)
    assert browser.get(link).status_code == 302
    page = browser.get("/portal/").content.decode()
    assert "Charged twice" in page and "Their private matter" not in page
    assert Client().get(link).status_code == 410  # works once


def test_portal_thread_hides_notes_and_reply_reopens(form_mailbox, agent):
    submit(Client(), form_mailbox)
    c = Conversation.objects.get()
    note_add(conversation=c, author=agent, text="INTERNAL: customer is a reseller")
    reply_create(conversation=c, author=agent, text="Refunded the second charge.", status="closed")
    customer = Client()
    page = customer.get(f"/portal/c/{c.token}/").content.decode()
    assert "Refunded the second charge." in page and "INTERNAL" not in page and "Reopen" in page
    customer.post(f"/portal/c/{c.token}/", {"text": "It's back again this month."})
    c.refresh_from_db()
    assert c.status == "active"
    assert c.messages.filter(kind="customer").last().threading_rule == "portal"


def test_unknown_or_spam_conversation_tokens_are_404(form_mailbox, agent):
    submit(Client(), form_mailbox)
    c = Conversation.objects.get()
    assert Client().get("/portal/c/not-a-real-token/").status_code == 404
    conversation_set_status(conversation=c, actor=agent, status="spam")
    assert Client().get(f"/portal/c/{c.token}/").status_code == 404


def test_portal_attachments_only_of_that_conversation(form_mailbox, agent):
    from happydesk.inbox.services import NewAttachment

    submit(Client(), form_mailbox)
    mine = Conversation.objects.get()
    other = conversation_open(
        mailbox=form_mailbox, customer=customer_for_address(address="x@example.test"), subject="x"
    )
    theirs = message_receive(
        conversation=other,
        customer=other.customer,
        from_name="X",
        from_address="x@example.test",
        subject="x",
        text="secret file",
        attachments=[NewAttachment("secret.pdf", "application/pdf", b"%PDF")],
    )
    att = theirs.attachments.get()
    assert Client().get(f"/portal/c/{mine.token}/attachments/{att.pk}/").status_code == 404
    assert Client().get(f"/portal/c/{other.token}/attachments/{att.pk}/").status_code == 200
    assert Message.objects.filter(kind="note").count() == 0


def test_contact_form_auto_reply_follows_the_same_loop_rules_as_mail(form_mailbox):
    submit(Client(), form_mailbox)
    submit(Client(), form_mailbox, subject="And another thing")
    assert Conversation.objects.count() == 2
    assert Message.objects.filter(kind=Message.Kind.AUTO_REPLY).count() == 1  # one per sender per window


def test_sign_in_links_are_limited_per_customer(form_mailbox, smtp_sink):
    """The limit lives where links are made, so the portal form and the community sign-in share it."""
    from happydesk.accounts.models import PortalLoginToken

    submit(Client(), form_mailbox)
    for _ in range(5):
        Client().post("/portal/", {"email": "riley@example.test"})
    Client().post("/community/sign-in/", {"email": "riley@example.test", "name": "Riley"})
    assert PortalLoginToken.objects.count() == 3
