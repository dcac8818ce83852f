"""TLS for the SMTP listener: STARTTLS with the certificate and key in HAPPYDESK_SMTP_TLS_CERT and
HAPPYDESK_SMTP_TLS_KEY, TLS 1.2 or newer. The files are read again when they change, so a renewed
certificate (certbot, acme.sh) is used by the next connection without a restart."""

from __future__ import annotations

import logging
import os
import ssl
import threading

from django.conf import settings

log = logging.getLogger(__name__)

_lock = threading.Lock()
_cached: tuple[tuple[float, float, int, int], ssl.SSLContext] | None = None


def _stamp(cert: str, key: str) -> tuple[float, float, int, int]:
    c, k = os.stat(cert), os.stat(key)
    return (c.st_mtime, k.st_mtime, c.st_size, k.st_size)


def server_context() -> ssl.SSLContext | None:
    """The listener's TLS context for a new connection, or None when no certificate is configured.
    A certificate that cannot be loaded keeps the last good one (and says so); with none, STARTTLS
    is not offered rather than offered broken."""
    global _cached
    cert, key = settings.HAPPYDESK_SMTP_TLS_CERT, settings.HAPPYDESK_SMTP_TLS_KEY
    if not cert or not key:
        return None
    try:
        stamp = _stamp(cert, key)
    except OSError as exc:
        log.error("SMTP TLS certificate or key unreadable (%s): %s", cert, exc)
        return _cached[1] if _cached else None
    with _lock:
        if _cached is not None and _cached[0] == stamp:
            return _cached[1]
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(cert, key)
        except (OSError, ssl.SSLError) as exc:  # a renewal half written, a key that does not match
            log.error("SMTP TLS certificate %s not loaded, keeping the previous one: %s", cert, exc)
            return _cached[1] if _cached else None
        if _cached is not None:
            log.info("SMTP TLS certificate %s reloaded", cert)
        _cached = (stamp, context)
        return context
