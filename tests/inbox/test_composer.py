"""The composer a support team lives in: CC and BCC, light formatting, undo send, forward, and a new
conversation started by an agent. Real SMTP sink, real outbox, real worker code (send_due)."""

from __future__ import annotations

import email
from datetime import timedelta
from email import policy

import pytest
from django.test import Client
from django.utils import timezone

from happydesk.inbox.models import Conversation, Draft, Message
from happydesk.inbox.services import NewAttachment, reply_create
from happydesk.mail import outbound
from happydesk.mail.inbound import process_pending
from happydesk.mail.models import OutboundMail
from happydesk.mail.store import store_raw
from tests.helpers import customer_conversation, make_email

pytestmark = pytest.mark.django_db


def parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=policy.default)


@pytest.fixture
def convo(mailbox):  # type: ignore[no-untyped-def]
    mailbox.auto_reply_enabled = False
    mailbox.save()
    c = customer_conversation(
        mailbox,
        address="casey@example.test",
        name="Casey",
        subject="Charged twice",
        text="Two charges for order 1042.",
        message_id="order1042@example.test",
        cc=["dana@example.test"],
        attachments=[NewAttachment("receipt.pdf", "application/pdf", b"%PDF-1.4 receipt")],
    )
    c.refresh_from_db()
    return c


@pytest.fixture
def web(agent) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(agent)
    return client


def test_cc_and_bcc_reach_the_envelope_and_only_cc_the_headers(convo, agent, smtp_sink):
    assert convo.cc == ["dana@example.test"]
    reply_create(
        conversation=convo,
        author=agent,
        text="Refunded.",
        cc=["dana@example.test", "finance@example.test"],
        bcc=["boss@acme.test"],
    )
    assert outbound.send_due() == 1
    ((_, rcpts, data),) = smtp_sink.wait_for(1)
    sent = parse(data)
    assert sorted(rcpts) == [
        "boss@acme.test",
        "casey@example.test",
        "dana@example.test",
        "finance@example.test",
    ]
    assert sent["Cc"] == "dana@example.test, finance@example.test"
    assert sent["Bcc"] is None and b"boss@acme.test" not in data
    reply = Message.objects.get(kind=Message.Kind.REPLY)
    assert reply.bcc == ["boss@acme.test"]


def test_the_composer_prefills_cc_and_refuses_a_bad_address(convo, web):
    page = web.get(f"/c/{convo.number}/").content.decode()
    assert 'name="cc" value="dana@example.test"' in page
    r = web.post(
        f"/c/{convo.number}/reply/", {"text": "Hello", "cc": "dana@example.test", "bcc": "not an address@"}
    )
    assert r.status_code == 422
    assert "is not an email address" in r.content.decode()
    assert not Message.objects.filter(kind=Message.Kind.REPLY).exists()


def test_bcc_is_not_on_the_customers_side(convo, agent, web):
    reply_create(conversation=convo, author=agent, text="Done.", bcc=["boss@acme.test"])
    page = web.get(f"/c/{convo.number}/").content.decode()
    assert "Bcc: boss@acme.test" in page  # agents see it
    client = Client()
    portal_page = client.get(outbound.conversation_link(convo).split("8000", 1)[1], follow=True)
    assert "Done." in portal_page.content.decode()  # the customer's page shows the reply...
    assert "boss@acme.test" not in portal_page.content.decode()  # ...never its blind copy


def test_markdown_becomes_the_html_part_and_the_text_part_stays(convo, agent, smtp_sink, web):
    text = (
        "I've **refunded** it:\n\n- order 1042\n- [receipt](https://acme.test/r)\n\n<script>alert(1)</script>"
    )
    reply_create(conversation=convo, author=agent, text=text)
    outbound.send_due()
    ((_, _, data),) = smtp_sink.wait_for(1)
    sent = parse(data)
    plain = sent.get_body(("plain",)).get_content()
    html = sent.get_body(("html",)).get_content()
    assert plain.startswith("I've **refunded** it:")
    assert "<strong>refunded</strong>" in html and "<li>order 1042</li>" in html
    assert "<script>" not in html and "— The Acme team" in html  # sanitized; signature kept
    page = web.get(f"/c/{convo.number}/").content.decode()
    assert "<strong>refunded</strong>" in page and "<script>alert" not in page


def test_undo_send_holds_the_reply_and_takes_it_back(convo, agent, smtp_sink, settings, web):
    settings.HAPPYDESK_UNDO_SEND_SECONDS = 10
    r = web.post(f"/c/{convo.number}/reply/", {"text": "Oops, wrong customer", "cc": "dana@example.test"})
    assert r.status_code == 302
    reply = Message.objects.get(kind=Message.Kind.REPLY)
    row = OutboundMail.objects.get(message=reply)
    assert row.hold_until == row.next_attempt_at == reply.created_at + timedelta(seconds=10)
    assert outbound.send_due() == 0  # held
    page = web.get(f"/c/{convo.number}/").content.decode()
    assert "Sent —" in page and f"/replies/{reply.pk}/undo/" in page
    r = web.post(f"/c/{convo.number}/replies/{reply.pk}/undo/", follow=True)
    assert "Undone" in r.content.decode()
    assert "Oops, wrong customer</textarea>" in r.content.decode()  # back in the composer
    assert not Message.objects.filter(kind=Message.Kind.REPLY).exists()
    assert not OutboundMail.objects.exists()
    assert Draft.objects.get(conversation=convo, agent=agent).text == "Oops, wrong customer"
    assert convo.messages.filter(kind=Message.Kind.EVENT, event__type="reply_withdrawn").exists()
    convo.refresh_from_db()
    assert convo.message_count == 1 and convo.first_response_at is None
    OutboundMail.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert outbound.send_due() == 0
    assert smtp_sink.messages == []


