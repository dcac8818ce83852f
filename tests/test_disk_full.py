"""The data folder fills up during a burst over SMTP (issue 12): `happydesk serve` keeps its SQLite
database, raw mail and attachments on a small real tmpfs, a ballast file takes the free space, and four
clients send at once. Every message answered 250 becomes a conversation once space returns, none is
quarantined, the rest got a 4xx (so the sender's server retries them), and those arrive too."""

from __future__ import annotations

import os
import smtplib
import sqlite3
import subprocess
import sys
import threading
import time
from email.utils import make_msgid

import pytest

from tests.helpers import free_port, make_email, once_per_suite, start_serve, stop

pytestmark = [pytest.mark.slow, once_per_suite]  # its own SQLite on a tmpfs, whatever the suite runs on

CLIENTS, PER_CLIENT = 4, 40
ROOM = 1_500_000  # bytes left free when the burst starts: room for a few dozen messages


def wait_until(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def body(n: int) -> str:
    """About 16 KB of text that differs per message (the search index grows with it, as with real mail)."""
    words = " ".join(f"word{(n * 7919 + i) % 100_003}" for i in range(1600))
    return "Hello, here are the details of my problem.\n\n" + words + "\n"


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "happydesk.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def send_all(
    port: int, todo: list[tuple[str, bytes]], results: dict[str, object], lock: threading.Lock
) -> None:
    """Like a sending server: each message once, remembering the answer (250, or the code of a refusal)."""
    conn: smtplib.SMTP | None = None
    for mid, data in todo:
        answer: object
        try:
            if conn is None:
                conn = smtplib.SMTP("127.0.0.1", port, timeout=30)
            conn.sendmail("burst@example.test", ["support@acme.test"], data)
            answer = 250
        except smtplib.SMTPResponseException as exc:
            answer = exc.smtp_code
        except smtplib.SMTPRecipientsRefused as exc:
            answer = next(iter(exc.recipients.values()))[0]
        except (smtplib.SMTPException, OSError) as exc:  # a dropped connection is no answer at all
            answer = f"{type(exc).__name__}: {exc}"
            conn = None
        with lock:
            results[mid] = answer
    if conn is not None:
        conn.quit()


def test_disk_full_during_a_burst_loses_nothing_and_quarantines_nothing(tmpfs):
    fs = tmpfs(40 * 1024 * 1024)
    db_path = fs.path / "happydesk.sqlite3"
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "HAPPYDESK_DATA_DIR": str(fs.path),
        "DATABASE_URL": f"sqlite:///{db_path}",
    }
    cli(env, "migrate", "--no-input", "-v", "0")
    cli(env, "mailbox", "add", "support@acme.test", "--name", "Acme Support")

    def rows(sql: str) -> list[tuple]:
        with sqlite3.connect(db_path, timeout=30) as db:
            return db.execute(sql).fetchall()

    http, smtp = free_port(), free_port()
    proc = start_serve(http, smtp, HAPPYDESK_DATA_DIR=str(fs.path), DATABASE_URL=f"sqlite:///{db_path}")
    try:
        ballast = fs.fill(leave=ROOM)
        messages = {
            mid: make_email(
                sender=f"burst{n}@example.test", subject=f"Burst {n}", message_id=mid, body=body(n)
            )
            for n, mid in enumerate(
                make_msgid(domain="burst.example.test") for _ in range(CLIENTS * PER_CLIENT)
            )
        }
        items = list(messages.items())
        results: dict[str, object] = {}
        lock = threading.Lock()
        started = time.monotonic()
        threads = [
            threading.Thread(target=send_all, args=(smtp, items[i::CLIENTS], results, lock))
            for i in range(CLIENTS)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        burst = time.monotonic() - started
        acked = [mid for mid, answer in results.items() if answer == 250]
        refused = {mid: answer for mid, answer in results.items() if answer != 250}
        print(f"burst of {len(results)} in {burst:.1f}s: {len(acked)} answered 250, {len(refused)} refused")
        assert len(results) == len(messages)
        assert all(isinstance(a, int) and 400 <= a < 500 for a in refused.values()), set(refused.values())
        assert acked and refused, "the disk did not fill during the burst: make ROOM smaller"

        # While the disk is full the worker meets it too: accepted mail waits, and none is quarantined.
        time.sleep(3)
        pending = rows("SELECT count(*) FROM mail_rawmessage WHERE state = 'pending'")[0][0]
        deferred = rows("SELECT count(*), max(last_error) FROM mail_rawmessage WHERE deferrals > 0")[0]
        held = cli(env, "mail", "quarantine")
        print(
            f"disk full: {pending} accepted messages pending, {deferred[0]} deferred ({deferred[1]}); {held.strip()}"
        )
        assert rows("SELECT count(*) FROM mail_rawmessage WHERE state = 'quarantined'") == [(0,)]
        assert pending > 0, "the worker never met the full disk: the test proves nothing"
        assert "0 quarantined" in held

        ballast.unlink()  # space returns
        freed = time.monotonic()
        assert wait_until(
            lambda: rows("SELECT count(*) FROM mail_rawmessage WHERE state = 'pending'") == [(0,)], 150
        ), rows(
            "SELECT id, deferrals, last_error, retry_at, claimed_until FROM mail_rawmessage WHERE state = 'pending' LIMIT 5"
        )
        print(f"backlog processed {time.monotonic() - freed:.1f}s after space returned")
        assert rows("SELECT count(*) FROM mail_rawmessage WHERE state = 'quarantined'") == [(0,)]
        stored = dict(
            rows("SELECT message_id, count(*) FROM inbox_message WHERE kind = 'customer' GROUP BY message_id")
        )
        missing = [m for m in acked if stored.get(m.strip("<>"), 0) != 1]
        assert not missing, (
            f"{len(missing)} of {len(acked)} acknowledged messages are not exactly one message"
        )
        assert not [m for m in refused if m.strip("<>") in stored]  # refused means not taken

        # The sender's server retries what got 4xx: now it all goes through.
        retry: dict[str, object] = {}
        send_all(smtp, [(mid, messages[mid]) for mid in refused], retry, lock)
        assert set(retry.values()) == {250}
        assert wait_until(
            lambda: (
                rows("SELECT count(*) FROM inbox_conversation WHERE subject LIKE 'Burst %'")
                == [(len(messages),)]
            ),
            120,
        )
        assert rows("SELECT count(*) FROM mail_rawmessage WHERE state = 'quarantined'") == [(0,)]
        # A refused message left no file behind to take up the space the retries needed.
        files = sorted(str(p.relative_to(fs.path)) for p in (fs.path / "raw").rglob("*") if p.is_file())
        assert files == sorted(r[0] for r in rows("SELECT path FROM mail_rawmessage")), "orphan raw files"
    finally:
        stop(proc)
