"""Mail loops: a peer that auto-replies to everything gets at most one auto-reply from us."""

from __future__ import annotations

import email
import smtplib
from email import policy

import pytest

from happydesk.inbox.models import Message
from happydesk.runtime.worker import run_once
from tests.helpers import SmtpSink, make_email

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("well_behaved", [True, False], ids=["marks-auto-submitted", "marks-nothing"])
def test_auto_replying_peer_gets_at_most_one_auto_reply(mailbox, smtp_listener, settings, well_behaved):
    """The peer answers every mail it receives with a new auto-reply, over real SMTP into our listener.
    A badly behaved peer sets no Auto-Submitted header and changes the subject, so only our own limits stop it."""
    counter = {"n": 0}

    def peer_autoreplies(mail_from, rcpts, data):  # runs in the sink's SMTP thread
        counter["n"] += 1
        incoming = email.message_from_bytes(data, policy=policy.default)
        headers = {"In-Reply-To": incoming["Message-ID"]} if well_behaved else {}
        if well_behaved:
            headers["Auto-Submitted"] = "auto-replied"
        reply = make_email(
            sender="Out Of Office <peer@example.test>",
            to=str(incoming["Reply-To"] or incoming["From"]),
            subject=("Automatic reply: " if well_behaved else f"I am away ({counter['n']})"),
            body="I am out of the office.\n",
            headers=headers,
        )
        with smtplib.SMTP("127.0.0.1", smtp_listener.port) as s:
            s.sendmail("peer@example.test", ["support@acme.test"], reply)

    sink = SmtpSink(on_message=peer_autoreplies).start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    try:
        with smtplib.SMTP("127.0.0.1", smtp_listener.port) as s:
            s.sendmail(
                "peer@example.test",
                ["support@acme.test"],
                make_email(sender="peer@example.test", subject="Hello"),
            )
        for _ in range(30):  # plenty of rounds for a loop to show itself
            run_once()
    finally:
        sink.stop()
    assert len(sink.messages) == 1, "exactly one auto-reply reached the peer"
    assert Message.objects.filter(kind=Message.Kind.AUTO_REPLY).count() == 1
    # The peer's answer was stored, not dropped.
    assert Message.objects.filter(kind=Message.Kind.CUSTOMER).count() == 2
