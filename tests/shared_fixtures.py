"""Fixtures shared across the suite (imported by conftest.py)."""

from __future__ import annotations

import pytest

from tests.dns_server import dns_server  # noqa: F401 - real DNS (dnsmasq) for mail authentication
from tests.helpers import ListenerThread, SmtpSink, Tmpfs


@pytest.fixture(autouse=True)
def empty_cache():  # type: ignore[no-untyped-def]
    """Each test starts with an empty cache and a worker that knows no past scheduled runs: rate-limit
    counters and run times never leak between tests (every test client posts from loopback)."""
    from django.core.cache import cache

    from happydesk.mail.inbound import queue_pause_forget
    from happydesk.runtime.jobs import periodic_forget

    cache.clear()
    periodic_forget()  # the worker's memory of scheduled runs belongs to the test's own database
    queue_pause_forget()  # a fault an earlier test played must not pause this test's inbound queue
    yield


@pytest.fixture(scope="session", autouse=True)
def quiet_dns():  # type: ignore[no-untyped-def]
    """Every sender-authentication lookup of the suite goes to a DNS server on loopback that knows no
    names (NXDOMAIN at once), never to the machine's resolver; tests that need records use dns_server.
    Servers the tests start as processes inherit it through the environment."""
    import os
    import shutil
    import tempfile
    from pathlib import Path

    from django.conf import settings

    from tests.dns_server import DNSMASQ, DnsServer

    if not os.access(DNSMASQ, os.X_OK):
        yield None
        return
    root = Path(tempfile.mkdtemp(prefix="hd-dns-quiet-"))
    root.chmod(0o755)
    server = DnsServer(settings, root).zone({})
    os.environ["HAPPYDESK_DNS_RESOLVER"] = server.address
    try:
        yield server
    finally:
        server.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(autouse=True)
def trusted_mail_server(settings):  # type: ignore[no-untyped-def]
    """The suite's mail reaches us through one trusted server (tests.helpers.TRUSTED_MX), as a real
    install names its own; any other Authentication-Results header is ignored."""
    from tests.helpers import TRUSTED_MX

    settings.HAPPYDESK_TRUSTED_AUTHSERV_IDS = [TRUSTED_MX]


@pytest.fixture
def mailbox(db):  # type: ignore[no-untyped-def]
    from happydesk.inbox.services import mailbox_create

    return mailbox_create(address="support@acme.test", name="Acme Support", signature="— The Acme team")


@pytest.fixture
def agent(db):  # type: ignore[no-untyped-def]
    from happydesk.accounts.services import agent_create

    return agent_create(
        email="alex@acme.test", name="Alex Agent", password="correct-horse-battery", admin=True
    )


@pytest.fixture
def smtp_sink(settings):  # type: ignore[no-untyped-def]
    """A real SMTP server on loopback receiving everything Happydesk sends."""
    sink = SmtpSink().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    yield sink
    sink.stop()


@pytest.fixture
def smtp_listener(transactional_db):  # type: ignore[no-untyped-def]
    """Happydesk's SMTP listener on a free loopback port."""
    listener = ListenerThread().start()
    yield listener
    listener.stop()


@pytest.fixture(scope="session", autouse=True)
def end_stray_database_sessions(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """Threads of servers run in-process (SMTP listener executors, live server) keep their own database
    connections; on PostgreSQL they would block dropping the test database at the end."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def tmpfs():  # type: ignore[no-untyped-def]
    """Mount small real file systems to fill up: `tmpfs(size_bytes)` returns a mounted Tmpfs, unmounted
    after the test. Skipped, with the reason, only where mounting is impossible (not root)."""
    mounted: list[Tmpfs] = []

    def make(size_bytes: int) -> Tmpfs:
        fs = Tmpfs(size_bytes).mount()
        if not fs.mounted:
            fs.unmount()
            pytest.skip(f"no tmpfs for this fault test: {fs.skip_reason}")
        mounted.append(fs)
        return fs

    yield make
    for fs in mounted:
        fs.unmount()
