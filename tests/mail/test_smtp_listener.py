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
