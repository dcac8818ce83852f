"""Inbound processing: store raw, process, thread, dedupe, quarantine. Real SQLite/PostgreSQL."""

from __future__ import annotations

import pytest

from happydesk.inbox.models import Conversation, Message
from happydesk.mail.models import RawMessage
from tests.helpers import deliver_raw as deliver
from tests.helpers import make_email

pytestmark = pytest.mark.django_db


def test_new_email_opens_a_conversation(mailbox):
    raw = deliver(make_email(subject="Order 1234 missing"), envelope_to=["support@acme.test"])
    assert raw.state == RawMessage.State.PROCESSED
    c = Conversation.objects.get()
    assert c.subject == "Order 1234 missing"
    assert c.mailbox == mailbox
    assert c.customer.primary_email == "casey@example.test"
    assert c.customer.name == "Casey Customer"
    msg = c.messages.get(kind=Message.Kind.CUSTOMER)
    # Nothing vouches for example.test (no DMARC record in any DNS): a new conversation, shown as unverified.
    assert msg.threading_rule == "new:unverified" and not msg.sender_verified
    assert c.unverified
    assert "order has not arrived" in msg.text
    assert c.message_count == 1


def test_same_email_twice_or_by_two_paths_is_one_message(mailbox):
    data = make_email(message_id="<same@example.test>")
    first = deliver(data)
    # The IMAP copy carries extra trace headers but is the same email.
    second = deliver(
        b"Received: from mx by imap; Mon, 1 Jan 2026 00:00:00 +0000\r\n" + data, source=RawMessage.Source.IMAP
    )
    assert first.state == RawMessage.State.PROCESSED
    assert second.state == RawMessage.State.DUPLICATE
    assert Message.objects.filter(kind=Message.Kind.CUSTOMER).count() == 1


def test_new_mail_reusing_an_old_message_id_is_not_dropped(mailbox):
    deliver(make_email(message_id="<reused@example.test>", body="first\n"))
    raw = deliver(make_email(message_id="<reused@example.test>", body="a different message\n"))
    assert raw.state == RawMessage.State.PROCESSED
    assert Message.objects.filter(kind=Message.Kind.CUSTOMER).count() == 2


def test_verified_customer_threads_by_their_own_in_reply_to_and_references(mailbox):
    deliver(make_email(message_id="<m1@example.test>"), verified=True)
    deliver(
        make_email(message_id="<m2@example.test>", subject="Re: Help", in_reply_to="<m1@example.test>"),
        verified=True,
    )
    deliver(
        make_email(
            message_id="<m3@example.test>", subject="Re: Help", references="<m1@example.test> <unknown@x>"
        ),
        verified=True,
    )
    assert Conversation.objects.count() == 1
    rules = list(
        Message.objects.filter(kind="customer").order_by("id").values_list("threading_rule", flat=True)
    )
    assert rules == ["new", "in-reply-to", "references"]


def test_unverified_sender_citing_a_customers_own_message_id_opens_a_new_conversation(mailbox):
    """A customer's Message-ID is on every copy of their mail (To, Cc, a forward): it proves nothing."""
    deliver(make_email(message_id="<m1@example.test>"), verified=True)
    first = Conversation.objects.get()
    raw = deliver(make_email(message_id="<m2@example.test>", in_reply_to="<m1@example.test>"))
    assert raw.message.conversation_id != first.pk
    assert raw.message.threading_rule == "new:unverified"
    assert raw.message.conversation.unverified
    assert raw.message.conversation.possibly_same_as_id == first.pk


def test_customer_reply_to_our_message_id_threads_even_unverified(mailbox, agent):
    """A customer whose domain publishes no DMARC answers from their mail client: it carries our
    Message-ID (64 random bits), so it threads, and the message shows as not verified."""
    from happydesk.inbox.services import reply_create

    deliver(make_email(message_id="<m1@example.test>"), verified=True)
    c = Conversation.objects.get()
    ours = reply_create(conversation=c, author=agent, text="Can you send the order number?")
    raw = deliver(
        make_email(message_id="<m2@example.test>", subject="Re: Help", in_reply_to=f"<{ours.message_id}>")
    )
    assert raw.message.conversation_id == c.pk
    assert raw.message.threading_rule == "in-reply-to"
    assert not raw.message.sender_verified and raw.message.verification.startswith("not verified")


def test_stranger_sharing_in_reply_to_does_not_join(mailbox):
    deliver(make_email(message_id="<m1@example.test>"))
    raw = deliver(
        make_email(
            sender="news@stranger.test", message_id="<n1@stranger.test>", in_reply_to="<m1@example.test>"
        ),
        verified=True,  # a real newsletter, DMARC and all: still not on Casey's conversation
    )
    assert Conversation.objects.count() == 2
    assert raw.message.threading_rule == "new:not-participant"
    assert "not on that conversation" in raw.message.threading_reason


def test_ticket_trick_verification_mail_to_reply_address_opens_new_conversation(mailbox):
    deliver(make_email())
    c = Conversation.objects.get()
    reply_address = mailbox.reply_address(c.reply_token)
    raw = deliver(
        make_email(sender="noreply@chat-service.test", to=reply_address, subject="Verify your email"),
        envelope_to=[reply_address],
    )
    assert raw.message.conversation_id != c.pk
    assert raw.message.threading_rule == "new:not-participant"


def test_reply_token_threads_the_customer(mailbox):
    deliver(make_email(), verified=True)
    c = Conversation.objects.get()
    reply_address = mailbox.reply_address(c.reply_token)
    raw = deliver(make_email(to=reply_address, subject="no headers kept"), envelope_to=[reply_address])
    assert raw.message.conversation_id == c.pk
    assert raw.message.threading_rule == "reply-token"


