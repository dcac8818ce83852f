"""The "Sign in with <provider>" button for the agent sign-in page, shown only when OIDC is configured."""

from __future__ import annotations

from django import template
from django.urls import reverse

from happydesk.accounts.oidc import oidc_enabled, oidc_provider_name

register = template.Library()


@register.inclusion_tag("accounts/_oidc_button.html", takes_context=True)
def oidc_sign_in_button(context: template.Context) -> dict:
    """Context for the button; `next` is passed on (the start view drops it unless it is a local path)."""
    if not oidc_enabled():
        return {"enabled": False}
    return {
        "enabled": True,
        "url": reverse("oidc_start"),
        "next": context.get("next") or "",
        "name": oidc_provider_name(),
    }
