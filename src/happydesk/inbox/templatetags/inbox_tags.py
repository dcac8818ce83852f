"""Template helpers for the inbox's pages: a message's HTML with its inline images, event lines, search
snippets."""

from __future__ import annotations

import re

from django import template
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

from happydesk.inbox.models import Message
from happydesk.web.csp import email_frame_own_policy, has_remote_images, without_images_from
from happydesk.web.templatetags.happydesk import srcdoc

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
def has_remote_content(message: Message) -> bool:
    """Whether the message's HTML would load an image from some server (all the sanitizer leaves)."""
    return has_remote_images(message.html or "")


@register.simple_tag(takes_context=True)
def formatted_srcdoc(context: template.Context, message: Message) -> str:
    """The message's HTML for its sandboxed frame, under a policy that lets it load images only from
    its conversation's attachments (inline `cid:` images) and `data:`: a remote image would tell the
    sender who read the message and when. The agent lifts it per message ("Load remote images":
    `?images=<id>`). The frame is same-origin (so the agent's cookie fetches the attachments) and runs
    no script: its sandbox allows none, and neither does this policy."""
    request = context["request"]
    attachments = reverse("attachment", args=[message.conversation_id, 0]).removesuffix("0/")
    remote = message.pk in (context.get("remote_images") or set())
    html = html_with_inline_images(message)
    if remote:  # images from anywhere now, but never from our own pages with the agent's cookie
        html = without_images_from(html, request.get_host().rsplit(":", 1)[0])
    policy = email_frame_own_policy(
        images_from=f"{request.scheme}://{request.get_host()}{attachments}", remote_images=remote
    )
    return srcdoc(html, policy)


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
    if kind == "merge_undone":
        return f"{who} undid the merge: #{ev.get('from')} is its own conversation again"
    if kind == "merge_undone_here":
        return f"{who} undid the merge into #{ev.get('into')}: this conversation is back"
    if kind == "split":
        return f"{who} split this message off #{ev.get('from')}"
    if kind == "split_off":
        return f"{who} split a message into #{ev.get('into')}"
    if kind == "snoozed":
        return f"{who} snoozed the conversation"
    if kind == "reply_withdrawn":
        return f"{who} took a reply back before it was sent (undo send)"
    if kind == "forwarded":
        to = ", ".join(ev.get("to") or [])
        return f"{who} forwarded the conversation to {to}" + (f": “{ev['note']}”" if ev.get("note") else "")
    if kind == "snooze_ended":
        return "Snooze ended: " + (
            "the customer wrote again" if ev.get("by") == "customer" else "back in the open view"
        )
    if kind == "rated":
        value = str(ev.get("value"))
        label = {"great": "Great", "okay": "Okay", "not_good": "Not good"}.get(value, value)
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
    raw = (snippets or {}).get(pk, "")
    safe = escape(raw).replace("&lt;mark&gt;", "<mark>").replace("&lt;/mark&gt;", "</mark>")
    return mark_safe(safe)  # noqa: S308 - escaped above; only our own <mark> tags are restored
