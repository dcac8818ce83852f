"""Every feature panel on the inbox's pages, in one table (inbox/panels.py says what each slot is). The
inbox list and the conversation page include these templates in this order; nothing else adds to them.
To find what a feature shows in the inbox, read this file. tests/runtime/test_panels.py pins it."""

from __future__ import annotations

from happydesk.inbox import panels

PANELS: panels.Table = {
    "list_top": ("mail/_inbound_held_panel.html", "status/_inbox_panel.html"),
    "composer": ("replies/_saved_reply_picker.html",),
    "message_actions": ("kb/_article_from_reply.html",),
    "sidebar": (
        "community/_conversation_ideas.html",
        "feedback/_past_ratings.html",
        "privacy/_customer_privacy.html",
    ),
}
