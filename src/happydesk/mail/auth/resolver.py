"""The one DNS resolver for mail authentication, and the per-message lookup budget every library uses.

dkimpy gets `Lookups.dkim_txt` as its dnsfunc; pyspf's module-level `DNSLookup` hook is pointed at
`Lookups.spf_lookup` (pyspf's own tests replace it the same way); our DMARC code calls `Lookups.txt`.
So every SPF, DKIM, ARC and DMARC query goes through `dns_resolver()` and is counted and timed.
"""

from __future__ import annotations

import contextvars
import functools
import ipaddress
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dkim
import dns.exception
import dns.name
import dns.nameserver
import dns.resolver
import spf

__all__ = ["DnsTempError", "Lookups", "dns_resolver", "parse_nameservers"]

# Per message: at most this many DNS queries (SPF alone may use 10 + 2 void, RFC 7208 4.6.4) and this many
# per-lookup timeouts of wall time in all.
MAX_LOOKUPS = 40
BUDGET_TIMEOUTS = 4
CACHE_SIZE = 2000

_current: contextvars.ContextVar[Lookups | None] = contextvars.ContextVar("happydesk_mail_auth_lookups")


class DnsTempError(Exception):
    """A lookup could not be answered now (timeout, server failure, budget used up): a temperror."""


def parse_nameservers(spec: str) -> list[dns.nameserver.Do53Nameserver]:
    """'127.0.0.1:5354' or 'h1:p1,h2:p2' (IPv6 as '[::1]:53' or bare '::1'; port 53 if omitted)."""
    servers = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        host, port = item, 53
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            if rest.startswith(":"):
                port = int(rest[1:])
        elif item.count(":") == 1:
            host, _, port_text = item.partition(":")
            port = int(port_text)
        ipaddress.ip_address(host)  # ValueError for a name: a resolver must be given by address
        if not 0 < port < 65536:
            raise ValueError(f"DNS port out of range in {item!r}")
        servers.append(dns.nameserver.Do53Nameserver(host, port))
    if not servers:
        raise ValueError(f"no DNS server in {spec!r}")
    return servers


@functools.lru_cache(maxsize=16)
def _build_resolver(spec: str, timeout: float) -> dns.resolver.Resolver:
    if spec:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = parse_nameservers(spec)
    else:
        try:
            resolver = dns.resolver.Resolver()  # the system's /etc/resolv.conf
        except dns.resolver.NoResolverConfiguration:
            resolver = dns.resolver.Resolver(configure=False)  # no servers: every lookup is a temperror
    resolver.lifetime = timeout
    # Each server gets its share of the lifetime, so a dead first server leaves time for the next one.
    resolver.timeout = timeout / max(1, len(resolver.nameservers))
    resolver.retry_servfail = False
    resolver.use_edns(0, 0, 1232)  # 2048-bit DKIM keys fit in one UDP answer; TCP on truncation
    resolver.cache = dns.resolver.LRUCache(CACHE_SIZE)
    return resolver


def dns_resolver() -> dns.resolver.Resolver:
    """The resolver for all mail-authentication lookups, from HAPPYDESK_DNS_RESOLVER (empty = the system's)
    with HAPPYDESK_DNS_TIMEOUT as lifetime and a small cache; one shared instance per setting value."""
    from django.conf import settings

    return _build_resolver(settings.HAPPYDESK_DNS_RESOLVER.strip(), settings.HAPPYDESK_DNS_TIMEOUT)


