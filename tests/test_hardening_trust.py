"""Hardening for the trust issue, tested as an outsider would try it: another site opening the agent's
websocket with the agent's cookie, a forged Host header, and our own mail claiming to be from
"noreply@127.0.0.1" instead of the mailbox people know."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
from email import message_from_bytes, policy
from urllib.parse import urlsplit

import pytest
from asgiref.sync import sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.conf import settings as django_settings
from django.test import Client

from happydesk.accounts.models import User
from happydesk.accounts.services import agent_create
from happydesk.community import services as community
from happydesk.customers.services import customer_for_address
from happydesk.inbox.services import mailbox_create
from happydesk.mail.models import OutboundMail
from happydesk.mail.outbound import compose_notice, notice_enqueue, send_due
from happydesk.portal.services import portal_link_send
from happydesk.routing import SiteOriginValidator, site_origins
from happydesk.status.services import subscriber_add
from tests.helpers import customer_conversation, free_port, start_serve, stop

EVIL_ORIGINS = [
    "http://evil.test",
    "http://127.0.0.1:8000.evil.test",  # the site's origin as a prefix of another host
    "null",  # a sandboxed iframe or a file:// page
    "https://evil.test:443",
]


def own_origin() -> str:
    parts = urlsplit(django_settings.BASE_URL)
    return f"{parts.scheme}://{parts.netloc}"


def near_misses() -> list[str]:
    """Origins that look like ours but are not: another port, the other scheme, a subdomain."""
    parts = urlsplit(django_settings.BASE_URL)
    host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    other_scheme = "https" if parts.scheme == "http" else "http"
    return [
        f"{parts.scheme}://{host}:{port + 1}",
        f"{other_scheme}://{host}:{port}",
        f"{parts.scheme}://evil.{host}:{port}",
        f"{parts.scheme}://user@{host}:{port}",
    ]


# --- 1. websockets: the Origin must be the site's own ------------------------------------------------


def session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return (
        f"{django_settings.SESSION_COOKIE_NAME}={client.cookies[django_settings.SESSION_COOKIE_NAME].value}"
    )


async def open_socket(path: str, headers: list[tuple[bytes, bytes]]) -> tuple[bool, WebsocketCommunicator]:
    """Open a websocket through the real ASGI application (asgi.py), as a browser would."""
    from happydesk.asgi import application

    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=3)
    return connected, communicator


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_another_site_cannot_open_the_agents_websocket_with_their_cookie():
    agent = await sync_to_async(agent_create)(
        email="alex@acme.test", name="Alex Agent", password="pw-1234567890"
    )
    cookie = (b"cookie", (await sync_to_async(session_cookie)(agent)).encode())
    for origin in EVIL_ORIGINS + near_misses():
        connected, ws = await open_socket("/ws/inbox/", [(b"origin", origin.encode()), cookie])
        assert not connected, f"{origin} opened the websocket"
    connected, ws = await open_socket("/ws/inbox/", [cookie])  # no Origin at all
    assert not connected

    # Our own pages may: the same cookie from the site's origin opens it.
    connected, ws = await open_socket("/ws/inbox/", [(b"origin", own_origin().encode()), cookie])
    assert connected
    await ws.disconnect()
    # And the origin alone is not enough: without the agent's cookie the consumer refuses (4401).
    connected, ws = await open_socket("/ws/inbox/", [(b"origin", own_origin().encode())])
    assert not connected


def test_allowed_origins_are_the_base_url_and_the_csrf_trusted_ones(settings):
    settings.BASE_URL = "https://help.acme.test/desk"
    settings.CSRF_TRUSTED_ORIGINS = ["https://help.acme.test", "https://*.support.acme.test", "not a url"]
    origins = site_origins()
    assert origins == ["https://help.acme.test:443", "https://*.support.acme.test:443"]
    validator = SiteOriginValidator(None, origins)

    def ok(origin: str) -> bool:
        from urllib.parse import urlparse

        return validator.valid_origin(urlparse(origin))

    assert ok("https://help.acme.test") and ok("https://help.acme.test:443") and ok("HTTPS://Help.Acme.Test")
    assert ok("https://eu.support.acme.test")  # the CSRF wildcard, as Django reads it
    for bad in ["http://help.acme.test", "https://help.acme.test:8443", "https://help.acme.test.evil.test",
                "https://evilhelp.acme.test", "https://evil.test/help.acme.test", "null", "*",
                "https://eu.support.acme.test.evil.test", "https://x@help.acme.test"]:  # fmt: skip
        assert not ok(bad), bad


# --- 2. ALLOWED_HOSTS: the base URL's host, not "*" --------------------------------------------------


def settings_in_a_fresh_process(**env: str) -> list[str]:
    """ALLOWED_HOSTS as a new process computes it from this environment."""
    clean = {
        k: v for k, v in os.environ.items() if k not in ("HAPPYDESK_ALLOWED_HOSTS", "HAPPYDESK_BASE_URL")
    }
    clean.update(env, DJANGO_SETTINGS_MODULE="happydesk.settings")
    out = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(','.join(settings.ALLOWED_HOSTS))"],
        env=clean,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().split(",")


def test_allowed_hosts_default_to_the_base_urls_host():
    assert settings_in_a_fresh_process(HAPPYDESK_BASE_URL="https://help.acme.test") == ["help.acme.test"]
    assert settings_in_a_fresh_process(HAPPYDESK_BASE_URL="https://help.acme.test:8443/desk/") == [
        "help.acme.test"
    ]
    loopback = settings_in_a_fresh_process()  # `make run`: http://127.0.0.1:8000
    assert set(loopback) == {"127.0.0.1", "localhost", "[::1]"}
    assert set(settings_in_a_fresh_process(HAPPYDESK_BASE_URL="http://localhost:9000")) == set(loopback)
    assert settings_in_a_fresh_process(
        HAPPYDESK_BASE_URL="https://help.acme.test", HAPPYDESK_ALLOWED_HOSTS="help.acme.test, .acme.test"
    ) == ["help.acme.test", ".acme.test"]
    assert "*" not in settings_in_a_fresh_process(HAPPYDESK_BASE_URL="http://127.evil.test")


def test_a_forged_host_header_is_refused(settings, db):
    from happydesk.settings import _allowed_hosts

    settings.ALLOWED_HOSTS = _allowed_hosts("https://help.acme.test", None)
    client = Client()
    assert client.get("/login/", HTTP_HOST="evil.test").status_code == 400
    assert client.get("/login/", HTTP_HOST="help.acme.test.evil.test").status_code == 400
    assert client.get("/login/", HTTP_HOST="help.acme.test", secure=True).status_code == 200


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_real_server_refuses_other_hosts_and_other_origins(agent):
    """`happydesk serve` as a real process: a forged Host gets 400, another site's page cannot open the
    websocket with the agent's cookie (403), our own page can."""
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    http, smtp = free_port(), free_port()
    proc = start_serve(http, smtp)
    try:

        def get(host: str) -> int:
            conn = http_client(http)
            conn.request("GET", "/login/", headers={"Host": host})
            return conn.getresponse().status

        assert get("evil.test") == 400
        assert get(f"127.0.0.1:{http}") == 200
        cookie = session_cookie(agent)
        url = f"ws://127.0.0.1:{http}/ws/inbox/"
        for origin in [
            "http://evil.test",
            f"http://127.0.0.1:{http}.evil.test",
            "null",
            "http://127.0.0.1:8000",
        ]:
            with pytest.raises(InvalidStatus) as refused:
                connect(url, origin=origin, additional_headers={"Cookie": cookie}, open_timeout=5)  # type: ignore[arg-type]
            assert refused.value.response.status_code == 403, origin
        with connect(url, origin=f"http://127.0.0.1:{http}", additional_headers={"Cookie": cookie}, open_timeout=5) as ws:  # type: ignore[arg-type]  # fmt: skip
            ws.ping().wait(timeout=5)
    finally:
        stop(proc)


