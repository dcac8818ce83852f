"""The customer's past ratings, a sidebar panel of the conversation page (runtime/panels.py)."""

from __future__ import annotations

from django import template

from happydesk.feedback.selectors import customer_ratings
from happydesk.inbox.access import conversations_for_agent

register = template.Library()


@register.inclusion_tag("feedback/_past_ratings_inner.html", takes_context=True)
def past_ratings(context: template.Context) -> dict:
    """Ratings on the customer's conversations the viewing agent may see (through inbox.access: a light
    agent must not learn of a security report from a rating). Nothing while the sender is unverified."""
    conversation, user = context.get("c"), context.get("user")
    if conversation is None or user is None or conversation.unverified:
        return {"past_ratings": []}
    return {"past_ratings": customer_ratings(conversation.customer_id, visible=conversations_for_agent(user))}
