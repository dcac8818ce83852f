"""CR, LF and other control characters a stranger types never reach a header we write, and a reply can
always be sent: the attacker's subject is posted through the contact form and the widget, mailed in as
an encoded word over SMTP, or already stored; the agent's reply is delivered to a real SMTP server on
loopback with no header but ours."""

from __future__ import annotations

import smtplib
from email import message_from_bytes, policy

import pytest
from django.test import Client

from happydesk.inbox.models import Conversation, Message
from happydesk.mail import outbound
from happydesk.mail.inbound import process_pending

pytestmark = pytest.mark.django_db

INJECTED = "Refund please\r\nBcc: victim@example.test\r\nX-Evil: 1\n\rtab\there\x0bvt\x0cff\x1besc\x7fdel\x85nel\u2028ls"
ONE_LINE = "Refund please Bcc: victim@example.test X-Evil: 1 tab here vt ff esc del nel ls"


def header_lines(data: bytes) -> list[str]:
    """The header section of a mail as sent, one string per header (continuation lines joined)."""
    head = data.split(b"\r\n\r\n", 1)[0].decode()
    lines: list[str] = []
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += line
        else:
            lines.append(line)
    return lines


def assert_only_our_headers(data: bytes, rcpts: list[str]) -> None:
    lines = header_lines(data)
    names = [line.split(":", 1)[0].lower() for line in lines]
    assert "bcc" not in names and "x-evil" not in names, names
    assert rcpts == ["riley@example.test"]  # the victim got nothing
    for line in lines:  # the typed text is only ever inside the Subject (or a display name), as text
        assert "victim@example.test" not in line or line.startswith(("Subject:", "From:")), line


def reply_as_agent_and_deliver(agent, conversation: Conversation, smtp_sink) -> tuple[list[str], bytes]:
    """The agent answers from the conversation page; the worker's outbox pass sends it."""
    client = Client()
    client.force_login(agent)
    before = len(smtp_sink.messages)
    r = client.post(f"/c/{conversation.number}/reply/", {"text": "We've refunded the second charge."})
    assert r.status_code == 302
    outbound.send_due()
    smtp_sink.wait_for(before + 1)
    reply = Message.objects.get(conversation=conversation, kind="reply")
    assert reply.delivery == "sent", reply.delivery_error
    ((_, rcpts, data),) = [m for m in smtp_sink.messages[before:] if b"refunded the second" in m[2]]
    return rcpts, data


FORM = {"name": "Riley\r\nX-Evil: 2\x07Rivera", "email": "riley@example.test", "message": "Charged twice."}


@pytest.mark.parametrize("way_in", ["contact page", "widget"])
def test_control_characters_typed_into_the_form_never_reach_a_header(way_in, mailbox, agent, smtp_sink):
    data = {**FORM, "subject": INJECTED}
    url = f"/contact/{mailbox.pk}/" if way_in == "contact page" else f"/widget/{mailbox.pk}/contact.json"
    r = Client().post(url, data)
    assert r.status_code == 200
    c = Conversation.objects.get()
    assert c.subject == ONE_LINE  # cleaned where it was taken in
    first = c.messages.get(kind="customer")
    assert (first.subject, first.from_name) == (ONE_LINE, "Riley X-Evil: 2 Rivera")
    assert c.customer.name == "Riley X-Evil: 2 Rivera"
    rcpts, sent = reply_as_agent_and_deliver(agent, c, smtp_sink)
    assert_only_our_headers(sent, rcpts)
    parsed = message_from_bytes(sent, policy=policy.default)
    assert parsed["Subject"] == f"Re: {ONE_LINE} [#{c.number}]"


def test_a_subject_of_only_control_characters_is_refused_with_a_clear_error(mailbox):
    r = Client().post(f"/contact/{mailbox.pk}/", {**FORM, "subject": "\r\n\x07\t"})
    assert r.status_code == 200 and b"This field is required" in r.content
    assert not Conversation.objects.exists()


