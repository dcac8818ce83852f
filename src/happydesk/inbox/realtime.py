"""Realtime event shapes, in one place: what the websocket consumers send to pages.

presence   {"type": "presence", "number": int, "agent_id": int, "name": str, "state": "viewing"|"replying"|"left"}
"""

from __future__ import annotations

from typing import Literal

PresenceState = Literal["viewing", "replying", "left"]
INBOX_GROUP = "inbox"
ROLL_GROUP = "presence-roll"  # every conversation consumer: a list opened later asks here who is where


def conversation_group(number: int) -> str:
    return f"conversation-{number}"


def presence(*, number: int, agent_id: int, name: str, state: PresenceState) -> dict:
    return {"type": "presence", "number": number, "agent_id": agent_id, "name": name, "state": state}
