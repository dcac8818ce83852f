"""The "mail is held up" notice for admins: on the inbox and the quarantine page."""

from __future__ import annotations

from django import template

from happydesk.mail.selectors import inbound_held

register = template.Library()


@register.inclusion_tag("mail/_inbound_held.html", takes_context=True)
def inbound_held_notice(context: template.Context) -> dict:
    """For admins only (one small query): mail acknowledged but not yet in the inbox, and why."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_admin", False):
        return {}
    return {"held": inbound_held()}
