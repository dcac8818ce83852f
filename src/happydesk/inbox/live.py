"""The live inbox: after a change commits, tell every open inbox list and the conversation's open pages
(`realtime.conversation_changed`). A receiver of the core's events (runtime/receivers.py).

The push goes through the channel layer: in-memory inside one process, Redis across processes
(REDIS_URL). Worker processes that `happydesk serve` starts without Redis hand it to the serving
process over a local socket (HAPPYDESK_REALTIME_RELAY, runtime/relay.py), which sends it on.
Pages run on threads of the serving process (asgi.py), where the in-memory layer's queues belong to the
event loop: a push from a page thread is handed to that loop (`on_serving_loop` marks it).
A push that cannot be delivered is dropped: pages also show the truth on their next load.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from happydesk.inbox import events, realtime

log = logging.getLogger(__name__)

# The event loop serving the request this code runs for; a2wsgi copies it into the page thread's context.
_serving_loop: contextvars.ContextVar[asyncio.AbstractEventLoop | None] = contextvars.ContextVar(
    "serving_loop", default=None
)

ASGIApp = Callable[[dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]


def on_serving_loop(app: ASGIApp) -> ASGIApp:
    """Wrap the served ASGI application so sync code it runs knows which loop to push on."""

    async def serving(scope: dict, receive: Any, send: Any) -> None:
        _serving_loop.set(asyncio.get_running_loop())
        await app(scope, receive, send)

    return serving


def changes(event: events.Event) -> list[tuple[int, realtime.ConversationChange]]:
    """Which conversations an event changed, and how (what the pages hear)."""
    match event:
        case events.MessageReceived(conversation_id=number):
            return [(number, "message")]
        case events.ReplyCreated(conversation_id=number):
            return [(number, "reply")]
        case events.NoteAdded(conversation_id=number):
            return [(number, "note")]
        case events.StatusChanged(conversation_id=number):
            return [(number, "status")]
        case events.AssigneeChanged(conversation_id=number):
            return [(number, "assignee")]
        case events.TagsChanged(conversation_id=number):
            return [(number, "tags")]
        case events.ConversationsMerged(source_id=source, target_id=target):
            return [(source, "merged"), (target, "merged")]
        case events.MessageSplit(source_id=source, new_id=new):
            return [(source, "split"), (new, "split")]
    return []


def push(event: events.Event) -> None:
    for number, change in changes(event):
        message = {
            "type": "conversation.changed",
            "event": realtime.conversation_changed(number=number, change=change),
        }
        for group in (realtime.INBOX_GROUP, realtime.conversation_group(number)):
            group_send(group, message)


def notices(event: events.Event) -> list[tuple[str, dict]]:
    """Who hears of an event by name, and what they read (group, notice): the new owner of a
    conversation (not when they took it themselves), each agent mentioned in a note, and every open
    inbox list for a new conversation. The consumers pass a notice on only to agents who may see it."""
    from happydesk.accounts.models import User
    from happydesk.inbox.models import Conversation

    def about(number: int) -> Conversation | None:
        return Conversation.objects.select_related("customer").filter(pk=number).first()

    def name(agent_id: int | None) -> str:
        found = User.objects.filter(pk=agent_id).values_list("name", flat=True).first() if agent_id else None
        return found or "Happydesk"

    match event:
        case events.AssigneeChanged(conversation_id=number, actor_id=actor, assignee_id=assignee):
            c = about(number)
            if assignee is None or assignee == actor or c is None:
                return []
            title = f"{name(actor)} assigned you #{number}"
            return [
                (
                    realtime.agent_group(assignee),
                    realtime.notice(kind="assigned", number=number, title=title, text=c.subject),
                )
            ]
        case events.NoteAdded(conversation_id=number, author_id=author, mentioned_ids=mentioned):
            c = about(number) if mentioned else None
            if c is None:
                return []
            title = f"{name(author)} mentioned you in #{number}"
            shown = realtime.notice(kind="mention", number=number, title=title, text=c.subject)
            return [(realtime.agent_group(agent_id), shown) for agent_id in mentioned if agent_id != author]
        case events.MessageReceived(conversation_id=number, opened=True):
            c = about(number)
            if c is None:
                return []
            who = c.customer.name or c.customer.primary_email
            shown = realtime.notice(
                kind="new", number=number, title=f"New conversation #{number}", text=f"{who}: {c.subject}"
            )
            return [(realtime.INBOX_GROUP, shown)]
    return []


def notify(event: events.Event) -> None:
    """Tell the agents an event names (notices), on their open pages."""
    for group, shown in notices(event):
        group_send(group, {"type": "agent.notice", "event": shown})


def group_send(group: str, message: dict) -> None:
    relay = getattr(settings, "HAPPYDESK_REALTIME_RELAY", "")
    if relay:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(json.dumps({"group": group, "message": message}).encode(), relay)
        except OSError as exc:  # the serving process is gone or restarting: pages catch up on load
            log.info("realtime relay %s unavailable: %s", relay, exc)
        return
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is not None:  # sync code called on an event loop's own thread (a script driving one)
        loop.create_task(layer.group_send(group, message))
        return
    serving = _serving_loop.get()
    if serving is None or serving.is_closed():  # a worker's thread, or a view under Django's ASGI handler
        async_to_sync(layer.group_send)(group, message)
        return
    # A page thread of `happydesk serve`: send on the serving loop, in order, without waiting long.
    future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), serving)
    try:
        future.result(timeout=2)
    except Exception as exc:  # noqa: BLE001 - a timeout or a layer error: a push never fails a page
        log.info("realtime push to %s not sent: %r", group, exc)
