"""Times on agent pages in the agent's own time zone (User.timezone); customers' pages stay in UTC,
their own times being shown where the customer's zone is known."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.http import HttpRequest, HttpResponse
from django.utils import timezone


def agent_zone(zone_name: str) -> ZoneInfo | None:
    """The zone for a stored name, None for an empty or unknown one."""
    if not zone_name:
        return None
    try:
        return ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


class AgentTimeZoneMiddleware:
    """Activate the signed-in agent's zone for the request, so every `|date` and `localtime` on their
    pages is in it; anyone else gets UTC."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        zone = (
            agent_zone(getattr(user, "timezone", "")) if user is not None and user.is_authenticated else None
        )
        if zone is not None:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
