"""Data at rest, tried as another user on the same machine and as someone holding a database dump:
what Happydesk writes is its owner's alone, and an IMAP password is neither in the database in the
clear nor ever sent back to a browser."""

from __future__ import annotations

import smtplib
import sqlite3
import stat
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from happydesk import crypto
from happydesk.inbox.models import Mailbox
from happydesk.inbox.services import mailbox_create
from tests.helpers import free_port, once_per_suite, stop, subprocess_env, wait_for_port

PASSWORD = "imap-Secret-7f3b9"


def _happydesk(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "happydesk.cli", *args], env=env, check=True, timeout=180)


@pytest.mark.slow
@once_per_suite  # its own embedded database, whatever the suite runs on
def test_everything_served_and_stored_is_closed_to_other_users(tmp_path):
    """A real `happydesk serve` on its own SQLite database takes an email with an attachment; then
    nothing under the data folder is readable by group or others, and the user `nobody` can neither
    list the folder nor read the database (the folder existed with 0755 before: it is tightened)."""
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    # The auto-reply goes at once (not held back for an incident reply), so its sent copy is on disk too.
    env = subprocess_env(
        HAPPYDESK_DATA_DIR=str(data), HAPPYDESK_LOG_LEVEL="WARNING", HAPPYDESK_AUTO_REPLY_HOLD_SECONDS="0"
    )
    env.pop("DATABASE_URL")  # its own embedded database, created by the command itself
    _happydesk(env, "migrate", "--no-input", "-v", "0")
    _happydesk(env, "mailbox", "add", "support@acme.test", "--name", "Acme Support")
    http, smtp = free_port(), free_port()
    env["HAPPYDESK_BASE_URL"] = f"http://127.0.0.1:{http}"
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
        env=env,
        start_new_session=True,
    )
    try:
        wait_for_port(smtp)
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "casey@example.test", "support@acme.test", "Invoice"
        msg.set_content("My invoice is attached.")
        msg.add_attachment(b"%PDF-1.4 private", maintype="application", subtype="pdf", filename="invoice.pdf")
        with smtplib.SMTP("127.0.0.1", smtp) as s:
            s.send_message(msg)
        db = sqlite3.connect(data / "happydesk.sqlite3")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if db.execute("SELECT count(*) FROM inbox_attachment").fetchone()[0] and any(
                (data / "outbox").glob("*")
            ):
                break
            time.sleep(0.1)
        else:
            pytest.fail("the email's attachment was never stored, or the auto-reply never written")
        db.close()
    finally:
        stop(proc)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for path in [data, *data.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert mode & 0o077 == 0, f"{path.relative_to(data)} is {oct(mode)}"
    files = {p.relative_to(data).parts[0] for p in data.rglob("*") if p.is_file()}
    assert {"happydesk.sqlite3", "raw", "media", "outbox"} <= files, (
        files
    )  # database, raw mail, PDF, auto-reply
    for command in (["ls", str(data)], ["cat", str(data / "happydesk.sqlite3")]):
        tried = subprocess.run(["runuser", "-u", "nobody", "--", *command], capture_output=True, text=True)
        assert tried.returncode != 0 and "Permission denied" in tried.stderr, command


def _stored_password(mailbox_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT imap_password FROM inbox_mailbox WHERE id = %s", [mailbox_id])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_an_imap_password_is_encrypted_in_the_database_and_never_sent_back(agent):
    admin = Client()
    admin.force_login(agent)
    form = {
        "address": "billing@acme.test",
        "name": "Billing",
        "timezone": "UTC",
        "auto_reply_window_minutes": 60,
        "response_goal_minutes": 240,
        "imap_host": "imap.acme.test",
        "imap_port": 993,
        "imap_security": "ssl",
        "imap_username": "billing",
        "imap_password": PASSWORD,
        "rating_mode": "closing",
        "rating_window_days": 30,
    }
    r = admin.post("/admin/mailboxes/new/", form)
    assert r.status_code == 302, r.context["form"].errors
    box = Mailbox.objects.get(address="billing@acme.test")
    assert box.imap_password == PASSWORD  # the fetcher reads the real password
    stored = _stored_password(box.pk)
    assert stored.startswith("fernet:") and PASSWORD not in stored  # what a database dump holds

    page = admin.get(f"/admin/mailboxes/{box.pk}/").content.decode()
    assert PASSWORD not in page and stored not in page
    assert "A password is saved (encrypted). Leave empty to keep it." in page

    admin.post(f"/admin/mailboxes/{box.pk}/", {**form, "imap_password": "", "name": "Billing team"})
    box.refresh_from_db()
    assert (box.name, box.imap_password) == ("Billing team", PASSWORD)  # empty kept it

    admin.post(f"/admin/mailboxes/{box.pk}/", {**form, "imap_password": "", "imap_password_forget": "on"})
    box.refresh_from_db()
    assert box.imap_password == ""
    assert "A password is saved" not in admin.get(f"/admin/mailboxes/{box.pk}/").content.decode()


@pytest.mark.django_db
def test_keys_rotate_and_a_lost_key_is_said_plainly(monkeypatch, settings, tmp_path):
    from cryptography.fernet import Fernet

    settings.DATA_DIR = tmp_path
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    try:
        crypto._fernet.cache_clear()
        monkeypatch.setenv("HAPPYDESK_ENCRYPTION_KEYS", old)
        box = mailbox_create(address="ops@acme.test", name="Ops", imap_password=PASSWORD)
        crypto._fernet.cache_clear()
        monkeypatch.setenv(
            "HAPPYDESK_ENCRYPTION_KEYS", f"{new},{old}"
        )  # rotation: new first, old still opens
        assert Mailbox.objects.get(pk=box.pk).imap_password == PASSWORD
        box.save()  # written again with the new key
        crypto._fernet.cache_clear()
        monkeypatch.setenv("HAPPYDESK_ENCRYPTION_KEYS", new)
        assert Mailbox.objects.get(pk=box.pk).imap_password == PASSWORD
        crypto._fernet.cache_clear()
        monkeypatch.setenv("HAPPYDESK_ENCRYPTION_KEYS", Fernet.generate_key().decode())
        with pytest.raises(crypto.UndecryptableSecret, match="HAPPYDESK_ENCRYPTION_KEYS"):
            Mailbox.objects.get(pk=box.pk)
        crypto._fernet.cache_clear()
        monkeypatch.delenv("HAPPYDESK_ENCRYPTION_KEYS")
        crypto.encrypt("x")  # no configured key: one is generated in the data folder, owner-only
        assert stat.S_IMODE((Path(tmp_path) / "encryption.key").stat().st_mode) == 0o600
    finally:
        crypto._fernet.cache_clear()


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_passwords_stored_in_the_clear():
    from django.db.migrations.executor import MigrationExecutor

    box = mailbox_create(address="legacy@acme.test", name="Legacy")
    MigrationExecutor(connection).migrate([("inbox", "0015_outbox_sweep_index")])
    with connection.cursor() as cursor:  # as a password was stored before this release
        cursor.execute("UPDATE inbox_mailbox SET imap_password = %s WHERE id = %s", [PASSWORD, box.pk])
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    stored = _stored_password(box.pk)
    assert stored.startswith("fernet:") and PASSWORD not in stored
    assert Mailbox.objects.get(pk=box.pk).imap_password == PASSWORD


@pytest.mark.django_db
def test_no_other_way_in_gives_the_imap_password_back(agent):
    """The outsider's tries after an admin saved a password: the API, the audit log (page and CSV
    export), the mailbox list, and another agent who opens the admin form."""
    from happydesk.accounts.services import agent_create, token_create
    from happydesk.audit.models import AuditEntry

    admin = Client()
    admin.force_login(agent)
    box = mailbox_create(address="ops@acme.test", name="Ops", imap_host="imap.acme.test", by=agent)
    box = mailbox_create(address="ops@acme.test", name="Ops", imap_password=PASSWORD, by=agent)
    stored = _stored_password(box.pk)
    leaks = (PASSWORD, stored, stored.removeprefix("fernet:"))

    api = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(user=agent)}")
    seen = {
        "api": api.get("/api/v1/mailboxes").content.decode(),
        "audit": admin.get("/admin/audit/").content.decode(),
        "audit csv": admin.get("/admin/audit/export.csv").content.decode(),
        "mailboxes": admin.get("/admin/mailboxes/").content.decode(),
        "audit rows": repr(list(AuditEntry.objects.values_list("details", flat=True))),
    }
    assert "ops@acme.test" in seen["api"]  # the endpoint answered, and the page is the real one
    details = list(AuditEntry.objects.values_list("details", flat=True))
    assert {"changed": ["imap_password"], "imap_password": "changed"} in details  # named, never shown
    for where, text in seen.items():
        assert not any(secret in text for secret in leaks), where

    helper = agent_create(email="sam@acme.test", name="Sam", password="correct-horse-battery")
    other = Client()
    other.force_login(helper)
    r = other.get(f"/admin/mailboxes/{box.pk}/")
    assert r.status_code in (302, 403, 404) and PASSWORD not in r.content.decode()