def test_encoded_crlf_in_a_mailed_subject_and_name_is_stored_on_one_line(mailbox, agent, smtp_sink):
    """RFC 2047 lets a sender hide CR/LF inside an encoded word (=0D=0A): the parser decodes it, the
    inbox stores it on one line, and the reply to that conversation goes out."""
    raw = (  # by hand: Python's own email package refuses to write such a From
        b"From: =?utf-8?q?Riley=0D=0AX-Evil=3A_3?= <riley@example.test>\r\n"
        b"To: support@acme.test\r\n"
        b"Subject: =?utf-8?q?Refund_please=0D=0ABcc:_victim@example.test?=\r\n"
        b"Message-ID: <encoded-crlf@example.test>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nCharged twice.\r\n"
    )
    from happydesk.mail.store import store_raw

    store_raw(raw, source="smtp", envelope_to=["support@acme.test"], envelope_from="riley@example.test")
    process_pending()
    c = Conversation.objects.get()
    assert c.subject == "Refund please Bcc: victim@example.test"
    name = c.messages.get(kind="customer").from_name  # the parser may leave such a word undecoded
    assert name and not any(ch in name for ch in "\r\n"), name
    rcpts, sent = reply_as_agent_and_deliver(agent, c, smtp_sink)
    assert_only_our_headers(sent, rcpts)


def test_a_reply_is_delivered_even_when_the_subject_was_stored_with_crlf(mailbox, agent, smtp_sink):
    """Rows stored before intake cleaned them (and names we do not take in here, an agent's) are
    cleaned again where the outbox builds the headers: no BadHeaderError, no extra header."""
    from happydesk.accounts.models import User

    Client().post(f"/contact/{mailbox.pk}/", {**FORM, "subject": "Charged twice"})
    c = Conversation.objects.get()
    Conversation.objects.filter(pk=c.pk).update(subject=INJECTED)
    User.objects.filter(pk=agent.pk).update(name="Alex\r\nBcc: victim@example.test")
    agent.refresh_from_db()
    rcpts, sent = reply_as_agent_and_deliver(agent, c, smtp_sink)
    assert_only_our_headers(sent, rcpts)
    parsed = message_from_bytes(sent, policy=policy.default)
    assert parsed["Subject"] == f"Re: {ONE_LINE} [#{c.number}]"
    assert parsed["From"].addresses[0].display_name == "Alex Bcc: victim@example.test via Acme Support"


@pytest.mark.django_db(transaction=True)
def test_over_smtp_the_listener_keeps_the_bytes_and_the_conversation_gets_one_line(
    mailbox, agent, smtp_sink, smtp_listener
):
    """The same attack through our own SMTP listener: the raw bytes are kept as they came, the subject
    the agents and the replies see is one line."""
    raw = (  # by hand: Python's email package would decode the word and write the CR/LF out as is
        b"From: Riley <riley@example.test>\r\nTo: support@acme.test\r\n"
        b"Subject: =?utf-8?b?UmVmdW5kDQpCY2M6IHZpY3RpbUBleGFtcGxlLnRlc3Q=?=\r\n"
        b"Message-ID: <b-encoded-crlf@example.test>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nCharged twice.\r\n"
    )
    with smtplib.SMTP("127.0.0.1", smtp_listener.port) as s:
        s.sendmail("riley@example.test", ["support@acme.test"], raw)
    from happydesk.mail.models import RawMessage
    from happydesk.mail.store import read_raw

    assert b"UmVmdW5kDQpCY2M6IHZpY3RpbUBleGFtcGxlLnRlc3Q=" in read_raw(RawMessage.objects.get())
    process_pending()
    c = Conversation.objects.get()
    assert c.subject == "Refund Bcc: victim@example.test"
    rcpts, sent = reply_as_agent_and_deliver(agent, c, smtp_sink)
    assert_only_our_headers(sent, rcpts)
