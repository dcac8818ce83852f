"""The auto-reply's self-help links are the help articles that match what the customer wrote; the
mailbox's configured links are the fallback. Internal articles never go to a customer."""

from __future__ import annotations

import email
from email import policy

import pytest

from happydesk.mail import outbound
from tests.helpers import deliver

pytestmark = pytest.mark.django_db


def _auto_reply(smtp_sink, **fields) -> str:  # type: ignore[no-untyped-def]
    smtp_sink.messages.clear()
    deliver(**fields)
    outbound.send_due()
    ((_, _, data),) = smtp_sink.wait_for(1)
    return email.message_from_bytes(data, policy=policy.default).get_body(("plain",)).get_content()


def test_the_articles_that_answer_the_message_are_offered(kb, mailbox, smtp_sink):
    mailbox.self_help_links = [{"title": "Track your order", "url": "https://shop.acme.test/track"}]
    mailbox.save()
    body = _auto_reply(
        smtp_sink,
        sender="Casey <casey@example.test>",
        subject="Can't get in",
        body="I forgot my password and the sign-in page keeps refusing me. Refund if this goes on!\n",
    )
    assert "Reset your password: http://127.0.0.1:8000/help/" in body
    assert "Track your order" not in body  # the configured links are only the fallback
    assert "Refund policy" not in body and "Chargebacks" not in body  # internal articles: never


def test_nothing_that_matches_falls_back_to_the_configured_links(kb, mailbox, smtp_sink):
    mailbox.self_help_links = [{"title": "Service status", "url": "https://status.acme.test"}]
    mailbox.save()
    body = _auto_reply(
        smtp_sink,
        sender="Sam <sam@example.test>",
        subject="Sensor offline",
        body="Our gateway in hall 3 shows red since this morning.\n",
    )
    assert "Service status: https://status.acme.test" in body and "/help/" not in body
