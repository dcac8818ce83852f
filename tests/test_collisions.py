"""Collisions and drafts: presence over websockets, the send guard, server-side drafts."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing.websocket import WebsocketCommunicator
from django.test import Client

from happydesk.accounts.services import agent_create
from happydesk.inbox.models import Conversation, Draft, Message
from happydesk.inbox.services import NewActivity, draft_save, note_add, reply_create
from happydesk.routing import websocket_urlpatterns
from tests.helpers import deliver


@pytest.fixture
def conversation(mailbox):
    mailbox.auto_reply_enabled = False
    mailbox.save()
    deliver(message_id="<m1@example.test>", verified=True)
    return Conversation.objects.get()


@pytest.mark.django_db
def test_send_guard_refuses_when_the_customer_wrote_meanwhile(conversation, agent):
    seen = conversation.messages.latest("id").pk
    deliver(
        message_id="<m2@example.test>",
        in_reply_to="<m1@example.test>",
        body="Actually, it arrived!\n",
        verified=True,
    )
    with pytest.raises(NewActivity) as exc:
        reply_create(conversation=conversation, author=agent, text="Checking now", seen_message_id=seen)
    assert [m.text.strip() for m in exc.value.messages] == ["Actually, it arrived!"]
    latest = conversation.messages.latest("id").pk
    reply_create(conversation=conversation, author=agent, text="Great!", seen_message_id=latest)


@pytest.mark.django_db
def test_two_agents_cannot_both_send_a_first_reply_unknowingly(conversation, agent):
    sam = agent_create(email="sam@acme.test", name="Sam", password="long-password")
    seen = conversation.messages.latest("id").pk  # both opened the conversation now
    reply_create(conversation=conversation, author=agent, text="Alex answers", seen_message_id=seen)
    with pytest.raises(NewActivity):
        reply_create(conversation=conversation, author=sam, text="Sam answers too", seen_message_id=seen)
    assert conversation.messages.filter(kind="reply").count() == 1
    seen_by_sam = conversation.messages.latest("id").pk  # Sam reloads and sees Alex's reply
    note_add(conversation=conversation, author=sam, text="my own note does not block me")
    reply_create(
        conversation=conversation, author=sam, text="Adding to Alex's answer", seen_message_id=seen_by_sam
    )


@pytest.mark.django_db
def test_page_send_guard_shows_new_messages_and_sends_on_confirm(conversation, agent):
    c = Client()
    c.force_login(agent)
    seen = conversation.messages.latest("id").pk
    deliver(
        message_id="<m2@example.test>",
        in_reply_to="<m1@example.test>",
        body="Never mind, found it.\n",
        verified=True,
    )
    r = c.post(f"/c/{conversation.number}/reply/", {"text": "Let me look", "seen": seen})
    assert r.status_code == 409
    body = r.content.decode()
    assert "is-new" in body and "Send anyway" in body and "Let me look</textarea>" in body
    assert not Message.objects.filter(kind="reply").exists()
    new_seen = conversation.messages.latest("id").pk
    r = c.post(f"/c/{conversation.number}/reply/", {"text": "Let me look", "seen": new_seen})
    assert r.status_code == 302 and Message.objects.filter(kind="reply").count() == 1


@pytest.mark.django_db
def test_drafts_are_saved_restored_and_discarded_on_send(conversation, agent):
    c = Client()
    c.force_login(agent)
    assert c.post(f"/c/{conversation.number}/draft/", {"text": "Half-written answer"}).status_code == 204
    other_device = Client()
    other_device.force_login(agent)
    assert "Half-written answer</textarea>" in other_device.get(f"/c/{conversation.number}/").content.decode()
    c.post(f"/c/{conversation.number}/reply/", {"text": "Full answer"})
    assert not Draft.objects.exists()
    draft_save(conversation=conversation, agent=agent, text="x")
    draft_save(conversation=conversation, agent=agent, text="  ")
    assert not Draft.objects.exists()


async def _connect(path: str, user) -> WebsocketCommunicator:  # type: ignore[no-untyped-def]
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), path)
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    return communicator


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_presence_between_two_agents_and_in_the_list(conversation, agent):
    sam = await sync_to_async(agent_create)(email="sam@acme.test", name="Sam Smith", password="long-password")
    path = f"/ws/conversations/{conversation.number}/"
    inbox = await _connect("/ws/inbox/", agent)
    alex = await _connect(path, agent)
    sam_ws = await _connect(path, sam)
    # Alex hears Sam arrive; Sam learns Alex was already there (roll call).
    assert (await alex.receive_json_from(timeout=1))["name"] == "Sam Smith"
    assert (await sam_ws.receive_json_from(timeout=1))["name"] == "Alex Agent"
    assert (await inbox.receive_json_from(timeout=1)) == {
        "type": "presence",
        "number": conversation.number,
        "agent_id": sam.pk,
        "name": "Sam Smith",
        "state": "viewing",
    }
    await sam_ws.send_json_to({"state": "replying"})
    assert (await alex.receive_json_from(timeout=1))["state"] == "replying"
    await sam_ws.disconnect()
    assert (await alex.receive_json_from(timeout=1))["state"] == "left"
    for ws in (alex, inbox):
        await ws.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_list_opened_later_shows_who_is_already_on_a_conversation(conversation, agent):
    sam = await sync_to_async(agent_create)(email="sam@acme.test", name="Sam Smith", password="long-password")
    sam_ws = await _connect(f"/ws/conversations/{conversation.number}/", sam)
    await sam_ws.send_json_to({"state": "replying"})
    inbox = await _connect("/ws/inbox/", agent)
    event = await inbox.receive_json_from(timeout=1)
    assert (event["name"], event["number"], event["state"]) == ("Sam Smith", conversation.number, "replying")
    for ws in (sam_ws, inbox):
        await ws.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_presence_refuses_strangers_and_unknown_conversations(conversation, agent):
    from django.contrib.auth.models import AnonymousUser

    communicator = WebsocketCommunicator(
        URLRouter(websocket_urlpatterns), f"/ws/conversations/{conversation.number}/"
    )
    communicator.scope["user"] = AnonymousUser()
    connected, code = await communicator.connect()
    assert not connected and code == 4401
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/conversations/99999/")
    communicator.scope["user"] = agent
    connected, code = await communicator.connect()
    assert not connected and code == 4404
