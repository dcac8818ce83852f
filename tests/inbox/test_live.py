"""The live inbox: every change the core announces reaches open lists and conversation pages as one
realtime shape, only for agents who may see the conversation; the page's refresh equals a fresh fetch."""

from __future__ import annotations

import re

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from happydesk.accounts.services import agent_create
from happydesk.inbox import events, live, realtime
from happydesk.inbox.services import (
    conversation_assign,
    conversation_merge,
    conversation_set_status,
    conversation_tag,
    note_add,
    reply_create,
)
from tests.helpers import customer_conversation

pytestmark = pytest.mark.django_db


def test_every_conversation_event_has_its_shape():
    assert live.changes(events.MessageReceived(4, 9)) == [(4, "message")]
    assert live.changes(events.ReplyCreated(4, 9, 1)) == [(4, "reply")]
    assert live.changes(events.NoteAdded(4, 9, 1)) == [(4, "note")]
    assert live.changes(events.StatusChanged(4, 1, "active", "closed")) == [(4, "status")]
    assert live.changes(events.AssigneeChanged(4, 1, 2)) == [(4, "assignee")]
    assert live.changes(events.TagsChanged(4, ("vip",))) == [(4, "tags")]
    assert live.changes(events.ConversationsMerged(4, 5, 1)) == [(4, "merged"), (5, "merged")]
    assert live.changes(events.MessageSplit(4, 6, 1)) == [(4, "split"), (6, "split")]
    assert live.changes(events.SecurityFlagged(4, 1)) == []  # says nothing a page could show


def _rows_of(full_page: str) -> str:
    return re.search(r'<div id="rows">(.*?)</div>\s*</form>', full_page, re.S).group(1)


def test_the_lists_live_refresh_is_what_a_fresh_fetch_shows(mailbox, agent):
    """The list's state after each change, as the page applies it (its rows and counts, fetched as the
    live script does), equals the same region of a fresh load of the same page."""
    web = Client()
    web.force_login(agent)
    other = agent_create(email="sam@acme.test", name="Sam Full", role="agent")
    a = customer_conversation(mailbox, address="a@example.test", name="Ann", subject="Refund", text="Please")
    b = customer_conversation(mailbox, address="b@example.test", name="Bo", subject="Login", text="Broken")
    steps = [
        lambda: reply_create(conversation=a, author=other, text="On it."),
        lambda: note_add(conversation=b, author=other, text="@alex look"),
        lambda: conversation_set_status(conversation=b, actor=other, status="closed"),
        lambda: conversation_assign(conversation=a, assignee=agent, actor=other),
        lambda: conversation_tag(conversation=a, names=["refund"]),
        lambda: customer_conversation(mailbox, address="c@example.test", name="Cy", subject="New", text="Hi"),
        lambda: conversation_merge(source=b, target=a, actor=other),
    ]
    applied = []
    for step in steps:
        step()
        for url in ("/inbox/", "/inbox/?status=all", "/inbox/?status=closed"):
            live_rows = web.get(url, HTTP_HX_REQUEST="true").content.decode()
            fresh = web.get(url).content.decode()
            assert live_rows.strip() == _rows_of(fresh).strip(), (step, url)
            counts = re.search(r'<script id="live-counts" type="application/json">(.*?)</script>', live_rows)
            applied.append(counts.group(1))
    # Counts move with the changes: closing Bo's empties Open, Cy's new message fills it again.
    assert '"active": 0' in applied[2 * 3] and '"active": 1' in applied[5 * 3]


