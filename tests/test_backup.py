"""Backup and restore, drilled on a real help desk: a backup taken while mail arrives over SMTP, restored
into a fresh folder, holds every message acknowledged before it began, byte for byte, and nothing else
changes on the way; a damaged backup or a desk in use is refused."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
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
    "inbox_conversation": "id, subject, link_selector, customer_id, mailbox_id, created_at",
    "customers_customer": "id, name, created_at",
}


def _happydesk(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "happydesk.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )
    if check:
        assert done.returncode == 0, f"happydesk {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done


def _desk(data: Path, url: str | None = None) -> dict[str, str]:
    """The environment of a desk on its own data folder and its own database: embedded SQLite, or the
    PostgreSQL database `url`."""
    env = subprocess_env(HAPPYDESK_DATA_DIR=str(data), HAPPYDESK_LOG_LEVEL="WARNING")
    env.pop("DATABASE_URL")
    if url:
        env["DATABASE_URL"] = url
    return env


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _query(data: Path, url: str | None, sql: str) -> list[tuple]:
    """Rows straight from a desk's database, not through Django: what is really stored."""
    if url:
        import psycopg

        with psycopg.connect(url) as conn:
            return [tuple(r) for r in conn.execute(sql).fetchall()]
    with sqlite3.connect(f"file:{data / 'happydesk.sqlite3'}?mode=ro", uri=True) as conn:
        return conn.execute(sql).fetchall()


def _rows(data: Path, url: str | None, table: str) -> dict[int, tuple]:
    return {row[0]: row for row in _query(data, url, f"SELECT {STABLE[table]} FROM {table}")}  # noqa: S608


def _pending(data: Path, url: str | None) -> int:
    return _query(data, url, "SELECT count(*) FROM mail_rawmessage WHERE state = 'pending'")[0][0]


