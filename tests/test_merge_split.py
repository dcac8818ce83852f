"""Merge two conversations, split a message off, and mail that still finds its way."""

from __future__ import annotations

import pytest
from django.test import Client

from happydesk.inbox.models import Conversation
from happydesk.inbox.services import conversation_merge, message_split, reply_create
from happydesk.mail.inbound import process_pending
from happydesk.mail.store import store_raw
from happydesk.search.engines import engine
from tests.helpers import as_verified, make_email

pytestmark = pytest.mark.django_db


def deliver(**kw) -> Conversation:
    """Casey's mail, verified by our trusted mail server (so their own Message-IDs thread)."""
    store_raw(
        as_verified(make_email(**kw)), source="http", envelope_to=kw.get("envelope", ["support@acme.test"])
    )
    process_pending()
    return Conversation.objects.latest("id")


@pytest.fixture(autouse=True)
def quiet(mailbox):
    mailbox.auto_reply_enabled = False
    mailbox.save()


def test_merge_combines_threads_in_time_order_and_redirects(agent):
    a = deliver(subject="Invoice wrong", message_id="<a1@example.test>", body="The VAT number is missing.\n")
    b = deliver(
        subject="Also the address",
        message_id="<b1@example.test>",
        sender="Casey <casey@work.test>",
        body="And the address is old.\n",
    )
    reply_create(conversation=a, author=agent, text="Fixing the VAT number.")
    target = conversation_merge(source=b, target=a, actor=agent)
    texts = [m.text.strip() for m in target.messages.exclude(kind="event").order_by("created_at", "id")]
    assert texts == ["The VAT number is missing.", "And the address is old.", "Fixing the VAT number."]
    b.refresh_from_db()
    assert b.merged_into == a and b.status == "closed"
    assert target.message_count == 3 and "casey@work.test" in target.cc
    assert [h.conversation_id for h in engine().search("address", limit=5)] == [a.pk]
    c = Client()
    c.force_login(agent)
    assert c.get(f"/c/{b.number}/")["Location"] == f"/c/{a.number}/"
    # A reply to the merged conversation's email lands in the target.
    deliver(subject="Re: Also the address", sender="Casey <casey@work.test>", in_reply_to="<b1@example.test>")
    assert Conversation.objects.count() == 2  # no new conversation: it followed the merge
    assert a.messages.filter(kind="customer").count() == 3


def test_split_moves_one_message_to_a_new_conversation(agent):
    a = deliver(subject="Two questions", message_id="<q1@example.test>", body="First: billing.\n")
    deliver(subject="Re: Two questions", in_reply_to="<q1@example.test>", body="Second: how do I export?\n")
    second = a.messages.filter(kind="customer").last()
    new = message_split(message=second, actor=agent)
    assert new.pk != a.pk and new.customer == a.customer
    assert [t.strip() for t in new.messages.filter(kind="customer").values_list("text", flat=True)] == [
        "Second: how do I export?"
    ]
    a.refresh_from_db()
    assert a.message_count == 1 and new.message_count == 1
    assert new.messages.filter(kind="event", event__type="split").exists()
    with pytest.raises(ValueError):
        message_split(message=new.messages.get(kind="event"), actor=agent)


def test_merge_and_split_from_the_page(agent):
    a = deliver(subject="One", message_id="<o1@example.test>")
    b = deliver(subject="Two", message_id="<t1@example.test>")
    c = Client()
    c.force_login(agent)
    r = c.post(f"/c/{b.number}/merge/", {"into": f"#{a.number}"})
    assert r["Location"] == f"/c/{a.number}/"
    moved = a.messages.filter(kind="customer").last()
    r = c.post(f"/c/{a.number}/messages/{moved.pk}/split/")
    new_number = int(r["Location"].strip("/").split("/")[-1])
    assert Conversation.objects.get(pk=new_number).messages.filter(pk=moved.pk).exists()
    assert c.post(f"/c/{a.number}/merge/", {"into": a.number}, follow=True).status_code == 200