async def _socket(path: str, user):  # type: ignore[no-untyped-def]
    from channels.routing import URLRouter
    from channels.testing.websocket import WebsocketCommunicator

    from happydesk.routing import websocket_urlpatterns

    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), path)
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def _changes(communicator, *, quiet: float = 0.4) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    frames = []
    while not await communicator.receive_nothing(timeout=quiet):
        frame = await communicator.receive_json_from(timeout=1)
        if frame["type"] == "conversation":
            frames.append((frame["number"], frame["change"]))
    return frames


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_changes_reach_open_lists_and_pages_and_never_a_light_agent_on_a_report(mailbox, agent):
    light = await sync_to_async(agent_create)(email="lee@acme.test", name="Lee Light", role="light")
    sam = await sync_to_async(agent_create)(email="sam@acme.test", name="Sam Full", role="agent")
    make = sync_to_async(customer_conversation)
    a = await make(mailbox, address="a@example.test", name="Ann", subject="Refund", text="Please")
    report = await make(mailbox, address="r@example.test", name="Rex", subject="Bug", text="XSS in search")
    assert await sync_to_async(lambda: report.security_flag.active)()
    full_list = await _socket("/ws/inbox/", agent)
    light_list = await _socket("/ws/inbox/", light)
    page = await _socket(f"/ws/conversations/{a.number}/", agent)
    await sync_to_async(reply_create)(conversation=a, author=sam, text="On it.")
    await sync_to_async(conversation_tag)(conversation=a, names=["refund"])
    await sync_to_async(note_add)(conversation=report, author=sam, text="Looking at the XSS")
    await make(mailbox, address="r@example.test", name="Rex", subject="Bug 2", text="And the exploit")
    await sync_to_async(conversation_set_status)(conversation=a, actor=sam, status="closed")
    full = await _changes(full_list)
    assert (a.number, "reply") in full and (a.number, "tags") in full and (a.number, "status") in full
    assert (report.number, "note") in full
    # The reply also set it pending (a status change of its own); closing is the second.
    assert await _changes(page) == [(a.number, c) for c in ("reply", "status", "tags", "status")]
    light_heard = await _changes(light_list, quiet=1.0)
    assert all(number != report.number for number, _ in light_heard)  # not a word of the report
    assert (a.number, "reply") in light_heard
    # A page hears only its own conversation.
    page2 = await _socket(f"/ws/conversations/{a.number}/", agent)
    await sync_to_async(note_add)(conversation=report, author=sam, text="second look")
    await sync_to_async(conversation_set_status)(conversation=a, actor=sam, status="active")
    assert await _changes(page2) == [(a.number, "status")]
    for ws in (full_list, light_list, page, page2):
        await ws.disconnect()


def test_a_worker_without_redis_hands_its_pushes_to_the_serving_process(tmp_path, settings):
    """`happydesk serve`'s relay: a datagram from a worker process reaches the serving process's layer."""
    import asyncio

    from channels.layers import get_channel_layer

    from happydesk.runtime.relay import relay_start

    path = tmp_path / "run" / "realtime.sock"

    async def scenario() -> dict:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(realtime.INBOX_GROUP, channel)
        transport = await relay_start(path)
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        settings.HAPPYDESK_REALTIME_RELAY = str(path)
        await sync_to_async(live.push)(events.TagsChanged(7, ("vip",)))
        message = await asyncio.wait_for(layer.receive(channel), timeout=2)
        transport.close()
        return message

    message = asyncio.run(scenario())
    assert message == {
        "type": "conversation.changed",
        "event": {"type": "conversation", "number": 7, "change": "tags"},
    }


def test_a_push_from_a_page_thread_is_sent_on_the_serving_loop(settings):
    """asgi.py runs pages on a2wsgi's threads: a push made there is sent on the serving loop, so a socket
    waiting on the in-memory layer hears it at once, even when nothing else wakes the loop."""
    import asyncio
    import time

    from a2wsgi import WSGIMiddleware
    from channels.layers import get_channel_layer

    settings.HAPPYDESK_REALTIME_RELAY = ""

    def page(environ, start_response):  # type: ignore[no-untyped-def]
        live.push(events.TagsChanged(7, ("vip",)))
        time.sleep(2)  # the page is still working: only the push itself may wake the serving loop
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    app = live.on_serving_loop(WSGIMiddleware(page, workers=1))  # type: ignore[arg-type]

    async def scenario() -> tuple[dict, float]:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(realtime.INBOX_GROUP, channel)
        heard = asyncio.ensure_future(layer.receive(channel))
        sent: list[dict] = []
        scope = {"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": []}
        scope |= {"server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5), "http_version": "1.1"}

        async def receive() -> dict:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict) -> None:
            sent.append(message)

        request = asyncio.ensure_future(app(scope, receive, send))
        started = time.monotonic()
        message = await asyncio.wait_for(heard, timeout=5)
        took = time.monotonic() - started
        await request
        assert sent[0]["status"] == 200
        return message, took

    message, took = asyncio.run(scenario())
    assert message["event"] == {"type": "conversation", "number": 7, "change": "tags"}
    assert took < 1, f"the push took {took:.2f}s to reach the socket"
