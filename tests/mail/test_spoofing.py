"""Spoofed mail never joins a customer's conversation: real SMTP into our listener, real DNS on loopback.

The legitimate mail server of example.test sends from 127.0.0.1 (its SPF record) and signs with DKIM;
the attacker connects from 127.0.0.66, which is loopback too but not in anyone's SPF. Each spoofing case
must open a new, unverified conversation and leave the customer's conversation exactly as it was.
"""

from __future__ import annotations

import smtplib

import pytest

from happydesk.inbox.models import Conversation, Message
from happydesk.inbox.services import reply_create
from happydesk.mail.inbound import process_pending
from happydesk.mail.models import RawMessage
from tests.helpers import make_email
from tests.mailauth_helpers import dkim_key, dkim_sign, dmarc_zone, spf_record

pytestmark = pytest.mark.django_db(transaction=True)

LEGIT_MTA, ATTACKER = "127.0.0.1", "127.0.0.66"
CASEY = "Casey Customer <casey@example.test>"  # example.test: SPF, DKIM and DMARC p=reject
DANA = "Dana <dana@nodmarc.test>"  # nodmarc.test publishes nothing at all


@pytest.fixture
def world(dns_server, smtp_listener, mailbox, agent):  # type: ignore[no-untyped-def]
    key = dkim_key("example.test")
    dns_server.zone(
        {
            **key.zone,
            "example.test": [spf_record(LEGIT_MTA)],
            **dmarc_zone("example.test", p="reject"),
        }
    )
    mailbox.auto_reply_enabled = False
    mailbox.save()

    def send(data: bytes, *, source_ip: str, mail_from: str, rcpt: str = "support@acme.test") -> Message:
        before = set(RawMessage.objects.values_list("pk", flat=True))
        with smtplib.SMTP("127.0.0.1", smtp_listener.port, source_address=(source_ip, 0)) as smtp:
            smtp.ehlo("mx.example.test" if source_ip == LEGIT_MTA else "friendly.example")
            smtp.sendmail(mail_from, [rcpt], data)
        process_pending()
        raw = RawMessage.objects.exclude(pk__in=before).get()
        assert raw.state == RawMessage.State.PROCESSED, raw.reason
        return raw.message

    # Casey's real conversation, opened by mail that passed SPF, DKIM and DMARC, with our answer in it.
    first = send(
        dkim_sign(make_email(sender=CASEY, subject="Card declined", body="My card was declined.\n"), key),
        source_ip=LEGIT_MTA,
        mail_from="casey@example.test",
    )
    assert first.sender_verified, first.verification
    casey = first.conversation
    assert not casey.unverified
    answer = reply_create(conversation=casey, author=agent, text="The card on your account ends 4242.")
    # Dana's conversation: her domain has no DMARC record, so she is never verified.
    dana_first = send(
        make_email(sender=DANA, subject="Export", body="How do I export?\n"),
        source_ip=LEGIT_MTA,
        mail_from="dana@nodmarc.test",
    )
    return {
        "send": send,
        "key": key,
        "casey": casey,
        "answer": answer,
        "dana": dana_first.conversation,
        "dana_answer": reply_create(conversation=dana_first.conversation, author=agent, text="Use Export."),
    }


def _state(conversation: Conversation) -> tuple:
    conversation.refresh_from_db()
    return (conversation.message_count, conversation.status, conversation.last_activity_at)


def _assert_new_unverified(message: Message, original: Conversation) -> None:
    assert message.conversation_id != original.pk
    assert message.conversation.unverified
    assert not message.sender_verified
    assert message.threading_rule.startswith("new:")
    assert message.conversation.possibly_same_as_id == original.pk, message.threading_reason


def test_no_authentication_results_and_no_dmarc_never_joins_by_number(world):
    """No Authentication-Results anywhere, a domain without DMARC: nothing shows who sent it."""
    dana = world["dana"]
    before = _state(dana)
    message = world["send"](
        make_email(sender=DANA, subject=f"Re: Export [#{dana.number}]", body="Send me the data.\n"),
        source_ip=ATTACKER,
        mail_from="dana@nodmarc.test",
    )
    _assert_new_unverified(message, dana)
    assert "DMARC" in message.verification or "dmarc" in message.verification
    assert _state(dana) == before


