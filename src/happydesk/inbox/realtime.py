"""Realtime event shapes, in one place: what the websocket consumers send to pages.

presence      {"type": "presence", "number": int, "agent_id": int, "name": str,
               "state": "viewing"|"replying"|"left"}
conversation  {"type": "conversation", "number": int, "change": ConversationChange}
              something changed in conversation `number`; the page fetches its own fresh view of it
              (the inbox list's rows and counts, or the conversation's header and thread), so what it
              shows is what a reload would show, with the agent's own permissions and filters.
"""

from __future__ import annotations

from typing import Literal

PresenceState = Literal["viewing", "replying", "left"]
ConversationChange = Literal["message", "reply", "note", "status", "assignee", "tags", "merged", "split"]
INBOX_GROUP = "inbox"
ROLL_GROUP = "presence-roll"  # every conversation consumer: a list opened later asks here who is where


def conversation_group(number: int) -> str:
    return f"conversation-{number}"


def presence(*, number: int, agent_id: int, name: str, state: PresenceState) -> dict:
    return {"type": "presence", "number": number, "agent_id": agent_id, "name": name, "state": state}


def conversation_changed(*, number: int, change: ConversationChange) -> dict:
    return {"type": "conversation", "number": number, "change": change}