def http_client(port: int) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=10)


# --- 4. our own mail comes from the mailbox (or the configured sender) --------------------------------


def from_header(row: OutboundMail) -> str:
    """The From header of a queued notice, as the worker composes and sends it."""
    email = compose_notice(row)
    return str(message_from_bytes(email.message().as_bytes(), policy=policy.default)["From"])


@pytest.fixture
def billing(db):  # type: ignore[no-untyped-def]
    return mailbox_create(address="billing@acme.test", name="Acme Billing")


def test_status_notices_and_sign_in_links_come_from_the_mailbox(mailbox, settings):
    settings.HAPPYDESK_FROM_EMAIL = ""
    subscriber_add(email="sub@example.test")
    customer_for_address(address="casey@example.test", name="Casey")
    assert portal_link_send(address="casey@example.test")
    rows = list(OutboundMail.objects.order_by("id"))
    assert [r.kind for r in rows] == ["status-confirm", "portal-link"]
    for row in rows:
        assert from_header(row) == "Acme Support <support@acme.test>"
        assert "noreply" not in from_header(row)


def test_a_configured_sender_wins_and_noreply_is_only_the_last_resort(settings, db):
    settings.HAPPYDESK_FROM_EMAIL = ""
    settings.DEFAULT_FROM_EMAIL = "Happydesk <noreply@127.0.0.1>"
    nobox = notice_enqueue(to=["a@example.test"], subject="x", text="x")  # no mailbox exists yet
    assert from_header(nobox) == "Happydesk <noreply@127.0.0.1>"
    mailbox_create(address="support@acme.test", name="Acme Support")
    settings.HAPPYDESK_FROM_EMAIL = "Acme Team <team@acme.test>"
    customer_for_address(address="casey@example.test")
    portal_link_send(address="casey@example.test")
    subscriber_add(email="sub@example.test")
    for row in OutboundMail.objects.exclude(pk=nobox.pk):
        assert from_header(row) == "Acme Team <team@acme.test>"
    # A notice about one mailbox's conversation comes from that mailbox, whatever the default.
    billing = mailbox_create(address="billing@acme.test", name='Acme "Billing"\nTeam')
    row = notice_enqueue(to=["a@example.test"], subject="x", text="x", mailbox=billing)
    assert from_header(row) == "Acme Billing Team <billing@acme.test>"
    # A row queued before senders were recorded is sent from today's default, not noreply.
    OutboundMail.objects.filter(pk=nobox.pk).update(from_email="")
    nobox.refresh_from_db()
    assert from_header(nobox) == "Acme Team <team@acme.test>"


