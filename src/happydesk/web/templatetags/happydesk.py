"""Template helpers for the agent pages."""

from __future__ import annotations

import re

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from happydesk.inbox.models import Message

register = template.Library()

CID = re.compile(r"""(["'])cid:([^"']+)\1""")


@register.filter
def html_with_inline_images(message: Message) -> str:
    """The sanitized HTML with `cid:` references pointed at the stored inline attachments."""
    by_cid = {a.content_id.strip("<>"): a for a in message.attachments.all() if a.content_id}

    def swap(match: re.Match[str]) -> str:
        att = by_cid.get(match.group(2).strip("<>"))
        if att is None:
            return match.group(0)
        url = reverse("attachment", args=[message.conversation_id, att.pk])
        return f"{match.group(1)}{url}{match.group(1)}"

    return CID.sub(swap, message.html or "")


@register.filter
def srcdoc(html: str) -> str:
    """Escape HTML for an iframe srcdoc attribute (rendered in a sandbox with no scripts)."""
    head = '<base target="_blank"><style>body{font-family:system-ui,sans-serif;font-size:14px;color:#1f2328;margin:0}img{max-width:100%;height:auto}</style>'
    return escape(head + html)


@register.filter
def since(value) -> str:  # type: ignore[no-untyped-def]
    """Compact age: 5m, 3h, 2d, or a date for older."""
    if not value:
        return ""
    seconds = (timezone.now() - value).total_seconds()
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    if seconds < 86400 * 7:
        return f"{int(seconds // 86400)}d"
    return value.strftime("%b %-d")


@register.simple_tag
def event_text(message: Message) -> str:
    ev = message.event or {}
    who = message.author.name if message.author else "Happydesk"
    kind = ev.get("type")
    if kind == "status":
        return f"{who} changed the status from {ev.get('from')} to {ev.get('to')}"
    if kind == "reopened":
        return "The customer wrote again: conversation reopened"
    if kind == "sender_confirmed":
        return "The customer confirmed their address from our email: sender verified"
    if kind == "assigned":
        return (
            f"{who} assigned the conversation to {ev.get('to')}"
            if ev.get("to")
            else f"{who} unassigned the conversation"
        )
    if kind == "moved":
        return f"{who} moved the conversation from {ev.get('from')} to {ev.get('to')}"
    if kind == "merged":
        return f"{who} merged #{ev.get('from')} ({ev.get('subject')}) into this conversation"
    if kind == "merged_into":
        return f"{who} merged this conversation into #{ev.get('into')}"
    if kind == "split":
        return f"{who} split this message off #{ev.get('from')}"
    if kind == "split_off":
        return f"{who} split a message into #{ev.get('into')}"
    if kind == "snoozed":
        return f"{who} snoozed the conversation"
    if kind == "snooze_ended":
        return "Snooze ended: " + (
            "the customer wrote again" if ev.get("by") == "customer" else "back in the open view"
        )
    if kind == "rated":
        label = {"great": "Great", "okay": "Okay", "not_good": "Not good"}.get(
            ev.get("value"), ev.get("value")
        )
        if ev.get("comment"):
            return f"The customer added a comment to their rating “{label}”"
        return (
            f"The customer {'changed their rating to' if ev.get('changed') else 'rated the reply'} “{label}”"
        )
    if kind == "bounce":
        return f"A reply to {ev.get('recipient') or 'the customer'} bounced: {ev.get('diagnostic')}"
    return f"{who}: {kind}"


@register.filter
def snippet_for(snippets: dict, pk: int) -> str:
    """The search snippet of a conversation (highlights come from the engine; the text is escaped first)."""
    from django.utils.html import escape
    from django.utils.safestring import mark_safe

    raw = (snippets or {}).get(pk, "")
    safe = escape(raw).replace("&lt;mark&gt;", "<mark>").replace("&lt;/mark&gt;", "</mark>")
    return mark_safe(safe)  # noqa: S308 - escaped above; only our own <mark> tags are restored
