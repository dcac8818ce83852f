"""Backup and restore, drilled on a real help desk: a backup taken while mail arrives over SMTP, restored
into a fresh folder, holds every message acknowledged before it began, byte for byte, and nothing else
changes on the way; a damaged backup or a desk in use is refused."""

from __future__ import annotations

import hashlib
import json
import shutil
import smtplib
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.helpers import free_port, make_email, once_per_suite, stop, subprocess_env, wait_for_port

# Columns that never change once a row is written: the restored row must equal the original's.
STABLE = {
    "mail_rawmessage": "id, source, envelope_from, path, size, sha256, received_at",
    "inbox_message": "id, kind, from_address, subject, text, message_id, conversation_id, customer_id, raw_id",
    "inbox_conversation": "id, subject, token, customer_id, mailbox_id, created_at",
    "customers_customer": "id, name, created_at",
}


def _happydesk(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "happydesk.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )
    if check:
        assert done.returncode == 0, f"happydesk {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done


def _desk(data: Path) -> dict[str, str]:
    """The environment of a desk on its own data folder and embedded SQLite database."""
    env = subprocess_env(HAPPYDESK_DATA_DIR=str(data), HAPPYDESK_LOG_LEVEL="WARNING")
    env.pop("DATABASE_URL")
    return env


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(db: Path, table: str) -> dict[int, tuple]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return {row[0]: row for row in conn.execute(f"SELECT {STABLE[table]} FROM {table}")}  # noqa: S608


def _wait_processed(db: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            if not conn.execute("SELECT count(*) FROM mail_rawmessage WHERE state = 'pending'").fetchone()[0]:
                return
        time.sleep(0.2)
    pytest.fail("the original desk never processed all its mail")


@pytest.mark.slow
@once_per_suite  # its own embedded database, whatever the suite runs on
def test_backup_drill_during_a_burst_over_smtp(tmp_path):
    """200 messages over SMTP from two clients; `happydesk backup` runs in the middle. Restored into a
    fresh folder: every message acknowledged before the database copy began is there, every raw row's
    file has its SHA-256, rows equal the original's by id, and `migrate` and a worker run on it."""
    started = time.monotonic()
    data, restored, backup = tmp_path / "data", tmp_path / "restored", tmp_path / "backup"
    env = _desk(data)
    _happydesk(env, "migrate", "--no-input", "-v", "0")
    _happydesk(env, "mailbox", "add", "support@acme.test", "--name", "Acme Support")
    http, smtp = free_port(), free_port()
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
        env={**env, "HAPPYDESK_BASE_URL": f"http://127.0.0.1:{http}"},
        start_new_session=True,
    )
    total, clients = 200, 2
    acked: dict[str, float] = {}  # envelope sender -> wall-clock time of its 250
    lock = threading.Lock()

    def sender(index: int) -> None:
        todo = [f"drill{index}-{n}@example.test" for n in range(total // clients)]
        conn = None
        give_up = time.monotonic() + 120
        while todo and time.monotonic() < give_up:
            try:
                if conn is None:
                    conn = smtplib.SMTP("127.0.0.1", smtp, timeout=10)
                address = todo[0]
                conn.sendmail(
                    address, ["support@acme.test"], make_email(sender=address, subject=f"Drill {address}")
                )
                with lock:
                    acked[address] = time.time()
                todo.pop(0)
                time.sleep(0.04)  # about 40 a second in all: the backup lands mid-burst
            except (smtplib.SMTPException, OSError):
                conn = None
                time.sleep(0.05)
        if conn is not None:
            conn.quit()

    threads = [threading.Thread(target=sender, args=(i,), daemon=True) for i in range(clients)]
    try:
        wait_for_port(smtp)
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(acked) < 40 and time.monotonic() < deadline:
            time.sleep(0.02)
        backup_began = time.monotonic()
        _happydesk(env, "backup", str(backup))
        backup_took = time.monotonic() - backup_began
        for t in threads:
            t.join(timeout=150)
        assert len(acked) == total, f"only {len(acked)} of {total} acknowledged"
        _wait_processed(data / "happydesk.sqlite3", 120)
    finally:
        stop(proc)

    manifest = json.loads((backup / "manifest.json").read_text())
    copy_began = datetime.fromisoformat(manifest["database"]["copy_started_at"]).timestamp()
    copy_ended = datetime.fromisoformat(manifest["database"]["copy_finished_at"]).timestamp()
    before = {a for a, at in acked.items() if at < copy_began}
    after = {a for a, at in acked.items() if at > copy_ended}
    assert before and after, (
        f"the backup did not overlap the burst ({len(before)} before, {len(after)} after)"
    )

    # Owner-only, all of it.
    for path in [backup, *backup.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path.relative_to(backup)} is {oct(mode)}"

    restored.mkdir()
    renv = _desk(restored)
    _happydesk(renv, "restore", str(backup))
    _happydesk(renv, "migrate", "--no-input", "-v", "0")
    rdb, odb = restored / "happydesk.sqlite3", data / "happydesk.sqlite3"

    raw = _rows(rdb, "mail_rawmessage")
    senders = {row[2] for row in raw.values()}
    lost = before - senders
    assert not lost, f"{len(lost)} messages acknowledged before the backup are not in it: {sorted(lost)[:3]}"
    for row in raw.values():
        path, sha = row[3], row[5]
        assert (restored / path).is_file(), f"raw row {row[0]}: {path} not restored"
        assert _sha(restored / path) == sha == _sha(data / path), f"raw row {row[0]}: {path} differs"
    compared = 0
    for table in STABLE:
        original, copy = _rows(odb, table), _rows(rdb, table)
        assert copy, f"{table}: nothing restored"
        for pk, row in copy.items():
            assert original.get(pk) == row, f"{table} {pk}: restored {row}, original {original.get(pk)}"
        compared += len(copy)
    for entry in manifest["files"]:
        assert _sha(restored / entry["path"]) == entry["sha256"] == _sha(data / entry["path"]), entry["path"]

    # The restored desk works: mail pending at backup time is processed there.
    _happydesk(renv, "worker", "--drain", "--inbound-only")
    with sqlite3.connect(rdb) as conn:
        assert not conn.execute("SELECT count(*) FROM mail_rawmessage WHERE state = 'pending'").fetchone()[0]

    # A desk in use is not overwritten.
    again = _happydesk(renv, "restore", str(backup), check=False)
    assert again.returncode != 0 and "refusing to overwrite" in again.stderr, again.stderr

    # A damaged backup is refused, naming the file, before anything is written.
    damaged, fresh = tmp_path / "damaged", tmp_path / "fresh"
    shutil.copytree(backup, damaged)
    victim = next(row[3] for row in raw.values())
    target = damaged / "files" / victim
    target.write_bytes(target.read_bytes().replace(b"Drill", b"Drall", 1))
    fresh.mkdir()
    refused = _happydesk(_desk(fresh), "restore", str(damaged), check=False)
    assert refused.returncode != 0 and f"files/{victim}" in refused.stderr, refused.stderr
    assert not (fresh / "raw").exists()

    print(
        f"drill: {total} messages, {len(before)} acked before the database copy began, {len(after)} after it "
        f"ended; backup {backup_took:.2f}s ({len(manifest['files'])} files, {len(raw)} raw rows); compared "
        f"{compared} rows and {len(manifest['files'])} files; whole drill {time.monotonic() - started:.1f}s"
    )
