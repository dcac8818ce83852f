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
from tests.helpers import path_of

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
    assert c.token not in r.content.decode()  # the way in goes by email, never in the answer
    assert (c.channel, c.topic, c.feeling, c.subject) == ("form", "Billing", "worried", "Charged twice")
    assert c.customer.timezone == "Europe/Berlin"
    assert c.messages.get(kind="customer").threading_rule == "form"
    outbound.send_due()
    ((_, rcpts, data),) = smtp_sink.wait_for(1)
    body = message_from_bytes(data, policy=policy.default).get_body(("plain",)).get_content()
    assert rcpts == ["riley@example.test"]
    assert "UTC+02:00" in body  # support hours in the customer's own time
    assert "/contact/confirm/" in body and "/portal/l/" in body  # confirm it's you; follow it
    assert c.token not in body  # the link is signed for the customer, not the bare token


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
    return path_of(re.search(r"http://\S+/portal/login/\S+/", body).group(0))


def test_portal_one_time_link_lists_only_own_conversations(form_mailbox, smtp_sink):
    submit(Client(), form_mailbox)
    other = customer_for_address(address="someone@example.test", name="Someone Else")
    conversation_open(mailbox=form_mailbox, customer=other, subject="Their private matter")
    browser = Client()
    r = browser.post("/portal/", {"email": "riley@example.test"})
    assert b"If we know that address" in r.content
    r2 = Client().post("/portal/", {"email": "unknown@example.test"})
    assert r2.content.count(b"If we know that address") == 1  # same answer: no enumeration
    link = sign_in_link(smtp_sink)
    assert browser.get(link).status_code == 200  # a page with a button: a scanner's GET uses nothing
    assert browser.post(link).status_code == 302
    page = browser.get("/portal/").content.decode()
    assert "Charged twice" in page and "Their private matter" not in page
    assert Client().post(link).status_code == 410  # works once


def test_portal_thread_hides_notes_and_reply_reopens(form_mailbox, agent):
    submit(Client(), form_mailbox)
    c = Conversation.objects.get()
    note_add(conversation=c, author=agent, text="INTERNAL: customer is a reseller")
    reply_create(conversation=c, author=agent, text="Refunded the second charge.", status="closed")
    customer = Client()
    assert Client().get(f"/portal/c/{c.token}/").status_code == 403  # the bare token opens nothing
    customer.get(path_of(outbound.conversation_link(c)))  # the link from our email
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
    holder = Client()  # opened the emailed link of `mine`
    holder.get(path_of(outbound.conversation_link(mine)))
    assert holder.get(f"/portal/c/{mine.token}/attachments/{att.pk}/").status_code == 404
    assert holder.get(f"/portal/c/{other.token}/attachments/{att.pk}/").status_code == 404
    assert Client().get(f"/portal/c/{other.token}/attachments/{att.pk}/").status_code == 404
    owner = Client()  # opened the emailed link of `other`
    owner.get(path_of(outbound.conversation_link(other)))
    assert owner.get(f"/portal/c/{other.token}/attachments/{att.pk}/").status_code == 200
    assert Message.objects.filter(kind="note").count() == 0


def test_contact_form_auto_reply_follows_the_same_loop_rules_as_mail(form_mailbox):
    from happydesk.accounts.portal import SESSION_KEY
    from happydesk.portal.views import VIA_KEY

    riley = customer_for_address(address="riley@example.test", name="Riley Rivera")
    signed_in = Client()  # the auto-reply goes to verified senders: a signed-in customer here
    session = signed_in.session
    session[SESSION_KEY], session[VIA_KEY] = riley.pk, "link"
    session.save()
    submit(signed_in, form_mailbox)
    submit(signed_in, form_mailbox, subject="And another thing")
    assert Conversation.objects.count() == 2
    assert Message.objects.filter(kind=Message.Kind.AUTO_REPLY).count() == 1  # one per sender per window
    # A visitor nobody knows gets the confirmation instead (no auto-reply into the thread).
    submit(Client(), form_mailbox, email="new@example.test", subject="Hello")
    assert Message.objects.filter(kind=Message.Kind.AUTO_REPLY).count() == 1


