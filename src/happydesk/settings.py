"""Django settings for Happydesk. Everything an operator changes comes from the environment
(see docs/configuration.md); the defaults give a one-box help desk on SQLite."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url

from happydesk.config import data_dir, env_bool, env_int, env_list, parse_email_url, redis_backends
from happydesk.ratelimit import parse_networks

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = data_dir()
# The data folder (the database, raw mail, attachments, the outbox, the keys) is closed to other users,
# even if it existed before; the `happydesk` command also creates every file owner-only (cli.py).
DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
DATA_DIR.chmod(0o700)
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

DEBUG = env_bool("HAPPYDESK_DEBUG", False)


def _secret_key() -> str:
    """Use HAPPYDESK_SECRET_KEY, else a key generated once and kept in the data dir."""
    key = os.environ.get("HAPPYDESK_SECRET_KEY")
    if key:
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        import secrets

        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
# Keys retired from HAPPYDESK_SECRET_KEY that still open what they signed (links, happydesk/tokens.py)
# until they are dropped from this list, so a key can be rotated without breaking every mailed link.
SECRET_KEY_FALLBACKS = env_list("HAPPYDESK_SECRET_KEY_FALLBACKS")
BASE_URL = os.environ.get("HAPPYDESK_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
BASE_HOST = (urlsplit(BASE_URL).hostname or "").lower()  # the base URL's host name, without a port


def _allowed_hosts(base_url: str, configured: list[str]) -> list[str]:
    """HAPPYDESK_ALLOWED_HOSTS when set, else only the base URL's host (plus the loopback names when the
    base URL is itself on loopback), so a request for any other Host is refused (400), never answered."""
    if configured:
        return configured
    import ipaddress

    host = (urlsplit(base_url).hostname or "localhost").lower()
    hosts = [f"[{host}]" if ":" in host else host]
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if loopback:
        hosts += [h for h in ("127.0.0.1", "localhost", "[::1]") if h not in hosts]
    return hosts


ALLOWED_HOSTS = _allowed_hosts(BASE_URL, env_list("HAPPYDESK_ALLOWED_HOSTS"))
CSRF_TRUSTED_ORIGINS = [BASE_URL]
CSRF_COOKIE_HTTPONLY = True  # no script of ours reads it: forms carry the token
CSRF_FAILURE_VIEW = "happydesk.web.views.csrf_failure"  # our page, under the strict CSP

# HTTPS mode follows the base URL's scheme: an https:// base URL means every page is served over TLS
# (by `happydesk serve` behind a proxy that terminates it, or any TLS front), so cookies are Secure,
# plain HTTP is redirected and browsers are told to remember it (HSTS). docs/security.md.
HTTPS = urlsplit(BASE_URL).scheme == "https"
if HTTPS:
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("HAPPYDESK_HTTPS_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("HAPPYDESK_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HAPPYDESK_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("HAPPYDESK_HSTS_PRELOAD", False)
# Preloading commits the whole registrable domain to HTTPS in every browser, for months; it is the
# domain owner's decision (HAPPYDESK_HSTS_PRELOAD=1), not a default a help desk should make.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Content-Security-Policy on every response (django-csp; docs/security.md "Content-Security-Policy").
# Scripts only from our own static files: no inline script, no event-handler attributes, no eval. The
# websocket origin is the base URL's (the only one routing.py accepts); 'self' covers it in current
# browsers, the explicit ws(s):// origin older ones. Style attributes stay allowed (Markdown table
# alignment, one score bar): an attribute can neither run script nor select other elements, and url()
# in it is held by img-src. Pages that show an email's frame widen the policy for that frame
# (web/csp.py: the frame inherits the page's policy, then narrows it with its own).
_WS_ORIGIN = ("wss://" if urlsplit(BASE_URL).scheme == "https" else "ws://") + urlsplit(BASE_URL).netloc
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'report-sample'"],  # a violation report quotes what was blocked
        "style-src": ["'self'", "'report-sample'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'", _WS_ORIGIN],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],  # as X-Frame-Options: DENY, which stays for older browsers
        "report-uri": ["/csp-report/"],  # web/views.py logs each refusal on happydesk.csp
    }
}

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "csp",  # Content-Security-Policy header (CONTENT_SECURITY_POLICY above); its checks catch old settings
    "axes",  # sign-in lockout (AXES_* below)
    "django_otp",  # two-factor sign-in: TOTP apps, and recovery codes as static tokens
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "happydesk.audit",
    "happydesk.accounts",
    "happydesk.customers",
    "happydesk.inbox",
    "happydesk.mail",
    "happydesk.replies",
    "happydesk.search",
    "happydesk.feedback",
    "happydesk.kb",
    "happydesk.status",
    "happydesk.community",
    "happydesk.reports",
    "happydesk.scheduling",
    "happydesk.api",
    "happydesk.web",
    "happydesk.portal",
    "happydesk.widget",
    "happydesk.privacy",
    "happydesk.runtime",
]

# The triage index INCLUDEs the id on PostgreSQL; SQLite keys every row by it already (inbox.models).
SILENCED_SYSTEM_CHECKS += ["models.W040"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, so static files (an SVG opened on its own) carry the policy too.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "happydesk.accounts.middleware.AgentTimeZoneMiddleware",  # agent pages in the agent's time zone
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a sign-in refused by the lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "happydesk.urls"
ASGI_APPLICATION = "happydesk.asgi.application"
WSGI_APPLICATION = "happydesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "happydesk.web.context.site",
            ],
        },
    }
]


def _database() -> dict:
    url = os.environ.get("DATABASE_URL")
    if not url:
        url = f"sqlite:///{DATA_DIR / 'happydesk.sqlite3'}"
    config = dj_database_url.parse(url, conn_max_age=env_int("HAPPYDESK_DB_CONN_MAX_AGE", 60))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["ENGINE"] = "happydesk.db.sqlite3"  # SQLite with a fair writer queue (see that module)
        # WAL lets readers work while the worker writes; IMMEDIATE takes the write lock up front so two
        # writers wait on the busy timeout instead of failing with "database is locked" mid-transaction.
        config["CONN_MAX_AGE"] = 0 if config.get("CONN_MAX_AGE") is None else config["CONN_MAX_AGE"]
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
        config["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/inbox/"
LOGOUT_REDIRECT_URL = "/login/"

# Every new password (agent_create: the agents admin and `happydesk agent add`): at least 12 characters
# (OWASP ASVS 5.0 level 2) and not one of the 20,000 commonest. Existing passwords keep working.
PASSWORD_MIN_LENGTH = 12
# The lockout's backend comes first: a locked-out account or client is refused before any password is
# checked, so the right password is refused too until the lockout ends or an admin unlocks the account.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Sign-in throttling (django-axes, its database handler: shared by every process and host, Redis or
# not). HAPPYDESK_SIGNIN_FAILURE_LIMIT failed sign-ins (wrong passwords or codes) for one account, or
# from one client address, each within HAPPYDESK_SIGNIN_LOCKOUT_MINUTES of the one before, lock that
# account, or that address, for HAPPYDESK_SIGNIN_LOCKOUT_MINUTES after the last one. Attempts while
# locked are refused without being counted, so the lockout ends on time; a success does not reset the
# count (signing in to one's own account would otherwise reset the count of an address spraying others).
AXES_FAILURE_LIMIT = env_int("HAPPYDESK_SIGNIN_FAILURE_LIMIT", 30)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("HAPPYDESK_SIGNIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own: the account, and the address
AXES_RESET_ON_SUCCESS = False
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "happydesk.accounts.signin.axes_username"
AXES_CLIENT_IP_CALLABLE = "happydesk.accounts.signin.axes_client_ip"
AXES_LOCKOUT_CALLABLE = "happydesk.accounts.views.locked_out"
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins go to accounts.signin's event, not to a table
AXES_ENABLE_ADMIN = False  # no Django admin here; the agents admin shows and lifts lockouts

# Two-factor sign-in (django-otp): the name authenticator apps show, and its throttle (after n wrong codes
# in a row a device takes no code for 2^(n-1) seconds). Each code works once (the device keeps the last
# time step used) and one step of clock drift either way is accepted.
OTP_TOTP_ISSUER = "Happydesk"
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise serves from finders; the folder only has to exist
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Set by `happydesk serve` for the workers it starts when there is no Redis: where they hand their
# realtime pushes to the serving process (runtime/relay.py). Empty: push through the channel layer.
HAPPYDESK_REALTIME_RELAY = os.environ.get("HAPPYDESK_REALTIME_RELAY", "")

# One process: websocket events and the cache (rate-limit counters) live in its memory. Several processes
# (docs/scaling.md): REDIS_URL shares both through Redis; needs `pip install happydesk[redis]`.
if os.environ.get("REDIS_URL"):
    CHANNEL_LAYERS, CACHES = redis_backends(os.environ["REDIS_URL"])
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Outbound mail: EMAIL_URL, or .eml files in the data dir's outbox so a demo never sends real mail.
EMAIL_TRANSPORT = parse_email_url(os.environ.get("EMAIL_URL"))
if EMAIL_TRANSPORT.backend == "smtp":
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = EMAIL_TRANSPORT.host
    EMAIL_PORT = EMAIL_TRANSPORT.port
    EMAIL_HOST_USER = EMAIL_TRANSPORT.username
    EMAIL_HOST_PASSWORD = EMAIL_TRANSPORT.password
    EMAIL_USE_TLS = EMAIL_TRANSPORT.use_tls
    EMAIL_USE_SSL = EMAIL_TRANSPORT.use_ssl
    EMAIL_TIMEOUT = 30
else:
    EMAIL_BACKEND = "happydesk.mail.backends.OutboxDirectoryBackend"
    EMAIL_FILE_PATH = EMAIL_TRANSPORT.file_path

FORMS_URLFIELD_ASSUME_HTTPS = True  # Django 6 behaviour now
# Who our own mail (sign-in links, notices) comes from: HAPPYDESK_FROM_EMAIL ("Name <address>") when set,
# else the mailbox it concerns or the first mailbox (mail.outbound.notice_sender). The "noreply@host"
# fallback below is only the last resort, for a desk that has no mailbox yet.
HAPPYDESK_FROM_EMAIL = os.environ.get("HAPPYDESK_FROM_EMAIL", "").strip()
DEFAULT_FROM_EMAIL = HAPPYDESK_FROM_EMAIL or f"Happydesk <noreply@{BASE_HOST or 'localhost'}>"

# Threads that run page requests in each `happydesk serve` process (asgi.py); each keeps one database
# connection open for CONN_MAX_AGE seconds.
HAPPYDESK_PAGE_THREADS = env_int("HAPPYDESK_PAGE_THREADS", 8)

# STARTTLS on the SMTP listener (mail/transports/tls.py): PEM certificate chain and key, read again when
# they change. Relays listed in HAPPYDESK_SMTP_REQUIRE_TLS_FROM (IPs or CIDRs) must STARTTLS before MAIL.
HAPPYDESK_SMTP_TLS_CERT = os.environ.get("HAPPYDESK_SMTP_TLS_CERT", "")
HAPPYDESK_SMTP_TLS_KEY = os.environ.get("HAPPYDESK_SMTP_TLS_KEY", "")
HAPPYDESK_SMTP_REQUIRE_TLS_FROM = env_list("HAPPYDESK_SMTP_REQUIRE_TLS_FROM")
parse_networks(HAPPYDESK_SMTP_REQUIRE_TLS_FROM, setting="HAPPYDESK_SMTP_REQUIRE_TLS_FROM")  # fails at start

# Inbound limits.
HAPPYDESK_MAX_MESSAGE_BYTES = env_int("HAPPYDESK_MAX_MESSAGE_BYTES", 30 * 1024 * 1024)
# How long an auto-reply waits in the outbox, so an incident reply to the same message can replace it
# (mail/autoreply.py, status/arrivals.py): the customer gets one message. 0 sends it at once.
HAPPYDESK_AUTO_REPLY_HOLD_SECONDS = env_int("HAPPYDESK_AUTO_REPLY_HOLD_SECONDS", 20)
# Raw mail arrives as a request body on /api/v1/mail/raw: allow a full message.
DATA_UPLOAD_MAX_MEMORY_SIZE = HAPPYDESK_MAX_MESSAGE_BYTES + 1024 * 1024
HAPPYDESK_IMAP_POLL_SECONDS = env_int("HAPPYDESK_IMAP_POLL_SECONDS", 60)
# Undo send: a reply waits this many seconds in the outbox, and "Undo" takes it back meanwhile (0: off).
HAPPYDESK_UNDO_SEND_SECONDS = env_int("HAPPYDESK_UNDO_SEND_SECONDS", 10)
# Domain used in Message-IDs we generate; defaults to the base URL's host.
HAPPYDESK_MESSAGE_ID_DOMAIN = os.environ.get("HAPPYDESK_MESSAGE_ID_DOMAIN") or BASE_HOST or "happydesk.local"

# Trust (docs/security.md). Sender authentication: DNS for SPF/DKIM/DMARC goes through one resolver,
# "host:port[,host:port]" or empty for the system's.
HAPPYDESK_DNS_RESOLVER = os.environ.get("HAPPYDESK_DNS_RESOLVER", "").strip()
HAPPYDESK_DNS_TIMEOUT = float(os.environ.get("HAPPYDESK_DNS_TIMEOUT", "3") or 3)
# Mail that reached us through another server (IMAP, the raw HTTP endpoint): only Authentication-Results
# headers with one of these authserv-ids are believed (RFC 8601); any other is ignored.
HAPPYDESK_TRUSTED_AUTHSERV_IDS = env_list("HAPPYDESK_TRUSTED_AUTHSERV_IDS", lower=True)
# ARC (RFC 8617): a forwarder's sealed results count only when it is one of these sealing domains.
HAPPYDESK_TRUSTED_ARC_SEALERS = env_list("HAPPYDESK_TRUSTED_ARC_SEALERS", lower=True)
# Customer SSO by JWT: comma-separated HS256 secrets (add the new one before removing the old one).
HAPPYDESK_SSO_JWT_SECRETS = env_list("HAPPYDESK_SSO_JWT_SECRET")
# How long a conversation link in our emails opens that conversation for its customer.
HAPPYDESK_PORTAL_LINK_DAYS = env_int("HAPPYDESK_PORTAL_LINK_DAYS", 30)
# Retention (privacy/erasure.py): closed conversations with no activity for this many days are erased by
# the worker, as an erasure does. 0 (the default) keeps them forever.
HAPPYDESK_RETENTION_DAYS = env_int("HAPPYDESK_RETENTION_DAYS", 0)
# Agent sign-in by OpenID Connect: on when an issuer and a client id are set.
HAPPYDESK_OIDC_ISSUER = os.environ.get("HAPPYDESK_OIDC_ISSUER", "").rstrip("/")
HAPPYDESK_OIDC_CLIENT_ID = os.environ.get("HAPPYDESK_OIDC_CLIENT_ID", "")
HAPPYDESK_OIDC_CLIENT_SECRET = os.environ.get("HAPPYDESK_OIDC_CLIENT_SECRET", "")
# Reverse proxies whose X-Forwarded-For we believe (IPs or CIDRs, comma-separated; empty: none). Only a
# request whose REMOTE_ADDR is one of them is counted under the header's client (ratelimit.client_ip);
# a bad entry stops the process at start.
HAPPYDESK_TRUSTED_PROXIES = env_list("HAPPYDESK_TRUSTED_PROXIES")
parse_networks(HAPPYDESK_TRUSTED_PROXIES)  # a bad entry fails here, at start
# The provider's name on the agent sign-in page's "Sign in with ..." button.
HAPPYDESK_OIDC_NAME = os.environ.get("HAPPYDESK_OIDC_NAME", "") or "single sign-on"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("HAPPYDESK_LOG_LEVEL", "INFO")},
    "loggers": {
        "mail.log": {"level": "WARNING"},
        # django-axes logs every attempt; accounts.signin logs what happened in one line instead.
        "axes": {"level": "ERROR"},
    },
}