def test_forged_authentication_results_from_a_foreign_server_is_ignored(world):
    casey = world["casey"]
    before = _state(casey)
    forged = (
        b"Authentication-Results: mx.google.com; spf=pass smtp.mailfrom=example.test;"
        b" dkim=pass header.d=example.test; dmarc=pass header.from=example.test\r\n"
        + make_email(sender=CASEY, subject=f"Re: Card declined [#{casey.number}]", body="New card: ...\n")
    )
    message = world["send"](forged, source_ip=ATTACKER, mail_from="casey@example.test")
    _assert_new_unverified(message, casey)
    assert message.threading_rule == "new:untrusted"  # our own check: SPF fail, DMARC fail (p=reject)
    assert _state(casey) == before
    raw = RawMessage.objects.get(message=message)
    assert raw.auth["dmarc"] == "fail" and raw.auth["source"] == "listener"


def test_subject_number_with_a_spoofed_from_opens_a_new_conversation(world):
    casey = world["casey"]
    casey.status = Conversation.Status.CLOSED
    casey.save(update_fields=["status"])
    before = _state(casey)
    message = world["send"](
        make_email(sender=CASEY, subject=f"Re: Card declined [#{casey.number}]", body="Reopen, please.\n"),
        source_ip=ATTACKER,
        mail_from="bounce@attacker.test",
    )
    _assert_new_unverified(message, casey)
    assert _state(casey) == before  # not reopened, nothing appended
    assert before[1] == Conversation.Status.CLOSED


def test_participant_address_failing_dmarc_reject_never_joins_even_with_the_reply_address(world, mailbox):
    """Even the conversation's secret reply address does not let in mail whose DMARC fails outright."""
    casey = world["casey"]
    before = _state(casey)
    reply_address = mailbox.reply_address(casey.reply_token)
    message = world["send"](
        make_email(
            sender=CASEY,
            to=reply_address,
            subject="Re: Card declined",
            body="Here is my new address.\n",
            in_reply_to=f"<{world['answer'].message_id}>",
        ),
        source_ip=ATTACKER,
        mail_from="casey@example.test",
        rcpt=reply_address,
    )
    _assert_new_unverified(message, casey)
    assert message.threading_rule == "new:untrusted"
    assert "reject" in message.verification
    assert _state(casey) == before
    # A forged From is not answered either: an auto-reply would go to the real Casey (backscatter).
    assert not message.conversation.messages.filter(kind=Message.Kind.AUTO_REPLY).exists()


def test_mail_passing_spf_and_dkim_threads_by_its_subject_number(world):
    casey = world["casey"]
    message = world["send"](
        dkim_sign(
            make_email(sender=CASEY, subject=f"Re: Card declined [#{casey.number}]", body="Thanks!\n"),
            world["key"],
        ),
        source_ip=LEGIT_MTA,
        mail_from="casey@example.test",
    )
    assert message.conversation_id == casey.pk
    assert message.threading_rule == "subject"
    assert message.sender_verified and "dmarc=pass" in message.verification


def test_an_ordinary_reply_carrying_our_message_id_threads_without_dmarc(world):
    """Dana answers from her mail client: In-Reply-To is our reply's Message-ID (a secret), so it
    threads although nothing verifies her domain; the message says it is not verified."""
    dana = world["dana"]
    message = world["send"](
        make_email(
            sender=DANA,
            subject="Re: Export",
            body="Found it, thanks.\n",
            in_reply_to=f"<{world['dana_answer'].message_id}>",
            references=f"<{world['dana_answer'].message_id}>",
        ),
        source_ip=LEGIT_MTA,
        mail_from="dana@nodmarc.test",
    )
    assert message.conversation_id == dana.pk
    assert message.threading_rule == "in-reply-to"
    assert not message.sender_verified
