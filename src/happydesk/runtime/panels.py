"""Every feature panel on the conversation page, in one table (inbox/panels.py says what each slot is).
The inbox page includes these templates in this order; nothing else adds to the page. To find what a
feature shows beside a conversation, read this file. tests/runtime/test_panels.py pins it."""

from __future__ import annotations

from happydesk.inbox import panels

PANELS: panels.Table = {
    "composer": ("replies/_saved_reply_picker.html",),
    "message_actions": ("kb/_article_from_reply.html",),
    "sidebar": ("community/_conversation_ideas.html", "feedback/_past_ratings.html"),
}
