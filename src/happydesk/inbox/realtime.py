"""Realtime event shapes, in one place: what the websocket consumers send to pages.

presence      {"type": "presence", "number": int, "agent_id": int, "name": str,
               "state": "viewing"|"replying"|"left"}
conversation  {"type": "conversation", "number": int, "change": ConversationChange}
              something changed in conversation `number`; the page fetches its own fresh view of it
              (the inbox list's rows and counts, or the conversation's header and thread), so what it
              shows is what a reload would show, with the agent's own permissions and filters.
notice        {"type": "notice", "kind": NoticeKind, "number": int, "title": str, "text": str}
              something for this agent to hear about: assigned to them or mentioned (sent to their own
              group, agent_group), or a new conversation (to every open inbox list). The page shows it
              in its notice area and, when the agent turned them on, as a desktop notification.
"""

from __future__ import annotations

from typing import Literal

PresenceState = Literal["viewing", "replying", "left"]
ConversationChange = Literal["message", "reply", "note", "status", "assignee", "tags", "merged", "split"]
NoticeKind = Literal["assigned", "mention", "new"]
INBOX_GROUP = "inbox"
ROLL_GROUP = "presence-roll"  # every conversation consumer: a list opened later asks here who is where


def conversation_group(number: int) -> str:
    return f"conversation-{number}"


def agent_group(agent_id: int) -> str:
    """Every open page of one agent (their inbox lists and conversation pages)."""
    return f"agent-{agent_id}"


def presence(*, number: int, agent_id: int, name: str, state: PresenceState) -> dict:
    return {"type": "presence", "number": number, "agent_id": agent_id, "name": name, "state": state}


def conversation_changed(*, number: int, change: ConversationChange) -> dict:
    return {"type": "conversation", "number": number, "change": change}


def notice(*, kind: NoticeKind, number: int, title: str, text: str) -> dict:
    return {"type": "notice", "kind": kind, "number": number, "title": title[:200], "text": text[:200]}
