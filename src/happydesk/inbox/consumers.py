"""Websocket consumers for presence: who is viewing or replying, on a conversation and in the list.

Every consumer announces its own state; a newcomer asks the group who is there ("roll call") and each
consumer answers (a list asks every conversation consumer), so no shared store is needed: with the
in-memory layer this works inside one serving process, with REDIS_URL (channels-redis) across processes
and hosts (tests/e2e/test_scale_out.py: two web processes).
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404

from happydesk.accounts.models import User
from happydesk.inbox import realtime
from happydesk.inbox.access import access_conversation_for_agent, conversations_for_agent


def may_see(user: User, number: int) -> bool:
    """Whether the agent may still see this conversation, read fresh (role, active, security flag may
    have changed since the socket opened): presence of a conversation is news about it."""
    fresh = User.objects.filter(pk=user.pk).first()
    return fresh is not None and conversations_for_agent(fresh).filter(pk=number).exists()


class ConversationPresenceConsumer(AsyncJsonWebsocketConsumer):
    """/ws/conversations/<number>/: join, say viewing/replying, learn who else is here."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.number = int(self.scope["url_route"]["kwargs"]["number"])
        try:
            await database_sync_to_async(access_conversation_for_agent)(user, self.number)
        except Http404:
            await self.close(code=4404)
            return
        self.user = user
        self.state: realtime.PresenceState = "viewing"
        self.group = realtime.conversation_group(self.number)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.channel_layer.group_add(realtime.ROLL_GROUP, self.channel_name)
        await self.channel_layer.group_add(realtime.agent_group(user.pk), self.channel_name)
        await self.accept()
        await self._announce()
        await self.channel_layer.group_send(self.group, {"type": "roll.call", "reply_to": self.channel_name})

    async def disconnect(self, code: int) -> None:
        if getattr(self, "user", None) is None:
            return
        self.state = "left"
        await self._announce()
        await self.channel_layer.group_discard(self.group, self.channel_name)
        await self.channel_layer.group_discard(realtime.ROLL_GROUP, self.channel_name)
        await self.channel_layer.group_discard(realtime.agent_group(self.user.pk), self.channel_name)

    async def receive_json(self, content: dict[str, Any], **kwargs: Any) -> None:
        state = content.get("state")
        if state in ("viewing", "replying") and state != self.state:
            self.state = state
            await self._announce()

    def _event(self) -> dict:
        return realtime.presence(
            number=self.number, agent_id=self.user.pk, name=self.user.name, state=self.state
        )

    async def _announce(self) -> None:
        message = {"type": "presence.event", "event": self._event()}
        await self.channel_layer.group_send(self.group, message)
        await self.channel_layer.group_send(realtime.INBOX_GROUP, message)

    async def roll_call(self, message: dict) -> None:
        if message["reply_to"] != self.channel_name:
            await self.channel_layer.send(
                message["reply_to"], {"type": "presence.event", "event": self._event()}
            )

    async def presence_event(self, message: dict) -> None:
        event = message["event"]
        if event["agent_id"] != self.user.pk and await database_sync_to_async(may_see)(
            self.user, event["number"]
        ):
            await self.send_json(event)

    async def conversation_changed(self, message: dict) -> None:
        """A conversation changed (the live inbox): passed on only if this agent may see it."""
        event = message["event"]
        if await database_sync_to_async(may_see)(self.user, event["number"]):
            await self.send_json(event)

    async def agent_notice(self, message: dict) -> None:
        """Assigned, mentioned, or a new conversation: passed on only if this agent may see it."""
        event = message["event"]
        if await database_sync_to_async(may_see)(self.user, event["number"]):
            await self.send_json(event)


class InboxPresenceConsumer(AsyncJsonWebsocketConsumer):
    """/ws/inbox/: presence of everyone on any conversation, for the list."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.user = user
        await self.channel_layer.group_add(realtime.INBOX_GROUP, self.channel_name)
        await self.channel_layer.group_add(realtime.agent_group(user.pk), self.channel_name)
        await self.accept()
        # Everyone already on a conversation answers, so the list shows them from the start.
        await self.channel_layer.group_send(
            realtime.ROLL_GROUP, {"type": "roll.call", "reply_to": self.channel_name}
        )

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(realtime.INBOX_GROUP, self.channel_name)
        if getattr(self, "user", None) is not None:
            await self.channel_layer.group_discard(realtime.agent_group(self.user.pk), self.channel_name)

    async def roll_call(self, message: dict) -> None:
        """The list asks; only conversation consumers answer."""

    async def presence_event(self, message: dict) -> None:
        event = message["event"]
        if event["agent_id"] != self.user.pk and await database_sync_to_async(may_see)(
            self.user, event["number"]
        ):
            await self.send_json(event)

    async def conversation_changed(self, message: dict) -> None:
        """A conversation changed (the live inbox): passed on only if this agent may see it."""
        event = message["event"]
        if await database_sync_to_async(may_see)(self.user, event["number"]):
            await self.send_json(event)

    async def agent_notice(self, message: dict) -> None:
        """Assigned, mentioned, or a new conversation: passed on only if this agent may see it."""
        event = message["event"]
        if await database_sync_to_async(may_see)(self.user, event["number"]):
            await self.send_json(event)
