"""Outbound: the reply reaches a real SMTP server with threading headers; retries; auto-reply rules."""

from __future__ import annotations

import email
import smtplib
from email import policy

import pytest

from happydesk.inbox.models import Conversation, Message
from happydesk.inbox.services import reply_create
from happydesk.mail import outbound
from happydesk.mail.inbound import process_pending
from happydesk.mail.models import OutboundMail, RawMessage
from happydesk.mail.store import store_raw
from tests.helpers import make_email

pytestmark = pytest.mark.django_db


def deliver(data: bytes, **kwargs) -> RawMessage:
    raw = store_raw(data, source=RawMessage.Source.SMTP, **kwargs)
    process_pending()
    raw.refresh_from_db()
    return raw


def parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=policy.default)


def test_auto_reply_sets_expectations_and_is_marked(mailbox, smtp_sink):
    mailbox.self_help_links = [{"title": "Order tracking", "url": "https://help.acme.test/tracking"}]
    mailbox.save()
    deliver(make_email())
    assert outbound.send_due() == 1
    ((mail_from, rcpts, data),) = smtp_sink.wait_for(1)
    msg = parse(data)
    assert rcpts == ["casey@example.test"]
    assert msg["Auto-Submitted"] == "auto-replied"
    body = msg.get_body(("plain",)).get_content()
    assert "Hi Casey" in body
    assert "support hours" in body.lower()
    assert "https://help.acme.test/tracking" in body
    assert "as soon as we can" in body  # fewer than 5 answered conversations: no invented figure


def test_typical_response_time_is_computed_from_last_30_days(mailbox, agent):
    from datetime import timedelta

    from django.utils import timezone

    from happydesk.customers.services import customer_for_address
    from happydesk.mail.autoreply import describe_wait, typical_first_response

    now = timezone.now()
    customer = customer_for_address(address="x@example.test")
    for hours in (1, 2, 3, 4, 50):
        Conversation.objects.create(
            mailbox=mailbox,
            customer=customer,
            created_at=now - timedelta(days=2),
            first_response_at=now - timedelta(days=2) + timedelta(hours=hours),
        )
    wait = typical_first_response(mailbox)
    assert wait == timedelta(hours=3)
    assert "3 hours" in describe_wait(wait)


def test_no_auto_reply_to_automated_mail(mailbox, smtp_sink):
    deliver(make_email(sender="bot@example.test", headers={"Auto-Submitted": "auto-generated"}))
    deliver(make_email(sender="list@example.test", headers={"Precedence": "bulk"}))
    deliver(make_email(sender="mailer-daemon@example.test", subject="Notice"))
    deliver(make_email(sender="news@example.test", headers={"List-Id": "<news.example.test>"}))
    assert Conversation.objects.count() == 4
    assert not Message.objects.filter(kind=Message.Kind.AUTO_REPLY).exists()
    assert outbound.send_due() == 0


def test_one_auto_reply_per_sender_per_window(mailbox, smtp_sink):
    for i in range(3):
        deliver(make_email(subject=f"Question {i}"))
    assert Conversation.objects.count() == 3
    assert Message.objects.filter(kind=Message.Kind.AUTO_REPLY).count() == 1


def test_reply_has_threading_headers_and_answer_threads_back(mailbox, agent, smtp_sink):
    mailbox.auto_reply_enabled = False
    mailbox.save()
    deliver(make_email(message_id="<first@example.test>", subject="Where is my parcel?"))
    c = Conversation.objects.get()
    reply = reply_create(conversation=c, author=agent, text="Hi Casey, it ships today.")
    assert reply.delivery == Message.Delivery.QUEUED
    assert outbound.send_due() == 1
    ((mail_from, rcpts, data),) = smtp_sink.wait_for(1)
    msg = parse(data)
    assert msg["In-Reply-To"] == "<first@example.test>"
    assert "<first@example.test>" in msg["References"]
    assert msg["Message-ID"] == f"<{reply.message_id}>"
    assert msg["Reply-To"] == mailbox.reply_address(c.reply_token)
    assert "Alex Agent via Acme Support" in msg["From"]
    assert f"[#{c.number}]" in msg["Subject"]
    assert msg.get_body(("html",)) is not None
    assert "— The Acme team" in msg.get_body(("plain",)).get_content()
    reply.refresh_from_db()
    assert reply.delivery == Message.Delivery.SENT
    c.refresh_from_db()
    assert c.first_response_at == reply.created_at
    # The customer answers the reply: it lands in the same conversation.
    deliver(
        make_email(
            message_id="<second@example.test>",
            subject="Re: Where is my parcel?",
            in_reply_to=msg["Message-ID"],
        )
    )
    assert Conversation.objects.count() == 1
    assert c.messages.filter(kind="customer").count() == 2


