"""Helpers shared by tests: free ports, building emails, real SMTP servers on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_email(
    *,
    sender: str = "Casey Customer <casey@example.test>",
    to: str = "support@acme.test",
    subject: str = "Help with my order",
    body: str = "Hello, my order has not arrived yet. Can you check?\n",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = message_id or make_msgid(domain="example.test")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    return msg.as_bytes(policy=SMTP_POLICY)  # CRLF line endings, as on the wire


class SmtpSink:
    """A real SMTP server on loopback that keeps what it receives (stands in for the world's MTAs)."""

    def __init__(self, on_message: Callable[[str, list[str], bytes], None] | None = None) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[tuple[str, list[str], bytes]] = []
        self.on_message = on_message
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
                data = envelope.original_content or envelope.content
                sink.messages.append((envelope.mail_from, list(envelope.rcpt_tos), data))
                if sink.on_message:
                    sink.on_message(envelope.mail_from, list(envelope.rcpt_tos), data)
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple[str, list[str], bytes]]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


class ListenerThread:
    """Happydesk's own SMTP listener (the production handler) in a background event loop."""

    def __init__(self) -> None:
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server = None

    def start(self) -> ListenerThread:
        from happydesk.mail.transports.smtp import start_smtp_server

        self.thread.start()
        future = asyncio.run_coroutine_threadsafe(start_smtp_server("127.0.0.1", self.port), self.loop)
        self.server = future.result(timeout=10)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


def database_url_for_tests() -> str:
    """A DATABASE_URL pointing subprocesses at the database this test is using."""
    from happydesk.config import current_database_url

    return current_database_url()


def subprocess_env(**extra: str) -> dict[str, str]:
    import os

    env = os.environ.copy()
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env["DATABASE_URL"] = database_url_for_tests()
    env["HAPPYDESK_AUTO_REPLY_HOLD_SECONDS"] = "0"  # as tests/conftest.py sets it for the test process
    env.update(extra)
    return env


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {port} after {timeout}s")


def group_alive(pgid: int) -> bool:
    """Any process of the group still running (zombies waiting to be reaped do not count)?"""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stop the whole process tree and wait until none of it runs, so nothing outlives the test."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    proc.wait(timeout=30)
    deadline = time.monotonic() + 20
    while group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if group_alive(proc.pid):
        os.killpg(proc.pid, signal.SIGKILL)


def start_serve(http: int, smtp: int, **env: str) -> subprocess.Popen:
    """`happydesk serve` as a real process tree on the test database (or the DATABASE_URL and data
    folder `env` names); returns once both ports listen."""
    import sys

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "happydesk.cli",
            "serve",
            "--http",
            f"127.0.0.1:{http}",
            "--smtp",
            f"127.0.0.1:{smtp}",
        ],
        # Its own address is its base URL: websockets accept only pages from the base URL's origin.
        env=subprocess_env(
            HAPPYDESK_LOG_LEVEL="WARNING",
            HAPPYDESK_BASE_URL=f"http://127.0.0.1:{http}",
            **{"HAPPYDESK_UNDO_SEND_SECONDS": "0", **env},
        ),
        start_new_session=True,
    )
    wait_for_port(smtp)
    wait_for_port(http)
    return proc


def password_sign_in(client, email: str, password: str) -> bool:  # type: ignore[no-untyped-def]
    """Sign in with the test client through the sign-in page, as a browser does (the lockout counts
    it); True when it was let in. Django's client.login() has no request, which the lockout refuses."""
    r = client.post("/login/", {"username": email, "password": password})
    return r.status_code == 302 and "_auth_user_id" in client.session