def test_community_notices_come_from_the_mailbox_over_real_smtp(mailbox, billing, agent, smtp_sink, settings):
    settings.HAPPYDESK_FROM_EMAIL = ""
    voter = customer_for_address(address="ann@example.test", name="Ann Archer")
    topic = community.topic_create(kind="idea", title="Dark mode", body="Please.", author=voter)
    community.follow_add(topic=topic, person=voter)
    c = customer_conversation(
        billing, address="frank@example.test", name="Frank Fox", subject="Dark mode?", text="?"
    )
    community.conversation_link(topic=topic, conversation=c, agent=agent)
    community.post_create(topic=topic, body="We're on it.", author=agent)  # followers hear of the answer
    community.topic_set_status(topic=topic, status="shipped", agent=agent, note="Live now.")
    senders = {row.to[0]: from_header(row) for row in OutboundMail.objects.filter(kind="community_shipped")}
    assert senders == {
        "ann@example.test": "Acme Support <support@acme.test>",  # the default mailbox
        "frank@example.test": "Acme Billing <billing@acme.test>",  # wrote to billing about it
    }
    send_due()
    received = smtp_sink.wait_for(OutboundMail.objects.count())
    assert len(received) == OutboundMail.objects.count() >= 3
    froms = {str(message_from_bytes(data, policy=policy.default)["From"]) for _, _, data in received}
    assert froms <= {"Acme Support <support@acme.test>", "Acme Billing <billing@acme.test>"}
    assert not any(b"noreply@" in data for _, _, data in received)