class Lookups:
    """The DNS queries made for one message: memoised, at most MAX_LOOKUPS of them, within a wall-time
    budget, and after the first timeout every further query fails at once (a dead resolver costs one
    timeout, not forty)."""

    def __init__(self, resolver: dns.resolver.Resolver, *, max_lookups: int = MAX_LOOKUPS) -> None:
        self.resolver = resolver
        self.timeout = float(resolver.lifetime or 3)
        self.max_lookups = max_lookups
        self.deadline = time.monotonic() + self.timeout * BUDGET_TIMEOUTS
        self.count = 0
        self.timed_out = ""
        self.errors: list[str] = []
        self.events: list[tuple[str, str]] = []  # ("temp"|"nokey", detail) for the DKIM check under way
        self._memo: dict[tuple[str, str], Any] = {}

    def query(self, name: str, rdtype: str) -> list[Any]:
        """The rdatas answering (name, rdtype); [] for no such name or no data; DnsTempError otherwise."""
        key = (name.lower().rstrip("."), rdtype.upper())
        if key in self._memo:
            cached = self._memo[key]
            if isinstance(cached, DnsTempError):
                raise cached
            return cached
        try:
            result = self._query(key[0], key[1])
        except DnsTempError as exc:
            self.errors.append(str(exc))
            self._memo[key] = exc
            raise
        self._memo[key] = result
        return result

    def _query(self, name: str, rdtype: str) -> list[Any]:
        if self.timed_out:
            raise DnsTempError(f"not looked up after an earlier timeout ({self.timed_out})")
        if self.count >= self.max_lookups:
            raise DnsTempError(f"more than {self.max_lookups} DNS lookups for one message")
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise DnsTempError("the DNS time budget for this message is used up")
        self.count += 1
        try:
            qname = dns.name.from_text(name)
        except (dns.exception.DNSException, ValueError, UnicodeError):
            return []  # not a valid DNS name: nothing can exist there
        try:
            answer = self.resolver.resolve(
                qname, rdtype, raise_on_no_answer=False, search=False, lifetime=min(self.timeout, remaining)
            )
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.Timeout:
            self.timed_out = f"DNS timeout looking up {name} {rdtype}"
            raise DnsTempError(self.timed_out) from None
        except dns.resolver.NoNameservers as exc:
            raise DnsTempError(f"DNS server failure looking up {name} {rdtype}: {exc}") from None
        except dns.resolver.NoResolverConfiguration:
            raise DnsTempError("no DNS resolver configured") from None
        except dns.exception.DNSException as exc:
            raise DnsTempError(f"DNS error looking up {name} {rdtype}: {type(exc).__name__}") from None
        except OSError as exc:
            raise DnsTempError(f"DNS unreachable looking up {name} {rdtype}: {exc}") from None
        return list(answer.rrset) if answer.rrset is not None else []

    def txt(self, name: str) -> list[bytes]:
        """Each TXT record at name, its strings joined."""
        return [b"".join(r.strings) for r in self.query(name, "TXT")]

    # --- adapters for the libraries -------------------------------------------------------------

    def dkim_txt(self, name: bytes | str, timeout: float = 5) -> bytes | None:
        """dkimpy's dnsfunc: the first TXT record's bytes, None when there is none."""
        try:
            text = name.decode("ascii") if isinstance(name, bytes) else name
        except UnicodeDecodeError:
            self.events.append(("nokey", repr(name)))
            return None
        try:
            records = self.txt(text)
        except DnsTempError as exc:
            self.events.append(("temp", str(exc)))
            raise dkim.DnsTimeoutError(str(exc)) from None
        if not records:
            self.events.append(("nokey", text.rstrip(".")))
            return None
        return records[0]

    def spf_lookup(self, name: str, qtype: str, strict: object = True, timeout: object = None) -> list:
        """pyspf's DNSLookup: [((name, qtype), value), …] as its dnspython adapter returns them."""
        try:
            records = self.query(name, qtype)
        except DnsTempError as exc:
            raise spf.TempError(f"DNS {exc}") from None
        out: list = []
        for rdata in records:
            if qtype in ("A", "AAAA"):
                out.append(((name, qtype), rdata.address))
            elif qtype == "MX":
                out.append(((name, qtype), (rdata.preference, rdata.exchange)))
            elif qtype == "PTR":
                out.append(((name, qtype), rdata.target.to_text(True)))
            elif qtype in ("TXT", "SPF"):
                out.append(((name, qtype), rdata.strings))
        return out

    @contextmanager
    def active(self) -> Iterator[Lookups]:
        """Make this the budget pyspf's lookups use while the block runs (in this thread/context)."""
        token = _current.set(self)
        try:
            yield self
        finally:
            _current.reset(token)


def _spf_dns_lookup(name: str, qtype: str, strict: object = True, timeout: object = None) -> list:
    lookups = _current.get(None) or Lookups(dns_resolver())
    return lookups.spf_lookup(name, qtype, strict, timeout)


# pyspf looks up through this module-level function; route it through our resolver, never resolv.conf.
spf.DNSLookup = _spf_dns_lookup
