"""Fixed-window counters in Django's cache, for limits on public forms (contact form, community sign-in).

The lowest layer (only Django's cache), so any app can use it without importing another app. With the
default local-memory cache each process counts on its own; with REDIS_URL set (settings.py) the cache is
Redis, so every process counts into the same key (incr is atomic there) and a limit holds however the
requests are spread.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpRequest


def over_limit(key: str, *, limit: int, window: timedelta) -> bool:
    """Count one use for this key; True when it is over `limit` uses in the current `window`."""
    from django.core.cache import cache

    seconds = int(window.total_seconds())
    cache.add(key, 0, timeout=seconds)
    try:
        return cache.incr(key) > limit
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=seconds)
        return False


def client_ip(request: HttpRequest) -> str:
    """The address the request came from (REMOTE_ADDR: behind a proxy, set it from the proxy's header
    there, not from a header any client can send)."""
    return request.META.get("REMOTE_ADDR", "") or "unknown"