def test_subject_reference_threads_a_verified_customer_from_another_address(mailbox):
    from happydesk.customers.models import CustomerEmail

    deliver(make_email())
    c = Conversation.objects.get()
    CustomerEmail.objects.create(customer=c.customer, address="casey@work.test")
    raw = deliver(make_email(sender="casey@work.test", subject=f"Re: Help [#{c.number}]"), verified=True)
    assert raw.message.conversation_id == c.pk
    assert raw.message.threading_rule == "subject"
    assert raw.message.sender_verified


def test_subject_reference_from_an_unverified_sender_opens_a_new_conversation(mailbox):
    """Conversation numbers are sequential: `[#N]` with a customer's From proves nothing."""
    deliver(make_email(), verified=True)
    c = Conversation.objects.get()
    c.status = Conversation.Status.CLOSED
    c.save()
    raw = deliver(make_email(subject=f"Re: Help [#{c.number}]", body="Please send the card number."))
    assert raw.message.conversation_id != c.pk
    assert raw.message.threading_rule == "new:unverified"
    assert raw.message.conversation.possibly_same_as_id == c.pk
    c.refresh_from_db()
    assert c.status == Conversation.Status.CLOSED and c.message_count == 1


def test_defective_sender_never_appends(mailbox):
    deliver(make_email(message_id="<m1@example.test>"))
    data = make_email(message_id="<evil@y.test>", in_reply_to="<m1@example.test>").replace(
        b"From: Casey Customer <casey@example.test>", b"From: casey@example.test)<attacker@y.test>"
    )
    raw = deliver(data)
    assert raw.state == RawMessage.State.PROCESSED
    c = raw.message.conversation
    assert Conversation.objects.count() == 2
    assert c.unverified
    assert raw.message.threading_rule == "new:untrusted"


def test_failed_authentication_results_from_our_trusted_server_never_append(mailbox, agent):
    from happydesk.inbox.services import reply_create

    deliver(make_email(message_id="<m1@example.test>"), verified=True)
    c = Conversation.objects.get()
    ours = reply_create(conversation=c, author=agent, text="Hi Casey")
    raw = deliver(
        make_email(
            message_id="<spoof@example.test>",
            in_reply_to=f"<{ours.message_id}>",  # even with our secret Message-ID: authentication failed
            headers={
                "Authentication-Results": "mx.acme.test; spf=fail smtp.mailfrom=example.test; dkim=fail; dmarc=fail header.from=example.test"
            },
        ),
        source=RawMessage.Source.HTTP,
    )
    assert raw.message.conversation.unverified
    assert raw.message.threading_rule == "new:untrusted"
    assert Conversation.objects.count() == 2


def test_unknown_recipient_is_quarantined_with_reason(db):
    raw = deliver(make_email(to="nobody@elsewhere.test"))
    assert raw.state == RawMessage.State.QUARANTINED
    assert "no mailbox" in raw.reason


def test_garbage_is_quarantined_not_raised(mailbox):
    raw = deliver(b"\x00\x01 this is not an email at all", mailbox=mailbox)
    assert raw.state in (RawMessage.State.QUARANTINED, RawMessage.State.PROCESSED)
    if raw.state == RawMessage.State.QUARANTINED:
        assert raw.reason


def test_quarantined_message_can_be_reprocessed(db):
    from happydesk.inbox.services import mailbox_create
    from happydesk.mail.inbound import process_raw, raw_reprocess

    raw = deliver(make_email(to="sales@acme.test"))
    assert raw.state == RawMessage.State.QUARANTINED
    mailbox_create(address="sales@acme.test", name="Sales")
    raw_reprocess(raw=raw)
    process_raw(raw.pk)
    raw.refresh_from_db()
    assert raw.state == RawMessage.State.PROCESSED


def test_closed_conversation_reopens_on_customer_reply(mailbox, agent):
    from happydesk.inbox.services import conversation_set_status

    deliver(make_email(message_id="<m1@example.test>"), verified=True)
    c = Conversation.objects.get()
    conversation_set_status(conversation=c, actor=agent, status="closed")
    deliver(make_email(message_id="<m2@example.test>", in_reply_to="<m1@example.test>"), verified=True)
    c.refresh_from_db()
    assert c.status == "active"
    assert c.messages.filter(kind="event", event__type="reopened").exists()


def test_one_mail_to_two_of_our_mailboxes_is_one_conversation(mailbox):
    from happydesk.inbox.services import mailbox_create

    mailbox_create(address="billing@acme.test", name="Billing")
    data = make_email(to="support@acme.test, billing@acme.test", message_id="<both@example.test>")
    deliver(data, envelope_to=["support@acme.test", "billing@acme.test"])
    deliver(
        data,
        source=RawMessage.Source.IMAP,
        mailbox=mailbox.__class__.objects.get(address="billing@acme.test"),
    )
    assert Conversation.objects.count() == 1
    assert Conversation.objects.get().mailbox.address == "support@acme.test"


def test_mime_bomb_is_quarantined_as_too_complex(mailbox):
    parts = "".join(f"--b\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n" for i in range(5000))
    bomb = (
        "From: bomber@example.test\r\nTo: support@acme.test\r\nSubject: many parts\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + parts + "--b--\r\n"
    ).encode()
    raw = deliver(bomb)
    assert raw.state == RawMessage.State.QUARANTINED
    assert "MessageTooComplex" in raw.reason
    assert not Conversation.objects.exists()
