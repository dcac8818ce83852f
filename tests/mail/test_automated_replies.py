"""Out-of-office and other automatic replies: filed with the conversation they answer, or as noise,
without waking anyone. Mail that is merely bulk (a newsletter) is not an automatic reply."""

from __future__ import annotations

import pytest

from happydesk.inbox.models import Conversation, Message
from happydesk.inbox.services import reply_create
from happydesk.mail import outbound
from tests.helpers import customer_conversation, deliver_raw, make_email

pytestmark = pytest.mark.django_db

OOO = {"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"}


def _arrive(**fields) -> Message:  # type: ignore[no-untyped-def]
    raw = deliver_raw(make_email(**fields), envelope_to=[fields.get("to", "support@acme.test")])
    return Message.objects.get(raw=raw)


def test_an_out_of_office_answer_to_our_reply_is_filed_in_the_thread_and_wakes_nobody(
    mailbox, agent, smtp_sink
):
    conversation = customer_conversation(
        mailbox, address="casey@example.test", name="Casey", subject="Refund", text="Where is my refund?"
    )
    reply = reply_create(conversation=conversation, author=agent, text="It left today.")  # now pending
    outbound.send_due()
    reply.refresh_from_db()
    conversation.refresh_from_db()
    before = Conversation.objects.values(
        "status",
        "waiting_since",
        "last_customer_message_at",
        "last_activity_at",
        "preview",
        "priority_points",
    ).get(pk=conversation.pk)
    assert before["status"] == "pending"

    ooo = _arrive(
        sender="Casey <casey@example.test>",
        to=mailbox.reply_address(conversation.reply_token),
        subject="Automatic reply: Re: Refund",
        body="I am out of the office until Monday.",
        in_reply_to=f"<{reply.message_id}>",
        headers=OOO,
    )
    assert ooo.conversation_id == conversation.pk
    after = Conversation.objects.values(*before).get(pk=conversation.pk)
    assert after == before  # still pending, still waiting on the customer, preview and rank unchanged
    assert not conversation.messages.filter(kind=Message.Kind.EVENT, event__type="reopened").exists()
    assert len(smtp_sink.messages) == 1  # our reply only: no auto-reply to an auto-reply


def test_an_automatic_reply_that_answers_nothing_is_filed_closed_as_automated(mailbox):
    ooo = _arrive(
        sender="Sam <sam@example.test>",
        subject="Out of office: Your invoice",
        body="Ich bin bis 12.12. nicht im Büro.",
        headers=OOO,
    )
    conversation = ooo.conversation
    assert conversation.status == "closed"
    assert list(conversation.tags.values_list("name", flat=True)) == ["automated"]
    assert not Conversation.objects.filter(status="active").exists()


@pytest.mark.parametrize(
    ("headers", "subject"),
    [
        ({}, "Abwesenheitsnotiz: Rechnung"),
        ({"Precedence": "auto_reply"}, "Away"),
        ({"X-Autorespond": "1"}, "Hi"),
    ],
)
def test_automatic_replies_are_known_by_their_headers_or_subject(mailbox, headers, subject):
    assert (
        _arrive(sender="sam@example.test", subject=subject, headers=headers).conversation.status == "closed"
    )


def test_a_newsletter_is_not_an_automatic_reply_and_still_reaches_the_inbox(mailbox):
    news = _arrive(
        sender="news@vendor.example",
        subject="Our December release",
        headers={"List-Id": "<news.vendor.example>", "List-Unsubscribe": "<mailto:u@vendor.example>"},
    )
    assert news.conversation.status == "active"
