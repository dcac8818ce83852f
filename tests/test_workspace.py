"""Workspace basics: tags, snooze and its waking, the handoff line, the call suggestion."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from happydesk.accounts.services import agent_create
from happydesk.inbox import selectors
from happydesk.inbox.models import Conversation
from happydesk.inbox.services import conversation_snooze, conversations_wake_due, reply_create
from tests.helpers import deliver

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(mailbox):
    mailbox.auto_reply_enabled = False
    mailbox.save()
    deliver(message_id="<m1@example.test>")
    return Conversation.objects.get()


@pytest.fixture
def web(agent):
    c = Client()
    c.force_login(agent)
    return c


def test_tags_add_with_commas_and_remove(web, conversation):
    web.post(f"/c/{conversation.number}/tags/", {"name": "Refund, billing"})
    assert sorted(conversation.tags.values_list("name", flat=True)) == ["billing", "refund"]
    web.post(f"/c/{conversation.number}/tags/refund/remove/")
    assert list(conversation.tags.values_list("name", flat=True)) == ["billing"]
    assert b'<option value="billing">' in web.get(f"/c/{conversation.number}/").content


def test_snooze_hides_from_open_until_due_then_worker_wakes_it(web, conversation, agent):
    r = web.post(f"/c/{conversation.number}/snooze/", {"until": "tomorrow"})
    assert r.status_code == 302
    conversation.refresh_from_db()
    assert conversation.snoozed_until > timezone.now()
    assert not selectors.conversation_list(agent=agent, status="active").exists()
    assert list(selectors.conversation_list(agent=agent, status="snoozed")) == [conversation]
    assert selectors.status_counts(agent=agent)["snoozed"] == 1
    Conversation.objects.filter(pk=conversation.pk).update(
        snoozed_until=timezone.now() - timedelta(seconds=1)
    )
    assert conversations_wake_due() == 1
    conversation.refresh_from_db()
    assert conversation.snoozed_until is None and conversation.status == "active"
    assert conversation.messages.filter(kind="event", event__type="snooze_ended").exists()


def test_customer_message_wakes_a_snoozed_conversation(conversation, agent):
    conversation_snooze(conversation=conversation, actor=agent, until=timezone.now() + timedelta(days=2))
    deliver(message_id="<m2@example.test>", in_reply_to="<m1@example.test>", verified=True)
    conversation.refresh_from_db()
    assert conversation.snoozed_until is None


def test_send_and_snooze_in_one_action(web, conversation):
    r = web.post(
        f"/c/{conversation.number}/reply/", {"text": "Let's check again Monday.", "then": "snooze:monday"}
    )
    assert r.status_code == 302 and r["Location"] == "/inbox/"
    conversation.refresh_from_db()
    assert conversation.snoozed_until is not None and conversation.snoozed_until.weekday() == 0
    assert conversation.messages.filter(kind="reply").count() == 1


def test_handoff_line_when_someone_else_replied_last(conversation, agent):
    sam = agent_create(email="sam@acme.test", name="Sam Smith", password="long-password")
    assert selectors.handoff_line(conversation, sam) == ""
    reply_create(conversation=conversation, author=agent, text="First answer")
    assert selectors.handoff_line(conversation, agent) == ""
    assert selectors.handoff_line(conversation, sam) == "Hi Casey, it's Sam here, picking this up from Alex."
    reply_create(conversation=conversation, author=sam, text="Second answer")
    for who in (agent, sam):  # the page passes its loaded thread: the same answer without a query
        thread = selectors.thread(conversation)
        assert selectors.handoff_line(conversation, who, thread) == selectors.handoff_line(conversation, who)
    assert selectors.handoff_line(conversation, sam) == ""
    assert (
        selectors.handoff_line(conversation, agent) == "Hi Casey, it's Alex here, picking this up from Sam."
    )
    c = Client()
    c.force_login(agent)
    assert b"picking this up from Sam" in c.get(f"/c/{conversation.number}/").content


def test_call_suggestion_after_three_exchanges(web, conversation, agent, mailbox):
    mailbox.call_link = "https://cal.acme.test/support"
    mailbox.save()
    for i in range(3):
        reply_create(conversation=conversation, author=agent, text=f"Try this {i}")
        deliver(
            message_id=f"<f{i}@example.test>",
            in_reply_to="<m1@example.test>",
            body="Still broken.\n",
            verified=True,
        )
    assert selectors.exchanges_without_resolution(conversation) == 3
    assert selectors.exchanges_without_resolution(conversation, selectors.thread(conversation)) == 3
    body = web.get(f"/c/{conversation.number}/").content.decode()
    assert "3 back-and-forths" in body and "https://cal.acme.test/support" in body
    # Closed after the second exchange: only the last one counts, from the loaded thread too.
    thread = selectors.thread(conversation)
    conversation.resolved_at = [m for m in thread if m.kind == "reply"][1].created_at
    assert selectors.exchanges_without_resolution(conversation) == 1
    assert selectors.exchanges_without_resolution(conversation, thread) == 1
