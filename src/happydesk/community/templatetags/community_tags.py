"""Community pieces for other apps' pages (the conversation sidebar, the portal) and template helpers."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from happydesk.community import selectors
from happydesk.web.markdown import render_markdown

register = template.Library()


@register.filter
def markdown(text: str) -> SafeString:
    """Sanitized HTML for a Markdown body (the knowledge base's renderer: markdown-it, then nh3); images
    on other servers become links, so a post cannot learn who reads it."""
    return mark_safe(render_markdown(text, remote_images=False))  # noqa: S308 - sanitized with nh3


@register.inclusion_tag("community/_conversation_ideas_inner.html", takes_context=True)
def conversation_ideas(context: template.Context) -> dict:
    """Ideas and known issues linked to the conversation on the page, the form to link one, and the
    customer's community ban if they have one."""
    conversation = context.get("c")
    if conversation is None:
        return {"conversation": None}
    return {
        "conversation": conversation,
        "links": selectors.links_for_conversation(conversation),
        "choices": selectors.linkable_topics(),
        "ban": selectors.ban_for(conversation.customer),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("community/_portal_news_inner.html", takes_context=True)
def portal_news(context: template.Context) -> dict:
    """Announcements published since the signed-in customer last looked, for the top of the portal,
    and the way back to the community page they signed in from."""
    from happydesk.community.public_views import NEXT_KEY

    customer = context.get("customer")
    request = context.get("request")
    return {
        "news": selectors.announcements_since(customer, limit=3) if customer is not None else [],
        "community_next": request.session.get(NEXT_KEY) if request is not None else None,
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def in_set(value: object, collection: set) -> bool:
    """`{{ t.pk|in_set:voted }}`: membership test usable in an include's `with`."""
    return value in collection


@register.filter
def ban_reason(bans: dict, customer_id: object) -> str:
    """`{{ bans|ban_reason:customer_id }}`: why that customer was banned, for agents."""
    ban = bans.get(customer_id) if bans else None
    return ban.reason if ban else ""
