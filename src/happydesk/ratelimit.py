"""Fixed-window counters in Django's cache, for limits on public forms (contact form, community sign-in),
and the one answer to "which client is this?" that every per-client limit uses (`client_ip`).

The lowest layer (only Django's cache), so any app can use it without importing another app. With the
default local-memory cache each process counts on its own; with REDIS_URL set (settings.py) the cache is
Redis, so every process counts into the same key (incr is atomic there) and a limit holds however the
requests are spread.
"""

from __future__ import annotations

import functools
import ipaddress
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
    """The address the request came from, for every per-client limit (sign-in lockout, contact form,
    community sign-in). REMOTE_ADDR, unless REMOTE_ADDR is one of HAPPYDESK_TRUSTED_PROXIES: then the
    rightmost X-Forwarded-For hop that is not itself a trusted proxy (each proxy appends the address it
    saw, so everything left of that is the client's own words). An untrusted sender's header is ignored."""
    from django.conf import settings

    remote = _address(request.META.get("REMOTE_ADDR", ""))
    trusted = _networks(tuple(getattr(settings, "HAPPYDESK_TRUSTED_PROXIES", ())))
    if remote is None:
        return "unknown"
    if not _is_trusted(remote, trusted):
        return str(remote)
    nearest = remote
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        address = _address(hop)
        if address is None:  # garbage a client wrote: the last hop we could read is as far as we trust
            return str(nearest)
        if not _is_trusted(address, trusted):
            return str(address)
        nearest = address
    return str(nearest)  # every hop was a proxy of ours (or there was no header)


Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(
    items: list[str] | tuple[str, ...], *, setting: str = "HAPPYDESK_TRUSTED_PROXIES"
) -> tuple[Network, ...]:
    """IPs and CIDRs ("10.0.0.1", "10.0.0.0/8", "::1") as networks; ValueError names a bad entry."""
    networks = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"{setting}: {item!r} is not an IP address or CIDR") from exc
    return tuple(networks)


def ip_in_networks(ip: str, items: list[str] | tuple[str, ...]) -> bool:
    """Whether `ip` (IPv4-mapped IPv6 read as IPv4) is one of these IPs or CIDRs. The list is parsed once
    per distinct value (settings.py has already refused a bad entry at start), not on every call."""
    address = _address(ip)
    return address is not None and _is_trusted(address, _networks(tuple(items)))


@functools.lru_cache(maxsize=8)
def _networks(items: tuple[str, ...]) -> tuple[Network, ...]:
    return parse_networks(items)


def _is_trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def _address(text: str) -> Address | None:
    """An IP from REMOTE_ADDR or one X-Forwarded-For hop ("1.2.3.4", "1.2.3.4:80", "[::1]:80"), IPv4
    mapped into IPv6 read as IPv4; None when it is not one."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