def test_sign_in_links_are_limited_per_customer(form_mailbox, smtp_sink):
    """The limit lives where links are made, so the portal form and the community sign-in share it."""
    from happydesk.accounts.models import PortalLoginToken

    submit(Client(), form_mailbox)
    for _ in range(5):
        Client().post("/portal/", {"email": "riley@example.test"})
    Client().post("/community/sign-in/", {"email": "riley@example.test", "name": "Riley"})
    assert PortalLoginToken.objects.count() == 3


def test_the_confirmation_email_carries_nothing_the_visitor_typed(form_mailbox):
    """The confirmation reaches an address the visitor may not own: it must not relay their words."""
    from happydesk.mail.models import OutboundMail

    lure = "Your account is locked, log in at http://evil.test/claim"
    customer_for_address(address="riley@example.test")  # Riley wrote before, and we have no name for them
    response = submit(
        Client(),
        form_mailbox,
        name="http://evil.test/claim now",
        subject=lure,
        message=lure + " within 24 hours.",
    )
    assert response.status_code == 200
    mail = OutboundMail.objects.get(kind="contact-confirm")
    composed = outbound.compose_notice(mail).message().as_string()
    assert "evil.test" not in composed and "locked" not in composed
    assert mail.to == ["riley@example.test"] and "/contact/confirm/" in mail.body_text
    # Nor does the stranger's typing rename the customer who owns the address (or greet them by it).
    assert customer_for_address(address="riley@example.test").name == ""


def test_portal_reply_carries_attachments_and_refuses_too_many(form_mailbox, agent, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    submit(Client(), form_mailbox)
    c = Conversation.objects.get()
    customer = Client()
    customer.get(path_of(outbound.conversation_link(c)))
    shot = SimpleUploadedFile("screenshot.png", b"\x89PNG fake bytes", content_type="image/png")
    customer.post(f"/portal/c/{c.token}/", {"text": "Here is what I see.", "attachments": [shot]})
    latest = c.messages.filter(kind="customer").latest("id")
    assert latest.text == "Here is what I see." and [a.filename for a in latest.attachments.all()] == [
        "screenshot.png"
    ]
    only_file = SimpleUploadedFile("photo.jpg", b"\xff\xd8 jpeg", content_type="image/jpeg")
    customer.post(f"/portal/c/{c.token}/", {"text": "", "attachments": [only_file]})
    photo = c.messages.filter(kind="customer").latest("id")
    assert photo.text == "" and [a.filename for a in photo.attachments.all()] == [
        "photo.jpg"
    ]  # no words made up
    settings.HAPPYDESK_MAX_MESSAGE_BYTES = 10
    big = SimpleUploadedFile("big.bin", b"x" * 11)
    r = customer.post(f"/portal/c/{c.token}/", {"text": "And this.", "attachments": [big]})
    assert r.status_code == 400 and "nothing was sent" in r.content.decode()
    assert "And this.</textarea>" in r.content.decode()  # their words are kept
    assert c.messages.filter(kind="customer").count() == 3


def test_portal_new_request_opens_the_contact_form_and_arrives_verified(form_mailbox, smtp_sink):
    form_mailbox.form_enabled = True
    form_mailbox.save()
    submit(Client(), form_mailbox)
    browser = Client()
    browser.post("/portal/", {"email": "riley@example.test"})
    browser.post(sign_in_link(smtp_sink))
    page = browser.get("/portal/").content.decode()
    href = re.search(r'href="([^"]+)" id="new-request"', page).group(1)
    assert href == f"/contact/{form_mailbox.pk}/"
    submit(browser, form_mailbox, subject="A second question")
    second = Conversation.objects.get(subject="A second question")
    assert not second.unverified and second.messages.get(kind="customer").sender_verified