def _wait_processed(data: Path, url: str | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pending(data, url):
            return
        time.sleep(0.2)
    pytest.fail("the original desk never processed all its mail")


@pytest.mark.slow
@once_per_suite  # its own embedded database, whatever the suite runs on
def test_backup_drill_during_a_burst_over_smtp(tmp_path):
    """The drill on embedded SQLite: the online backup API while the serving process writes."""
    _drill(tmp_path, None, None)


@pytest.mark.slow
@pytest.mark.pg_only
@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="needs PostgreSQL")
def test_backup_drill_on_postgresql(tmp_path):
    """The drill on PostgreSQL: pg_dump of the serving desk's database, pg_restore into a second one."""
    import psycopg

    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    names = [f"hd_drill_{secrets.token_hex(4)}", f"hd_restored_{secrets.token_hex(4)}"]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        for name in names:
            admin.execute(f"CREATE DATABASE {name}")
    try:
        _drill(tmp_path, f"{base}/{names[0]}", f"{base}/{names[1]}")
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            for name in names:
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _drill(tmp_path: Path, url: str | None, restored_url: str | None) -> None:
    """200 messages over SMTP from two clients; `happydesk backup` runs in the middle. Restored into a
    fresh folder and database: every message acknowledged before the database copy began is there,
    every raw row's file has its SHA-256, rows equal the original's by id, `migrate` and a worker run on
    it; a second restore over it and a damaged backup are refused."""
    started = time.monotonic()
    data, restored, backup = tmp_path / "data", tmp_path / "restored", tmp_path / "backup"
    env = _desk(data, url)
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
    backup_done = threading.Event()

    def sender(index: int) -> None:
        """At least total/clients messages, and on until the backup has finished: however slow the
        machine, the burst goes on around the whole backup."""
        n, after_backup, conn = 0, 0, None
        give_up = time.monotonic() + 120
        while (n < total // clients or after_backup < 5) and time.monotonic() < give_up:
            after_backup += backup_done.is_set()
            try:
                if conn is None:
                    conn = smtplib.SMTP("127.0.0.1", smtp, timeout=10)
                address = f"drill{index}-{n}@example.test"
                conn.sendmail(
                    address, ["support@acme.test"], make_email(sender=address, subject=f"Drill {address}")
                )
                with lock:
                    acked[address] = time.time()
                n += 1
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
        try:
            _happydesk(env, "backup", str(backup))
        finally:
            backup_done.set()
        backup_took = time.monotonic() - backup_began
        for t in threads:
            t.join(timeout=150)
        assert len(acked) >= total, f"only {len(acked)} of at least {total} acknowledged"
        _wait_processed(data, url, 120)
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
    renv = _desk(restored, restored_url)
    _happydesk(renv, "restore", str(backup))
    _happydesk(renv, "migrate", "--no-input", "-v", "0")
    raw = _rows(restored, restored_url, "mail_rawmessage")
    senders = {row[2] for row in raw.values()}
    lost = before - senders
    assert not lost, f"{len(lost)} messages acknowledged before the backup are not in it: {sorted(lost)[:3]}"
    for row in raw.values():
        path, sha = row[3], row[5]
        assert (restored / path).is_file(), f"raw row {row[0]}: {path} not restored"
        assert _sha(restored / path) == sha == _sha(data / path), f"raw row {row[0]}: {path} differs"
    compared = 0
    for table in STABLE:
        original, copy = _rows(data, url, table), _rows(restored, restored_url, table)
        assert copy, f"{table}: nothing restored"
        for pk, row in copy.items():
            assert original.get(pk) == row, f"{table} {pk}: restored {row}, original {original.get(pk)}"
        compared += len(copy)
    for entry in manifest["files"]:
        assert _sha(restored / entry["path"]) == entry["sha256"] == _sha(data / entry["path"]), entry["path"]

    # The restored desk works: mail pending at backup time is processed there.
    _happydesk(renv, "worker", "--drain", "--inbound-only")
    assert not _pending(restored, restored_url)

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
    refused = _happydesk(_desk(fresh, url and f"{url}_never"), "restore", str(damaged), check=False)
    assert refused.returncode != 0 and f"files/{victim}" in refused.stderr, refused.stderr
    assert not (fresh / "raw").exists()

    print(
        f"drill ({'postgresql' if url else 'sqlite'}): {len(acked)} messages, {len(before)} acked before the database copy began, {len(after)} after it "
        f"ended; backup {backup_took:.2f}s ({len(manifest['files'])} files, {len(raw)} raw rows); compared "
        f"{compared} rows and {len(manifest['files'])} files; whole drill {time.monotonic() - started:.1f}s"
    )


@pytest.mark.slow
@once_per_suite
def test_a_backup_stays_out_of_the_data_folder_and_restores_nothing_outside_it(tmp_path):
    """The attacker's backup: a manifest that names `../` (with a matching hash) is refused before
    anything is written; and a backup is never made inside the data folder it copies."""
    data = tmp_path / "data"
    env = _desk(data)
    _happydesk(env, "migrate", "--no-input", "-v", "0")
    inside = _happydesk(env, "backup", str(data / "raw" / "backup"), check=False)
    assert inside.returncode != 0 and "inside the data folder" in inside.stderr, inside.stderr
    backup = tmp_path / "backup"
    _happydesk(env, "backup", str(backup))
    evil = tmp_path / "evil.txt"
    (backup / "files" / "raw").mkdir()
    (backup / "files" / "raw" / "x").write_text("owned")
    manifest = json.loads((backup / "manifest.json").read_text())
    manifest["files"].append(
        {"path": "raw/../../evil.txt", "size": 5, "sha256": _sha(backup / "files/raw/x")}
    )
    (backup / "manifest.json").write_text(json.dumps(manifest))
    fresh = tmp_path / "fresh"
    refused = _happydesk(_desk(fresh), "restore", str(backup), check=False)
    assert refused.returncode != 0 and "outside the data folder" in refused.stderr, refused.stderr
    assert not evil.exists() and (fresh / "secret_key").read_text() != (data / "secret_key").read_text()


def test_a_crafted_manifest_cannot_name_a_database_outside_the_backup(tmp_path):
    """The attacker's backup names someone else's database (with its true hash): refused by the check
    every restore runs first, before anything is read into this desk."""
    from happydesk.runtime.backup import FORMAT, BackupError, backup_verify

    theirs = tmp_path / "theirs.sqlite3"
    theirs.write_bytes(b"SQLite format 3\0")
    backup = tmp_path / "backup"
    backup.mkdir()
    for name in (str(theirs), "../theirs.sqlite3"):
        database = {"engine": "sqlite", "file": name, "size": theirs.stat().st_size, "sha256": _sha(theirs)}
        manifest = {"format": FORMAT, "database": database, "files": []}
        (backup / "manifest.json").write_text(json.dumps(manifest))
        with pytest.raises(BackupError, match="database file outside the backup"):
            backup_verify(backup)
