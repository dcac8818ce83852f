"""The saved-reply picker, a panel of the conversation page (runtime/panels.py)."""

from __future__ import annotations

from django import template

from happydesk.replies.services import saved_replies_for

register = template.Library()


@register.inclusion_tag("replies/_saved_reply_picker_inner.html", takes_context=True)
def saved_reply_picker(context: template.Context) -> dict:
    """The saved replies this conversation's mailbox offers, for the composer's picker."""
    conversation = context.get("c")
    return {
        "c": conversation,
        "saved_replies": list(saved_replies_for(conversation)) if conversation is not None else [],
    }
