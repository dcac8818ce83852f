"""Saved replies: rendering for a conversation, the send guard in every interface, usage reports."""

from __future__ import annotations

import pytest
from django.test import Client

from happydesk.accounts.services import token_create
from happydesk.inbox.models import Conversation, Message
from happydesk.inbox.placeholders import UnfilledPlaceholders
from happydesk.inbox.services import reply_create
from happydesk.mail.inbound import process_pending
from happydesk.mail.store import store_raw
from happydesk.replies.models import SavedReply
from happydesk.replies.services import most_used, saved_reply_save, saved_reply_use
from tests.helpers import make_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(mailbox):
    store_raw(make_email(), source="smtp", envelope_to=["support@acme.test"])
    process_pending()
    return Conversation.objects.get()


@pytest.fixture
def refund(agent):
    return saved_reply_save(
        name="Refund issued",
        body="Hi {{ customer.first_name }},\n\nI've refunded order [ORDER]. {{ agent.first_name }}, #{{ conversation.number }}",
        note="Only after the refund shows in the payment dashboard.",
        author=agent,
    )


def test_use_fills_placeholders_and_counts(conversation, agent, refund):
    text = saved_reply_use(saved_reply=refund, conversation=conversation, agent=agent)
    assert text.startswith("Hi Casey,")
    assert f"Alex, #{conversation.number}" in text
    assert "[ORDER]" in text  # left for the agent to fill
    assert most_used(at_least=1) == []  # inserted, not sent: no use yet
    reply_create(conversation=conversation, author=agent, text=text.replace("[ORDER]", "4411"))
    assert [(r.name, r.recent) for r in most_used(at_least=1)] == [("Refund issued", 1)]


def test_an_insertion_taken_out_again_or_never_sent_does_not_count(conversation, agent, refund):
    saved_reply_use(saved_reply=refund, conversation=conversation, agent=agent)
    reply_create(conversation=conversation, author=agent, text="Sorry, wrong answer: we are checking.")
    saved_reply_use(saved_reply=refund, conversation=conversation, agent=agent)  # draft abandoned
    assert most_used(at_least=1) == []


def test_reply_with_unfilled_placeholder_is_refused_and_nothing_is_stored(conversation, agent):
    with pytest.raises(UnfilledPlaceholders):
        reply_create(conversation=conversation, author=agent, text="Hi [NAME], done.")
    assert not Message.objects.filter(kind=Message.Kind.REPLY).exists()


def test_api_refuses_with_422(conversation, agent):
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(user=agent)}")
    r = api.post(
        f"/api/v1/conversations/{conversation.number}/replies",
        {"text": "Thanks from <COMPANY>"},
        content_type="application/json",
    )
    assert r.status_code == 422 and "<COMPANY>" in r.json()["detail"]


def test_page_refuses_keeps_the_draft_and_highlights(conversation, agent):
    c = Client()
    c.force_login(agent)
    r = c.post(f"/c/{conversation.number}/reply/", {"text": "Hi [NAME], your order <ORDER_ID> shipped."})
    assert r.status_code == 422
    body = r.content.decode()
    assert "<mark>[NAME]</mark>" in body and "<mark>&lt;ORDER_ID&gt;</mark>" in body
    assert "Hi [NAME], your order &lt;ORDER_ID&gt; shipped.</textarea>" in body
    assert not Message.objects.filter(kind=Message.Kind.REPLY).exists()


def test_insert_endpoint_is_scoped_to_the_conversation_mailbox(conversation, agent, refund):
    from happydesk.inbox.services import mailbox_create

    other = mailbox_create(address="billing@acme.test", name="Billing")
    billing_only = saved_reply_save(name="Invoice copy", body="Attached.", mailbox_id=other.pk)
    c = Client()
    c.force_login(agent)
    r = c.post(f"/c/{conversation.number}/saved-replies/{refund.pk}/")
    assert r.status_code == 200 and r.json()["note"].startswith("Only after")
    assert c.post(f"/c/{conversation.number}/saved-replies/{billing_only.pk}/").status_code == 404
    assert c.get(f"/c/{conversation.number}/saved-replies/{refund.pk}/").status_code == 405


def _send_through_the_page(client, conversation, saved) -> None:  # type: ignore[no-untyped-def]
    text = client.post(f"/c/{conversation.number}/saved-replies/{saved.pk}/").json()["text"]
    client.post(
        f"/c/{conversation.number}/reply/", {"text": text.replace("[ORDER]", "4411"), "then": "active"}
    )


def test_saved_replies_page_shows_fix_candidates_only_past_the_threshold(conversation, agent, refund):
    from happydesk.replies.services import FIX_THE_CAUSE_SENDS

    twice = saved_reply_save(name="Twice only", body="Thanks for waiting.", author=agent)
    c = Client()
    c.force_login(agent)
    for _ in range(2):
        _send_through_the_page(c, conversation, twice)
    for _ in range(FIX_THE_CAUSE_SENDS):
        _send_through_the_page(c, conversation, refund)
    c.post(f"/c/{conversation.number}/saved-replies/{refund.pk}/")  # inserted, then not sent
    body = c.get("/replies/").content.decode()
    fix_list = body.split('<ul class="fix-list">', 1)[1].split("</ul>", 1)[0]
    assert f"<strong>Refund issued</strong>: sent {FIX_THE_CAUSE_SENDS} times" in fix_list
    assert "Twice only" not in fix_list and "product fix" in body
    r = c.post(
        "/replies/new/",
        {"name": "Password reset", "kind": "reply", "body": "Hi {{ customer.first_name }}", "note": ""},
    )
    assert r.status_code == 302 and SavedReply.objects.filter(name="Password reset").exists()
