"""Template helpers any page may use (`{% load happydesk %}`): no app's models here."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import escape

register = template.Library()


@register.filter
def srcdoc(html: str, policy: str = "") -> str:
    """Escape HTML for an iframe srcdoc attribute (rendered in a sandbox with no scripts); `policy`, when
    given, is a Content-Security-Policy the framed document obeys from its first byte."""
    meta = f'<meta http-equiv="Content-Security-Policy" content="{escape(policy)}">' if policy else ""
    head = '<base target="_blank"><style>body{font-family:system-ui,sans-serif;font-size:14px;color:#1f2328;margin:0}img{max-width:100%;height:auto}</style>'
    return escape(meta + head + html)


@register.filter
def since(value: datetime | None) -> str:
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


@register.filter
def zone_city(zone: str) -> str:
    """A time zone as a short label: "Europe/Berlin" -> "Berlin", "America/Sao_Paulo" -> "Sao Paulo"."""
    return (zone or "UTC").rsplit("/", 1)[-1].replace("_", " ")