def sign_in(page, base: str, email: str, password: str) -> None:  # type: ignore[no-untyped-def]
    """Sign an agent in through the login page."""
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/inbox/**")


# Where browser tests save their screenshots: a scratch folder, so a test run never changes tracked files;
# `make screenshots` points it at docs/screenshots.
SHOTS = Path(os.environ.get("HAPPYDESK_SHOTS_DIR") or Path(tempfile.gettempdir()) / "happydesk-screenshots")

# The mail server the tests' settings trust by its authserv-id (tests/shared_fixtures.py).
TRUSTED_MX = "mx.acme.test"


def as_verified(data: bytes) -> bytes:
    """The email as our trusted mail server hands it on after a DMARC pass for its From domain: with that
    server's Authentication-Results on top (believed only for mail that did not reach our listener)."""
    from email import message_from_bytes
    from email.utils import parseaddr

    domain = parseaddr(str(message_from_bytes(data)["From"]))[1].rsplit("@", 1)[-1]
    header = (
        f"Authentication-Results: {TRUSTED_MX}; spf=pass smtp.mailfrom={domain};"
        f" dkim=pass header.d={domain}; dmarc=pass header.from={domain}\r\n"
    )
    return header.encode() + data


def deliver_raw(data: bytes, *, verified: bool = False, **store_kwargs):  # type: ignore[no-untyped-def]
    """Store these bytes and process them, as a transport and a worker would (the SMTP listener's path
    unless `source` says otherwise). verified=True: our trusted mail server hands it over after a DMARC
    pass (its Authentication-Results on top, through the raw HTTP path)."""
    from happydesk.mail.inbound import process_pending
    from happydesk.mail.models import RawMessage
    from happydesk.mail.store import store_raw

    source = store_kwargs.pop("source", RawMessage.Source.SMTP)
    if verified:
        data, source = as_verified(data), RawMessage.Source.HTTP
    raw = store_raw(data, source=source, **store_kwargs)
    process_pending()
    raw.refresh_from_db()
    return raw


def deliver(*, verified: bool = False, **email_fields):  # type: ignore[no-untyped-def]
    """One email for support@acme.test, made from these fields and delivered (deliver_raw)."""
    return deliver_raw(make_email(**email_fields), verified=verified, envelope_to=["support@acme.test"])


def customer_conversation(mailbox, *, address: str, name: str, subject: str, text: str, **message):  # type: ignore[no-untyped-def]
    """A customer (made or found by address) with a conversation holding their first message, written
    through the inbox services; `message` passes on to message_receive (attachments, verification, `at`
    for a conversation that began in the past...)."""
    from happydesk.customers.services import customer_for_address
    from happydesk.inbox.services import conversation_open, message_receive

    customer = customer_for_address(address=address, name=name)
    conversation = conversation_open(
        mailbox=mailbox, customer=customer, subject=subject, at=message.get("at")
    )
    message_receive(
        conversation=conversation,
        customer=customer,
        from_name=name,
        from_address=address,
        subject=subject,
        text=text,
        **message,
    )
    return conversation


def run_command(*args: str) -> str:
    """A `happydesk` management command run in-process; what it printed."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def path_of(url: str) -> str:
    """The path (and query) of an absolute URL from one of our emails."""
    return "/" + url.split("//", 1)[1].split("/", 1)[1]


def totp(secret: str, *, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    """An authenticator app's code: RFC 6238 TOTP (HMAC-SHA-1, RFC 4226 truncation) for a base32 secret,
    written here from the RFC and the standard library, independent of the app's OTP code."""
    import base64
    import hashlib
    import hmac
    import struct

    secret = secret.replace(" ", "").upper()
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = (struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return f"{value:0{digits}d}"


# For tests whose subject does not depend on the suite's database (they run their own processes on their
# own embedded database, or test no database at all): run once per `make test`, in the SQLite pass.
once_per_suite = pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="does not depend on the suite's database: runs once per suite run, in the SQLite pass",
)


class Tmpfs:
    """A small real file system (tmpfs) mounted for one test, to fill up for real: ENOSPC from the kernel,
    "database or disk is full" from SQLite. Needs root; `skip_reason` says why it could not be mounted."""

    def __init__(self, size_bytes: int) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="hd-tmpfs-"))
        self.size = size_bytes
        self.mounted = False
        self.skip_reason = ""

    def mount(self) -> Tmpfs:
        if os.geteuid() != 0:
            self.skip_reason = "mounting a tmpfs needs root"
            return self
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={self.size},mode=0755", "tmpfs", str(self.path)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            self.skip_reason = f"mount -t tmpfs failed: {done.stderr.strip() or done.returncode}"
            return self
        self.mounted = True
        return self

    def resize(self, size_bytes: int) -> None:
        """Grow (or shrink) it in place, as an admin who adds space would; the files stay."""
        subprocess.run(
            ["mount", "-o", f"remount,size={size_bytes}", str(self.path)], check=True, capture_output=True
        )
        self.size = size_bytes

    def free(self) -> int:
        st = os.statvfs(self.path)
        return st.f_bavail * st.f_frsize

    def fill(self, leave: int) -> Path:
        """A ballast file that takes all the free space but `leave` bytes; delete it to free the space."""
        ballast = self.path / "ballast"
        with open(ballast, "ab") as fh:
            chunk = b"\0" * (1 << 20)
            while (room := self.free() - leave) > 0:
                try:
                    fh.write(chunk[: min(len(chunk), room)])
                    fh.flush()
                except OSError:
                    break
        return ballast

    def unmount(self) -> None:
        if self.mounted:
            # Lazy: a process of the test that still has a file open there must not keep it mounted.
            subprocess.run(["umount", "-l", str(self.path)], capture_output=True)
            self.mounted = False
        with contextlib.suppress(OSError):
            self.path.rmdir()