def test_failed_send_retries_with_backoff_then_succeeds(mailbox, agent, settings):
    from tests.helpers import SmtpSink, free_port

    mailbox.auto_reply_enabled = False
    mailbox.save()
    deliver(make_email())
    c = Conversation.objects.get()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nothing listens here yet
    settings.EMAIL_TIMEOUT = 2
    reply = reply_create(conversation=c, author=agent, text="Sorry for the wait.")
    outbound.send_due()
    reply.refresh_from_db()
    row = OutboundMail.objects.get(message=reply)
    assert reply.delivery == Message.Delivery.RETRY
    assert "Connection refused" in reply.delivery_error or "refused" in reply.delivery_error.lower()
    assert row.attempts == 1 and row.next_attempt_at > row.created_at
    sink = SmtpSink()
    settings.EMAIL_PORT = sink.port
    sink.start()
    try:
        outbound.outbox_retry_now(message=reply)
        outbound.send_due()
        assert len(sink.wait_for(1)) == 1
    finally:
        sink.stop()
    reply.refresh_from_db()
    assert reply.delivery == Message.Delivery.SENT


def test_permanent_rejection_marks_failed(mailbox, agent, settings):
    from aiosmtpd.controller import Controller

    from tests.helpers import free_port

    class Reject:
        async def handle_RCPT(self, server, session, envelope, address, options):
            return "550 5.1.1 no such user"

    port = free_port()
    controller = Controller(Reject(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mailbox.auto_reply_enabled = False
        mailbox.save()
        deliver(make_email())
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        reply = reply_create(conversation=Conversation.objects.get(), author=agent, text="Hello")
        outbound.send_due()
    finally:
        controller.stop()
    reply.refresh_from_db()
    assert reply.delivery == Message.Delivery.FAILED
    assert "550" in reply.delivery_error


def test_bounce_attaches_to_the_reply_and_marks_it_failed(mailbox, agent, smtp_sink):
    mailbox.auto_reply_enabled = False
    mailbox.save()
    deliver(make_email())
    c = Conversation.objects.get()
    reply = reply_create(conversation=c, author=agent, text="Here you go")
    outbound.send_due()
    dsn = (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.test>\r\n"
        "To: support@acme.test\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn1@mx.example.test>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.test\r\n\r\n"
        "Final-Recipient: rfc822; casey@example.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{reply.message_id}>\r\nSubject: x\r\n"
        "--B--\r\n"
    ).encode()
    raw = deliver(dsn)
    assert raw.state == RawMessage.State.PROCESSED
    assert Conversation.objects.count() == 1
    reply.refresh_from_db()
    assert reply.delivery == Message.Delivery.FAILED
    assert c.messages.filter(kind="event", event__type="bounce").exists()


def test_smtp_send_uses_real_conversation(mailbox, agent, smtp_sink):
    # Sanity: the sink is a real SMTP server, not a Python object we call.
    with smtplib.SMTP("127.0.0.1", smtp_sink.port) as s:
        s.sendmail("a@example.test", ["b@example.test"], b"Subject: hi\r\n\r\nhello\r\n")
    assert len(smtp_sink.wait_for(1)) == 1


def test_a_notice_goes_through_the_outbox_and_retries(settings):
    """Notices that are not replies (status updates, alerts, digests) are queued and retried like replies."""
    from django.db import transaction

    from tests.helpers import SmtpSink, free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    with transaction.atomic():
        row = outbound.notice_enqueue(
            to=["lead@acme.test"],
            subject="Login is failing",
            text="Please confirm.",
            kind="early-warning",
            headers={"List-Unsubscribe": "<https://example.test/u>"},
        )
    outbound.send_due()
    row.refresh_from_db()
    assert row.state == OutboundMail.State.RETRY and row.attempts == 1
    sink = SmtpSink()
    settings.EMAIL_PORT = sink.port
    sink.start()
    try:
        OutboundMail.objects.filter(pk=row.pk).update(next_attempt_at=row.created_at)
        assert outbound.send_due() == 1
        ((_, rcpts, data),) = sink.wait_for(1)
    finally:
        sink.stop()
    msg = parse(data)
    assert rcpts == ["lead@acme.test"] and msg["Subject"] == "Login is failing"
    assert msg["List-Unsubscribe"] == "<https://example.test/u>" and msg["Auto-Submitted"] == "auto-generated"
    assert "Please confirm." in msg.get_body(("plain",)).get_content()
    row.refresh_from_db()
    assert row.state == OutboundMail.State.SENT


def test_a_notice_with_a_key_is_queued_once_and_can_be_cancelled():
    first = outbound.notice_enqueue(to=["a@example.test"], subject="Shipped", text="x", dedupe_key="idea:1:a")
    again = outbound.notice_enqueue(to=["a@example.test"], subject="Shipped", text="x", dedupe_key="idea:1:a")
    other = outbound.notice_enqueue(to=["b@example.test"], subject="Shipped", text="x", dedupe_key="idea:1:b")
    assert first.pk == again.pk and other.pk != first.pk
    assert outbound.notices_cancel(dedupe_key_prefix="idea:1:a") == 1
    assert OutboundMail.objects.get(pk=first.pk).state == OutboundMail.State.CANCELLED
    assert OutboundMail.objects.get(pk=other.pk).state == OutboundMail.State.QUEUED
