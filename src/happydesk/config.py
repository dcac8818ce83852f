"""Configuration read from the environment, in one place, so settings.py and the CLI agree."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit


def data_dir() -> Path:
    """Where raw mail, attachments, the SQLite file and the file outbox live (HAPPYDESK_DATA_DIR)."""
    return Path(os.environ.get("HAPPYDESK_DATA_DIR", "./var")).resolve()


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, *, lower: bool = False) -> list[str]:
    """A comma-separated variable as a list, blanks dropped (lowercased for names that ignore case)."""
    items = [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]
    return [item.lower() for item in items] if lower else items


@dataclass(frozen=True)
class EmailTransport:
    """Outbound mail transport parsed from EMAIL_URL."""

    backend: str
    host: str = ""
    port: int = 0
    username: str = ""
    password: str = ""
    use_tls: bool = False
    use_ssl: bool = False
    file_path: str = ""


def parse_email_url(url: str | None) -> EmailTransport:
    """Parse EMAIL_URL: `smtp://user:pass@host:port`, `smtp+tls://…` (STARTTLS), `smtps://…` (implicit TLS),
    `file:///path` (write .eml files), or empty for the file outbox under the data dir."""
    if not url:
        return EmailTransport(backend="file", file_path=str(data_dir() / "outbox"))
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        return EmailTransport(backend="file", file_path=unquote(parts.path) or str(data_dir() / "outbox"))
    if scheme in {"smtp", "smtp+tls", "smtps"}:
        query = parse_qs(parts.query)
        tls = scheme == "smtp+tls" or query.get("tls", ["0"])[0] in {"1", "true"}
        return EmailTransport(
            backend="smtp",
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (465 if scheme == "smtps" else 25),
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            use_tls=tls,
            use_ssl=scheme == "smtps",
        )
    raise ValueError(f"EMAIL_URL scheme {scheme!r} is not supported (use smtp, smtp+tls, smtps or file)")


def current_database_url() -> str:
    """A DATABASE_URL for the database this process is connected to, for child processes we start
    (import helpers, test servers), so they work on the same database even under overridden settings."""
    from django.db import connection

    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class MissingExtra(Exception):
    """A setting asks for an optional extra that is not installed: the process stops at startup with
    what to install (cli.main prints it without a traceback)."""


def redis_backends(url: str) -> tuple[dict, dict]:
    """CHANNEL_LAYERS and CACHES for REDIS_URL: websocket events and the cache (rate-limit counters)
    shared by every process that has the same URL. Raises MissingExtra when the `redis` extra is not
    installed, so a misconfigured process stops at once instead of answering every websocket with 500.

    RedisChannelLayer, not RedisPubSubChannelLayer: channels-redis still calls the pub/sub layer beta;
    presence needs only group sends and replies to one channel, which the original layer does."""
    import importlib

    for module in ("channels_redis", "redis"):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise MissingExtra(
                f"REDIS_URL is set, but the Redis extra is not installed ({exc}). "
                "Install it with: pip install 'happydesk[redis]' (or unset REDIS_URL to run one process "
                "with in-memory websockets and cache)."
            ) from exc
    layers = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [url]}}}
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "happydesk",  # beside channels-redis's "asgi:" keys in the same database
            # A Redis that stops answering fails a request after seconds, not after the OS's TCP timeout.
            "OPTIONS": {"socket_connect_timeout": 5, "socket_timeout": 5},
        }
    }
    return layers, caches
