"""The built-in SMTP listener: accept mail for our mailboxes only, store it, then say 250.

Never a relay (550 for any other recipient), 552 over the size limit, 451 when storing failed so the
sending server keeps the message and tries again. Parsing happens later, in the worker.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.conf import settings

from happydesk.inbox.models import Mailbox
from happydesk.mail.faults import passing_fault
from happydesk.mail.models import RawMessage
from happydesk.mail.store import MessageTooLarge, split_plus, store_raw
from happydesk.mail.transports.tls import server_context
from happydesk.ratelimit import ip_in_networks

log = logging.getLogger(__name__)


class InboundHandler:
    """aiosmtpd handler; mailbox addresses are cached for a few seconds so RCPT checks stay cheap."""

    cache_seconds = 5.0

    def __init__(self) -> None:
        self._addresses: set[str] = set()
        self._loaded_at = 0.0

    def _load_addresses(self) -> set[str]:
        return set(Mailbox.objects.values_list("address", flat=True))

    async def _known(self, address: str) -> bool:
        base, _ = split_plus(address)
        if time.monotonic() - self._loaded_at > self.cache_seconds or base not in self._addresses:
            self._addresses = await sync_to_async(self._load_addresses, thread_sensitive=False)()
            self._loaded_at = time.monotonic()
        return base in self._addresses

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        """A relay configured to use TLS (HAPPYDESK_SMTP_REQUIRE_TLS_FROM) may not deliver in clear text:
        it is told to STARTTLS first, and a downgrade by someone in between fails instead of leaking."""
        if session.ssl is None and _must_use_tls(session.peer):
            return "530 5.7.0 Must issue a STARTTLS command first"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        try:
            known = await self._known(address)
        except Exception:
            log.exception("RCPT check failed")
            return "451 4.3.0 Temporary lookup failure, try again later"
        if not known:
            return f"550 5.1.1 <{address}>: no such mailbox here (this server does not relay)"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or envelope.content
        assert data is not None  # aiosmtpd has read the DATA section before it calls this hook
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        if len(data) > settings.HAPPYDESK_MAX_MESSAGE_BYTES:
            return "552 5.3.4 Message too big"
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)
        try:
            raw: RawMessage = await sync_to_async(store_raw, thread_sensitive=False)(
                data,
                source=RawMessage.Source.SMTP,
                envelope_from=envelope.mail_from or "",
                envelope_to=[a.lower() for a in envelope.rcpt_tos],
                origin=f"smtp from {peer} helo {session.host_name or '-'}",
                peer_ip=_ip_or_none(peer),
                helo=session.host_name or "",
            )
        except MessageTooLarge:
            return "552 5.3.4 Message too big"
        except Exception as exc:
            fault = passing_fault(exc)  # a full disk, the database away: one line, not a traceback each
            if fault is not None:
                log.warning("could not store inbound message (451, the sender retries): %s", fault)
            else:
                log.exception("could not store inbound message")
            return "451 4.3.0 Could not store the message, please try again later"
        return f"250 2.0.0 OK queued as {raw.pk}"


def _ip_or_none(peer: str) -> str | None:
    """The client's address as an IP (an IPv4-mapped IPv6 address as IPv4), or None if it is not one."""
    try:
        ip = ipaddress.ip_address(peer)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def _must_use_tls(peer: object) -> bool:
    """Checked on every MAIL command: the setting's networks are parsed once (ratelimit), not each time."""
    required = settings.HAPPYDESK_SMTP_REQUIRE_TLS_FROM
    if not required or not isinstance(peer, tuple) or not peer:
        return False
    return ip_in_networks(str(peer[0]), required)


class LongLineSMTP(SMTP):
    """aiosmtpd's protocol without RFC 5321's 1,000-octet line limit: aiosmtpd answers a longer line with
    a permanent 500, so the sender bounces mail that Postfix (and every big provider) accepts, such as
    HTML written on one line. A line may be as long as a whole message; the size limit still holds (552).
    Command lines keep their own 512-octet limit (aiosmtpd checks it after reading the line)."""

    def __init__(self, handler: InboundHandler, **kwargs: Any) -> None:
        # Read by aiosmtpd's __init__ (the stream reader's buffer limit) and by its DATA loop. +3: CRLF
        # and a leading transparency dot; a longer line is over the size limit anyway (still permanent).
        self.line_length_limit = settings.HAPPYDESK_MAX_MESSAGE_BYTES + 3
        super().__init__(handler, **kwargs)


def smtp_factory(handler: InboundHandler) -> SMTP:
    """The SMTP protocol for one client connection, with our limits, offering STARTTLS when a
    certificate is configured (read again when its files change: transports/tls.py)."""
    return LongLineSMTP(
        handler,
        tls_context=server_context(),
        data_size_limit=settings.HAPPYDESK_MAX_MESSAGE_BYTES,
        enable_SMTPUTF8=True,
        decode_data=False,
        hostname=settings.HAPPYDESK_MESSAGE_ID_DOMAIN,
        ident="Happydesk ESMTP",
    )


async def start_smtp_server(host: str, port: int) -> asyncio.base_events.Server:
    """Listen on host:port in the running loop (the same loop as the HTTP server in `happydesk serve`)."""
    handler = InboundHandler()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: smtp_factory(handler), host=host, port=port)
    log.info("SMTP listening on %s:%s", host, port)
    return server
