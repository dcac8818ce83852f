"""The audit log is append-only, tried the way someone with more access than they should have would:
through the ORM, with raw SQL on the connection the app uses (SQLite and PostgreSQL both refuse), and
outside the database's guard (triggers dropped), where `happydesk audit verify` notices."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from happydesk.accounts.models import User
from happydesk.audit.models import Action, AppendOnly, AuditEntry
from happydesk.audit.services import (
    TRIGGERS,
    Target,
    UnsafeDetails,
    chain_verify,
    erasure_reference,
    installed_triggers,
    record,
)
from tests.helpers import run_command

pytestmark = pytest.mark.django_db

TABLE = AuditEntry._meta.db_table


@pytest.fixture
def entries() -> list[AuditEntry]:
    return [
        record(Action.AGENT_CREATED, target=Target("agent", 7, "sam@acme.test"), details={"role": "agent"}),
        record(Action.AGENT_ROLE_CHANGED, target=Target("agent", 7, "sam@acme.test"), ip="203.0.113.9"),
        record(Action.MAILBOX_UPDATED, details={"changed": ["imap_password"], "imap_password": "changed"}),
    ]


def refused_sql(sql: str, params: list | None = None) -> bool:
    """Run raw SQL as the app's own connection would; True when the database refused it."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params or [])
    except IntegrityError as exc:
        assert "audit log entries cannot be changed or deleted" in str(exc)
        return True
    return False


def test_entries_chain_and_verify(entries):
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == "" and entries[1].prev_hash == entries[0].hash
    assert entries[2].prev_hash == entries[1].hash
    report = chain_verify()
    assert report.intact and report.entries == 3 and report.head_hash == entries[2].hash
    assert "audit log intact: 3 entries" in run_command("audit", "verify")


def test_the_orm_refuses_every_change_and_deletion(entries):
    entry = AuditEntry.objects.get(seq=2)
    entry.action = Action.AGENT_DEACTIVATED
    for attempt in (
        entry.save,
        lambda: entry.save(update_fields=["action"]),
        entry.delete,
        lambda: AuditEntry.objects.filter(seq=2).update(ip="198.51.100.1"),
        lambda: AuditEntry.objects.all().delete(),
        lambda: AuditEntry._base_manager.filter(seq=2).update(ip="198.51.100.1"),
        lambda: AuditEntry.objects.bulk_update([entry], ["action"]),
        lambda: AuditEntry.objects.bulk_create([AuditEntry(seq=99, action=Action.AUDIT_EXPORTED)]),
        lambda: AuditEntry.objects.update_or_create(seq=2, defaults={"ip": "198.51.100.1"}),
    ):
        with pytest.raises(AppendOnly):
            attempt()
    assert AuditEntry.objects.get(seq=2).action == Action.AGENT_ROLE_CHANGED
    assert AuditEntry.objects.count() == 3 and chain_verify().intact


def test_raw_sql_update_and_delete_are_refused_by_the_database(entries):
    assert sorted(installed_triggers()) == sorted(TRIGGERS)
    assert refused_sql(f"UPDATE {TABLE} SET actor_email = 'someone-else@acme.test' WHERE seq = 2")
    assert refused_sql(f"UPDATE {TABLE} SET details = %s", ['{"role": "admin"}'])
    assert refused_sql(f"DELETE FROM {TABLE} WHERE seq = 3")
    assert refused_sql(f"DELETE FROM {TABLE}")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT seq, actor_email FROM {TABLE} ORDER BY seq")
        assert cursor.fetchall() == [(1, ""), (2, ""), (3, "")]
    assert chain_verify().intact


def _drop_triggers() -> None:
    """What only the database's owner can do (in the test's transaction, so it is rolled back)."""
    with connection.cursor() as cursor:
        for name in TRIGGERS:
            suffix = f" ON {TABLE}" if connection.vendor == "postgresql" else ""
            cursor.execute(f"DROP TRIGGER {name}{suffix}")


def test_an_entry_changed_behind_the_apps_back_is_found(entries):
    _drop_triggers()
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET target_label = 'nobody@acme.test' WHERE seq = 2")
    report = chain_verify()
    assert not report.intact
    assert "entry #2: content does not match its hash (changed)" in report.problems
    assert any("triggers missing" in p for p in report.problems)
    with pytest.raises(CommandError, match="problems in 3 entries"):
        call_command("audit", "verify")


def test_an_entry_removed_or_slipped_in_is_found(entries):
    _drop_triggers()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE seq = 2")
    problems = chain_verify().problems or []
    assert "entry #3: expected #2 (entries missing)" in problems
    assert "entry #3: does not follow the entry before it" in problems
    # A forged entry written with the right number and link still needs the right hash.
    forged = AuditEntry(seq=2, action=Action.AGENT_ROLE_CHANGED, prev_hash=entries[0].hash, hash="0" * 64)
    forged.save()
    assert "entry #2: content does not match its hash (changed)" in (chain_verify().problems or [])


def test_deleting_an_agent_leaves_their_entries_and_email(entries):
    sam = User.objects.create_user("sam@acme.test", "x" * 16, name="Sam")
    entry = record(Action.SIGNIN_SUCCEEDED, actor=sam, target=Target("agent", sam.pk, sam.email))
    sam.delete()
    kept = AuditEntry.objects.get(pk=entry.pk)
    assert kept.actor_id == entry.actor_id and kept.actor_email == "sam@acme.test"
    assert chain_verify().intact


def test_no_secret_goes_into_details():
    for details in (
        {"password": "correct-horse-battery"},
        {"imap_password": "hunter2-hunter2"},
        {"token": "hd_abcdefgh"},
        {"fields": {"totp_key": "JBSWY3DPEHPK3PXP"}},
        {"at": 1.5},
        {"when": object()},
    ):
        with pytest.raises(UnsafeDetails):
            record(Action.MAILBOX_UPDATED, details=details)
    record(Action.MAILBOX_UPDATED, details={"imap_password": "removed", "codes_left": 9})
    assert AuditEntry.objects.count() == 1


def test_customer_data_entries_hold_counts_and_an_opaque_reference_only():
    ref = erasure_reference()
    assert ref.startswith("ref-") and ref != erasure_reference()
    with pytest.raises(UnsafeDetails):
        record(Action.CUSTOMER_ERASED, target=Target("customer", ref, "casey@example.test"))
    with pytest.raises(UnsafeDetails):
        record(
            Action.CUSTOMER_ERASED, target=Target("customer", ref), details={"email": "casey@example.test"}
        )
    entry = record(Action.CUSTOMER_ERASED, target=Target("customer", ref), details={"conversations": 3})
    assert entry.target_id == ref and entry.details == {"conversations": 3}


@pytest.mark.django_db(transaction=True)
def test_flushing_the_database_keeps_the_guard():
    """`flush` (and the test runner) empties every table; the triggers are still there afterwards."""
    record(Action.AGENT_CREATED)
    call_command("flush", interactive=False, verbosity=0)
    assert AuditEntry.objects.count() == 0
    assert sorted(installed_triggers()) == sorted(TRIGGERS)
    record(Action.AGENT_CREATED)
    assert refused_sql(f"DELETE FROM {TABLE}")
