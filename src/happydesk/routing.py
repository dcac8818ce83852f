"""Every app's websocket routes (as urls.py is for pages), and the origin check in front of them.

A browser sends the agent's session cookie with a websocket opened from any page, so the only thing that
tells our own pages from another site's is the Origin header. We accept exactly the site's own origin
(settings.BASE_URL's scheme, host and port) and the origins in CSRF_TRUSTED_ORIGINS, whatever ALLOWED_HOSTS
says; a missing, "null" or malformed Origin is refused.
"""

from __future__ import annotations

from urllib.parse import ParseResult, SplitResult, urlsplit

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.utils.http import is_same_domain

from happydesk.inbox import routing as inbox_routing

websocket_urlpatterns: list = [*inbox_routing.websocket_urlpatterns]

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _origin(parts: SplitResult) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin or URL, or None if it is not a plain http(s) origin."""
    try:
        scheme, host, port = parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
    except ValueError:  # a port that is not a number, e.g. "http://127.0.0.1:8000.evil.test"
        return None
    if scheme not in ("http", "https") or not host:
        return None
    return scheme, host, port or DEFAULT_PORTS[scheme]


def site_origins() -> list[str]:
    """The origins our own pages are served from: the base URL's and the CSRF-trusted ones."""
    found: list[str] = []
    for url in [settings.BASE_URL, *getattr(settings, "CSRF_TRUSTED_ORIGINS", [])]:
        origin = _origin(urlsplit(url))  # a CSRF-trusted "https://*.example.com" keeps its "*."
        if origin is None:
            continue
        text = "{}://{}:{}".format(*origin)
        if text not in found:
            found.append(text)
    return found


class SiteOriginValidator(OriginValidator):
    """channels' OriginValidator with exact matching: scheme, host and port must equal an allowed origin
    ("*.example.com" in CSRF_TRUSTED_ORIGINS allows its subdomains, as Django's CSRF check does)."""

    def valid_origin(self, parsed_origin: ParseResult | None) -> bool:
        if parsed_origin is None or "@" in parsed_origin.netloc or parsed_origin.path not in ("", "/"):
            return False  # no Origin header, or not a bare scheme://host[:port] as browsers send it
        origin = _origin(urlsplit(parsed_origin.geturl()))
        if origin is None:
            return False
        for allowed in self.allowed_origins:
            scheme, rest = allowed.split("://", 1)
            host, port = rest.rsplit(":", 1)
            if scheme != origin[0] or int(port) != origin[2]:
                continue
            if host == origin[1] or (host.startswith("*.") and is_same_domain(origin[1], host[1:])):
                return True
        return False


def websocket_application() -> SiteOriginValidator:
    """The websocket side of asgi.py: the origin check, then session auth, then the routes."""
    return SiteOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)), site_origins())
