"""Passing faults never quarantine: a full disk or a database that refuses a write defers the message
(pending, with the reason, tried again with backoff) and pauses the queue; mail that cannot be
processed is still quarantined. Every fault here is real: a tmpfs that fills up, SQLite's own "database
or disk is full", a PostgreSQL lock held by another session, a connection to a server that is not
there."""

from __future__ import annotations

import os
import sqlite3
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from happydesk.inbox.models import Attachment, Conversation
from happydesk.mail.faults import passing_fault
from happydesk.mail.inbound import process_pending, retry_delay
from happydesk.mail.models import RawMessage
from happydesk.mail.store import store_raw
from tests.helpers import make_email, run_command

pytestmark = pytest.mark.django_db


def with_attachment(size: int, *, subject: str = "Invoice attached") -> bytes:
    msg = EmailMessage()
    msg["From"] = "Casey Customer <casey@example.test>"
    msg["To"] = "support@acme.test"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{subject.replace(' ', '-')}@example.test>"
    msg.set_content("The invoice is attached.\n")
    msg.add_attachment(os.urandom(size), maintype="application", subtype="pdf", filename="invoice.pdf")
    return msg.as_bytes()


def store(data: bytes) -> RawMessage:
    return store_raw(data, source="smtp", envelope_to=["support@acme.test"])


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def process_until(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Run the worker's inbound pass until the predicate holds, as a worker loop would."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "not processed in time"
        process_pending()
        time.sleep(0.05)


def test_a_full_disk_for_attachments_defers_then_the_message_goes_through(mailbox, settings, tmpfs):
    """The attachment folder is a 256 KiB tmpfs and the attachment 400 KB: the kernel says ENOSPC.
    The message waits (not quarantined) with the reason, no half-written file is left to eat the space,
    and once the admin adds space it arrives whole on its own."""
    media = tmpfs(256 * 1024)
    settings.MEDIA_ROOT = str(media.path)
    raw = store(with_attachment(400_000))

    assert process_pending() == 0
    raw.refresh_from_db()
    assert raw.state == RawMessage.State.PENDING, raw.reason
    assert raw.last_error.startswith("No space left on device"), raw.last_error
    assert raw.deferrals == 1 and raw.retry_at > timezone.now() and raw.claimed_by == ""
    assert files_under(media.path) == []  # the partial file is gone: the space is there for the retry
    assert not Conversation.objects.exists()

    assert process_pending() == 0  # the queue is paused: the fault is not probed again at once
    raw.refresh_from_db()
    assert raw.deferrals == 1

    media.resize(2 * 1024 * 1024)  # the admin adds space
    process_until(lambda: RawMessage.objects.get(pk=raw.pk).state != RawMessage.State.PENDING)
    raw.refresh_from_db()
    assert raw.state == RawMessage.State.PROCESSED and raw.last_error == "" and raw.retry_at is None
    attachment = Attachment.objects.get()
    assert attachment.size == 400_000 and attachment.file.size == 400_000
    assert len(files_under(media.path)) == 1


def test_one_fault_pauses_the_batch_instead_of_failing_every_message(mailbox, settings, tmpfs):
    """A backlog meets a full disk: one message probes it, the rest are not read, parsed and failed in
    turn; they stay pending, unclaimed and undeferred, and all go through in order afterwards."""
    media = tmpfs(128 * 1024)
    settings.MEDIA_ROOT = str(media.path)
    first = store(with_attachment(300_000))
    rest = [store(make_email(subject=f"Backlog {i}")) for i in range(3)]

    process_pending()
    first.refresh_from_db()
    assert first.deferrals == 1
    for raw in rest:
        raw.refresh_from_db()
        assert (raw.state, raw.deferrals, raw.claimed_by, raw.claimed_until) == ("pending", 0, "", None)

    media.resize(1024 * 1024)
    process_until(lambda: not RawMessage.objects.filter(state="pending").exists())
    assert set(RawMessage.objects.values_list("state", flat=True)) == {"processed"}
    assert Conversation.objects.count() == 4


def _hold_a_lock_on_messages():  # type: ignore[no-untyped-def]
    """Another session holds PostgreSQL's strongest lock on the messages table; ours gives up after
    200 ms (lock_timeout), as a busy production database refuses a write."""
    import psycopg

    s = connection.settings_dict
    other = psycopg.connect(
        host=s["HOST"] or "127.0.0.1",
        port=s["PORT"] or 5432,
        user=s["USER"],
        password=s["PASSWORD"] or None,
        dbname=s["NAME"],
    )
    other.execute("LOCK TABLE inbox_message IN ACCESS EXCLUSIVE MODE")
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '200ms'")

    def release() -> None:
        other.rollback()
        other.close()
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")

    return release, "canceling statement due to lock timeout"


def _fill_the_database():  # type: ignore[no-untyped-def]
    """SQLite is told the file may not grow (max_page_count): the next insert that needs a page fails
    with SQLite's own "database or disk is full", exactly as on a full disk."""
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA page_count")
        (pages,) = cursor.fetchone()
        cursor.execute(f"PRAGMA max_page_count = {pages}")

    def release() -> None:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA max_page_count = 4294967294")

    return release, "database or disk is full"


def test_a_database_that_refuses_writes_defers_with_the_reason_and_retries(mailbox):
    # A body far larger than any free pages the test database may have, so an insert needs new pages.
    raw = store(make_email(subject="Big one", body="All the details.\n" + "x" * 3_000_000 + "\n"))
    release, expected = (
        _hold_a_lock_on_messages() if connection.vendor == "postgresql" else _fill_the_database()
    )
    try:
        assert process_pending() == 0
    finally:
        release()
    raw.refresh_from_db()
    assert raw.state == RawMessage.State.PENDING, raw.reason
    assert expected in raw.last_error and raw.deferrals == 1
    assert not Conversation.objects.exists()
    process_until(lambda: RawMessage.objects.get(pk=raw.pk).state != RawMessage.State.PENDING)
    raw.refresh_from_db()
    assert raw.state == RawMessage.State.PROCESSED
    assert Conversation.objects.get().subject == "Big one"


def test_mail_that_cannot_be_processed_is_still_quarantined(mailbox):
    parts = "".join(f"--b\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n" for i in range(5000))
    bomb = store(
        (
            "From: bomber@example.test\r\nTo: support@acme.test\r\nSubject: many parts\r\n"
            'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n' + parts + "--b--\r\n"
        ).encode()
    )
    nobody = store(make_email(to="someone@elsewhere.test"))
    RawMessage.objects.filter(pk=nobody.pk).update(envelope_to=["someone@elsewhere.test"])
    process_pending()
    for row, why in ((bomb, "MessageTooComplex"), (nobody, "no mailbox")):
        row.refresh_from_db()
        assert row.state == RawMessage.State.QUARANTINED and why in row.reason and row.deferrals == 0


def test_the_raw_file_gone_is_quarantined_not_retried_forever(mailbox, settings):
    raw = store(make_email())
    (Path(settings.DATA_DIR) / raw.path).unlink()
    process_pending()
    raw.refresh_from_db()
    assert raw.state == RawMessage.State.QUARANTINED and "raw file unreadable" in raw.reason


def test_passing_faults_are_told_from_faults_of_the_message(tmp_path, tmpfs):
    """Real exceptions, from a full tmpfs, SQLite and a database server that is not there."""
    from django.db import IntegrityError, OperationalError
    from django.db.backends.postgresql.base import DatabaseWrapper as PostgresWrapper
    from django.db.utils import DEFAULT_DB_ALIAS

    from happydesk.mail.parsing.limits import MessageTooComplex

    faults: list[BaseException] = []
    full = tmpfs(64 * 1024)
    try:
        (full.path / "big").write_bytes(b"x" * 200_000)
    except OSError as exc:
        faults.append(exc)
    try:
        sqlite3.connect(str(tmp_path / "no" / "such" / "dir.sqlite3"))
    except sqlite3.OperationalError as exc:
        faults.append(OperationalError(str(exc)))
    gone = PostgresWrapper(
        {
            **connection.settings_dict,
            "ENGINE": "django.db.backends.postgresql",
            "HOST": "127.0.0.1",
            "PORT": "9",  # discard: nothing listens
            "NAME": "x",
            "USER": "x",
            "PASSWORD": "",
            "OPTIONS": {"connect_timeout": 2},
        },
        DEFAULT_DB_ALIAS,
    )
    try:
        gone.ensure_connection()
    except OperationalError as exc:
        faults.append(exc)
    assert len(faults) == 3
    reasons = [passing_fault(f) for f in faults]
    assert reasons[0] is not None and reasons[0].startswith("No space left on device")
    assert all(reasons), reasons
    wrapped = RuntimeError("storing the attachment failed")
    wrapped.__cause__ = faults[0]
    assert passing_fault(wrapped) == reasons[0]  # a fault behind another exception still counts

    not_passing: list[BaseException] = [
        MessageTooComplex("too many parts"),
        ValueError("bad value"),
        IntegrityError("UNIQUE constraint failed"),
        FileNotFoundError(2, "No such file or directory", "raw/x.eml"),
    ]
    assert [passing_fault(e) for e in not_passing] == [None] * 4


def test_backoff_grows_to_half_a_minute_and_stays():
    assert [retry_delay(n) for n in range(1, 9)] == [1, 2, 5, 10, 20, 30, 30, 30]


def test_admins_see_that_mail_is_held_up_and_why(mailbox, agent, settings, tmpfs):
    from happydesk.accounts.services import agent_create

    media = tmpfs(64 * 1024)
    settings.MEDIA_ROOT = str(media.path)
    store(with_attachment(200_000))
    process_pending()

    admin = Client()
    admin.force_login(agent)
    inbox = admin.get("/inbox/").content.decode()
    assert "Incoming mail is held up" in inbox
    assert "1 message waiting: No space left on device" in inbox and "retrying" in inbox
    page = admin.get("/admin/quarantine/").content.decode()
    assert "Waiting, not quarantined" in page and "No space left on device" in page
    assert "Nothing in quarantine" in page  # it is not quarantined
    assert "1 message waiting: No space left on device" in run_command("mail", "quarantine")

    helper = agent_create(email="sam@acme.test", name="Sam", password="correct-horse-battery")
    other = Client()
    other.force_login(helper)
    assert "held up" not in other.get("/inbox/").content.decode()  # for admins only


def test_mail_nobody_processes_shows_as_held_up_too(mailbox, agent):
    """No worker running (or the fault could not even be written down): mail pending for over a minute
    is shown all the same."""
    raw = store(make_email())
    client = Client()
    client.force_login(agent)
    assert "held up" not in client.get("/inbox/").content.decode()
    RawMessage.objects.filter(pk=raw.pk).update(received_at=timezone.now() - timezone.timedelta(minutes=5))
    assert (
        "1 message waiting: not processed yet (is a worker running?)"
        in client.get("/inbox/").content.decode()
    )
