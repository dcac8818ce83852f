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
    r = c.post(f"/c/{b.number}/merge/", {"into": f"#{a.number}"})  # first: both, side by side
    page = r.content.decode()
    assert r.status_code == 200 and "Merge these two conversations?" in page
    assert f"#{b.number} Two" in page and f"#{a.number} One" in page
    assert not Conversation.objects.get(pk=b.pk).merged_into_id  # nothing merged yet
    r = c.post(f"/c/{b.number}/merge/", {"into": a.number, "confirm": "yes"})
    assert r["Location"] == f"/c/{a.number}/"
    moved = a.messages.filter(kind="customer").last()
    r = c.post(f"/c/{a.number}/messages/{moved.pk}/split/")
    new_number = int(r["Location"].strip("/").split("/")[-1])
    assert Conversation.objects.get(pk=new_number).messages.filter(pk=moved.pk).exists()
    assert (
        c.post(f"/c/{a.number}/merge/", {"into": a.number, "confirm": "yes"}, follow=True).status_code == 200
    )


def test_a_merge_is_undone_from_the_page_and_everything_goes_back(agent):
    from happydesk.inbox.models import Message

    a = deliver(subject="Invoice", message_id="<i1@example.test>", body="Wrong VAT.\n")
    b = deliver(
        subject="Login",
        message_id="<l1@example.test>",
        sender="Casey <casey@work.test>",
        body="Locked out.\n",
    )
    b.tags.create(name="login")
    reply_create(conversation=b, author=agent, text="Unlocked you.", status="pending")
    before_a = (list(a.messages.values_list("pk", flat=True)), sorted(a.cc))
    before_b = list(b.messages.values_list("pk", flat=True))
    c = Client()
    c.force_login(agent)
    c.post(f"/c/{b.number}/merge/", {"into": a.number, "confirm": "yes"})
    page = c.get(f"/c/{a.number}/").content.decode()
    assert "Undo merge" in page
    line = a.messages.get(kind="event", event__type="merged")
    # Mail that arrives after the merge, through b's thread, stays with a.
    deliver(
        subject="Re: Login",
        sender="Casey <casey@work.test>",
        in_reply_to="<l1@example.test>",
        body="Thanks!\n",
    )
    late = a.messages.filter(kind="customer").latest("id")

    r = c.post(f"/c/{a.number}/merge/{line.pk}/undo/")
    assert r["Location"] == f"/c/{b.number}/"
    a.refresh_from_db()
    b.refresh_from_db()
    assert (
        b.merged_into_id is None
        and b.status == "pending"
        and list(b.tags.values_list("name", flat=True)) == ["login"]
    )
    assert set(before_b) <= set(b.messages.values_list("pk", flat=True))
    assert set(a.messages.exclude(kind="event").values_list("pk", flat=True)) == {
        *Message.objects.filter(pk__in=before_a[0]).exclude(kind="event").values_list("pk", flat=True),
        late.pk,
    }
    assert sorted(a.cc) == before_a[1] and not a.tags.exists()
    assert a.message_count == 2 and b.message_count == 2
    assert [h.conversation_id for h in engine().search("locked", limit=5)] == [b.pk]
    assert "Undo merge" not in c.get(f"/c/{a.number}/").content.decode()
    assert c.post(f"/c/{a.number}/merge/{line.pk}/undo/").status_code == 302  # twice: refused, nothing moves
    b.refresh_from_db()
    assert b.merged_into_id is None


def test_a_merge_can_no_longer_be_undone_after_the_window(agent):
    from datetime import timedelta

    from happydesk.inbox.models import Message
    from happydesk.inbox.services import MERGE_UNDO_WINDOW, conversation_merge_undo

    a = deliver(subject="One", message_id="<w1@example.test>")
    b = deliver(subject="Two", message_id="<w2@example.test>")
    conversation_merge(source=b, target=a, actor=agent)
    line = a.messages.get(kind="event", event__type="merged")
    Message.objects.filter(pk=line.pk).update(
        created_at=line.created_at - MERGE_UNDO_WINDOW - timedelta(minutes=1)
    )
    with pytest.raises(ValueError):
        conversation_merge_undo(target=a, line=Message.objects.get(pk=line.pk), actor=agent)