def test_undo_loses_to_a_worker_that_claimed_the_reply(convo, agent, settings):
    settings.HAPPYDESK_UNDO_SEND_SECONDS = 10
    reply = reply_create(conversation=convo, author=agent, text="On its way")
    row = OutboundMail.objects.get(message=reply)
    OutboundMail.objects.filter(pk=row.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1),
        hold_until=timezone.now() - timedelta(seconds=1),
    )
    assert outbound._claim(row.pk)  # the worker's conditional UPDATE got there first
    with pytest.raises(outbound.AlreadySent):
        outbound.reply_undo(message=reply, actor=agent)
    row.refresh_from_db()
    assert row.state == OutboundMail.State.QUEUED
    assert Message.objects.filter(pk=reply.pk).exists()


def test_a_claim_after_undo_finds_nothing(convo, agent, settings):
    settings.HAPPYDESK_UNDO_SEND_SECONDS = 10
    reply = reply_create(conversation=convo, author=agent, text="On its way")
    row_id = OutboundMail.objects.get(message=reply).pk
    outbound.reply_undo(message=reply, actor=agent)
    assert not outbound._claim(row_id)


def test_zero_seconds_sends_at_once(convo, agent, smtp_sink, settings):
    settings.HAPPYDESK_UNDO_SEND_SECONDS = 0
    reply = reply_create(conversation=convo, author=agent, text="Now")
    assert OutboundMail.objects.get(message=reply).hold_until is None
    assert outbound.send_due() == 1
    with pytest.raises(outbound.AlreadySent):
        outbound.reply_undo(message=reply, actor=agent)


def test_forward_quotes_carries_attachments_and_never_threads_back(convo, agent, web, smtp_sink):
    r = web.post(
        f"/c/{convo.number}/forward/", {"to": "billing@partner.test", "note": "Can you check this charge?"}
    )
    assert r.status_code == 302
    assert outbound.send_due() == 1
    ((_, rcpts, data),) = smtp_sink.wait_for(1)
    sent = parse(data)
    assert rcpts == ["billing@partner.test"]
    assert sent["Subject"] == f"Fwd: Charged twice [#{convo.number}]"
    assert convo.reply_token not in data.decode(errors="replace")
    assert sent["In-Reply-To"] is None and sent["References"] is None
    body = sent.get_body(("plain",)).get_content()
    assert body.startswith("Can you check this charge?") and "Two charges for order 1042." in body
    assert [p.get_filename() for p in sent.iter_attachments()] == ["receipt.pdf"]
    event = convo.messages.get(kind=Message.Kind.EVENT, event__type="forwarded")
    assert event.event["to"] == ["billing@partner.test"]
    # Their answer, to the forward, starts a conversation of its own: nothing leaks into Casey's thread.
    store_raw(
        make_email(
            sender="billing@partner.test",
            to="support@acme.test",
            subject="Re: " + str(sent["Subject"]).replace(f"[#{convo.number}]", ""),
            in_reply_to=str(sent["Message-ID"]),
            body="Internal: that card was flagged.",
        ),
        source="smtp",
        envelope_to=["support@acme.test"],
    )
    process_pending()
    assert convo.messages.filter(kind=Message.Kind.CUSTOMER).count() == 1
    assert Conversation.objects.count() == 2


def test_forward_refuses_a_bad_address(convo, web):
    web.post(f"/c/{convo.number}/forward/", {"to": "nobody"})
    assert not OutboundMail.objects.exists()


def test_an_agent_starts_a_conversation(mailbox, agent, web, smtp_sink):
    page = web.get("/inbox/").content.decode()
    assert "/inbox/new/" in page
    r = web.post(
        "/inbox/new/",
        {
            "to": "new@example.test",
            "subject": "Your trial ends Friday",
            "text": "Hi! Want a call?",
            "mailbox": mailbox.pk,
        },
    )
    assert r.status_code == 302
    c = Conversation.objects.get()
    assert c.customer.primary_email == "new@example.test" and c.status == Conversation.Status.PENDING
    assert outbound.send_due() == 1
    ((_, rcpts, data),) = smtp_sink.wait_for(1)
    sent = parse(data)
    assert rcpts == ["new@example.test"]
    assert (
        sent["Subject"] == f"Re: Your trial ends Friday [#{c.number}]"
        or "Your trial ends Friday" in sent["Subject"]
    )
    assert sent["Reply-To"] == mailbox.reply_address(c.reply_token)
