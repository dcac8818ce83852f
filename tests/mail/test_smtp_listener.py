"""The SMTP listener over a real SMTP conversation on loopback."""

from __future__ import annotations

import smtplib

import pytest

from happydesk.mail.models import RawMessage
from tests.helpers import make_email

pytestmark = pytest.mark.django_db(transaction=True)


def test_accepts_for_our_mailbox_and_stores_before_250(mailbox, smtp_listener):
    with smtplib.SMTP("127.0.0.1", smtp_listener.port) as s:
        code, resp = s.ehlo("client.test")
        assert code == 250
        s.ehlo("client.test")
        s.mail("casey@example.test")
        assert s.rcpt("support@acme.test")[0] == 250
        code, resp = s.data(make_email())
    assert code == 250
    raw_id = int(resp.decode().rsplit(" ", 1)[-1])
    raw = RawMessage.objects.get(pk=raw_id)  # committed before the 250 was sent
    assert raw.state == RawMessage.State.PENDING
    assert raw.envelope_to == ["support@acme.test"]
    assert raw.size > 0


def test_plus_address_of_a_mailbox_is_accepted(mailbox, smtp_listener):
    with smtplib.SMTP("127.0.0.1", smtp_listener.port) as s:
        s.ehlo("client.test")
        s.mail("casey@example.test")
        assert s.rcpt("support+abc123@acme.test")[0] == 250


def test_never_a_relay(mailbox, smtp_listener):
    with smtplib.SMTP("127.0.0.1", smtp_listener.port) as s:
        s.ehlo("client.test")
        s.mail("spammer@example.test")
        code, resp = s.rcpt("victim@gmail.example")
    assert code == 550
    assert b"relay" in resp
    assert RawMessage.objects.count() == 0


def test_too_big_gets_552(mailbox, smtp_listener, settings):
    settings.HAPPYDESK_MAX_MESSAGE_BYTES = 10_000
    big = make_email(body=("x" * 70 + "\n") * 300)
    with smtplib.SMTP("127.0.0.1", smtp_listener.port) as s:
        s.ehlo("client.test")
        s.mail("casey@example.test")
        s.rcpt("support@acme.test")
        code, resp = s.data(big)
    assert code == 552, resp
    assert RawMessage.objects.count() == 0


def test_storage_failure_gets_451_so_sender_retries(mailbox, smtp_listener, settings, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data dir should be")
    settings.DATA_DIR = blocker
    with smtplib.SMTP("127.0.0.1", smtp_listener.port) as s:
        s.ehlo("client.test")
        s.mail("casey@example.test")
        s.rcpt("support@acme.test")
        code, resp = s.data(make_email())
    assert code == 451
    assert RawMessage.objects.count() == 0


def long_line_email(line: str, lines: int = 3) -> bytes:
    """A plain-text mail sent 8bit with very long lines, as some senders' HTML and logs arrive."""
    head = make_email(subject="A very long line").split(b"\r\n\r\n", 1)[0]
    head = b"\r\n".join(h for h in head.split(b"\r\n") if not h.lower().startswith(b"content-"))
    body = "\r\n".join(f"{n}: {line}" for n in range(lines))
    return (
        head
        + b"\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + body.encode()
        + b"\r\n"
    )


def test_lines_of_5000_characters_are_accepted_and_shown_whole(mailbox, agent, smtp_listener):
    """RFC 5321 says 1,000 octets, but Postfix accepts longer lines and senders rely on it: a permanent
    500 would bounce real mail. The message is accepted, processed, and the page shows every line whole."""
    from django.test import Client

    from happydesk.inbox.models import Message
    from happydesk.mail.inbound import process_pending

    line = " ".join(f"w{i:04d}" for i in range(834))  # 5,003 characters, no line break
    assert len(line) > 5000
    data = long_line_email(line)
    assert max(len(x) for x in data.split(b"\r\n")) > 5000
    with smtplib.SMTP("127.0.0.1", smtp_listener.port) as s:
        s.ehlo("client.test")
        s.mail("casey@example.test")
        s.rcpt("support@acme.test")
        code, resp = s.data(data)
    assert code == 250, resp
    raw = RawMessage.objects.get()
    assert raw.size == len(data)  # the bytes as sent, long lines intact
    process_pending()
    raw.refresh_from_db()
    assert raw.state == RawMessage.State.PROCESSED, raw.reason
    message = Message.objects.get(kind="customer")
    client = Client()
    client.force_login(agent)
    page = client.get(f"/c/{message.conversation.number}/").content.decode()
    for n in range(3):
        assert f"{n}: {line}" in page
