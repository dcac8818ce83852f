"""Adding to the audit log (`record`) and checking that nothing was changed behind the app's back
(`chain_verify`). The one writer of AuditEntry: every app above the base layer calls `record` from the
service that does the thing, inside that service's transaction, so the change and its entry commit
together or not at all."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from happydesk.audit.models import Action, AuditEntry

# What a detail whose name sounds like a secret may say: that it changed, never what it is.
SECRET_NAME = re.compile(r"password|secret|token|totp|otp|key|code|credential", re.IGNORECASE)
SECRET_MARKERS = frozenset({"set", "changed", "removed", "unchanged"})
# Customer data actions: details are counts (the erased data must not survive in the log).
COUNTS_ONLY = frozenset({Action.CUSTOMER_ERASED, Action.CUSTOMER_EXPORTED})
# PostgreSQL: one advisory lock serialises writers, so two entries never claim the same predecessor.
# (SQLite's writers are serialised already: every transaction begins IMMEDIATE, settings.py.)
CHAIN_LOCK = 0x6864_6175_6469_74  # "hdaudit"


class UnsafeDetails(ValueError):
    """Details that could carry a secret or erased data: refused, nothing recorded."""


@dataclass(frozen=True)
class Target:
    """What an entry is about: a kind ("agent", "mailbox"), its id, and a label a person recognises."""

    type: str
    id: str | int = ""
    label: str = ""


def erasure_reference() -> str:
    """An opaque reference for an erasure or export of a customer's data: random, so it reveals nothing
    about whom it concerned. The command prints it; whoever keeps the request can note it beside it."""
    return "ref-" + secrets.token_hex(8)


def record(
    action: Action,
    *,
    actor: AbstractBaseUser | None = None,
    actor_email: str = "",
    target: Target | None = None,
    ip: str = "",
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry to the log, chained to the one before. `actor` is the signed-in agent who did it
    (None: anonymous, the command line or the system); `ip` their client address as
    ratelimit.client_ip saw it. Details are small JSON values and never secrets: a detail named like a
    secret may only say "set", "changed", "removed" or "unchanged" (UnsafeDetails otherwise)."""
    action = Action(action)
    clean = _checked(action, dict(details or {}))
    target = target or Target("")
    if action in COUNTS_ONLY and target.label:
        raise UnsafeDetails("a customer data entry names no one: an opaque reference as its id, no label")
    email = actor_email or (getattr(actor, "email", "") if actor is not None else "")
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])
        last = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev = (last[0] + 1, last[1]) if last else (1, "")
        entry = AuditEntry(
            seq=seq,
            at=timezone.now(),
            actor_id=actor.pk if actor is not None else None,
            actor_email=str(email)[:254].lower(),
            action=action,
            target_type=target.type[:40],
            target_id=str(target.id)[:64],
            target_label=target.label[:300],
            ip=(ip or "")[:45],
            details=clean,
            prev_hash=prev,
        )
        entry.hash = entry_hash(entry)
        entry.save()
    return entry


def _checked(action: Action, details: dict[str, Any]) -> dict[str, Any]:
    for name, value in _walk(details):
        if SECRET_NAME.search(name) and value not in SECRET_MARKERS and not isinstance(value, bool | int):
            raise UnsafeDetails(f"detail {name!r} sounds like a secret: say only that it changed")
        if isinstance(value, float):
            raise UnsafeDetails(f"detail {name!r}: whole numbers only (the hash must survive a round trip)")
        if action in COUNTS_ONLY and not isinstance(value, int):
            raise UnsafeDetails(f"{action}: details are counts only, {name!r} is not")
    return details


def _walk(value: Any, name: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if not isinstance(key, str):
                raise UnsafeDetails("detail names are text")
            yield from _walk(inner, key)
    elif isinstance(value, list | tuple):
        for inner in value:
            yield from _walk(inner, name)
    elif value is None or isinstance(value, str | int | float):
        yield name, value
    else:
        raise UnsafeDetails(f"detail {name!r}: {type(value).__name__} is not a JSON value")


def entry_hash(entry: AuditEntry) -> str:
    """SHA-256 of the previous entry's hash and every field of this one, in a fixed order and form."""
    content = [
        entry.seq,
        _utc(entry.at),
        entry.actor_id,
        entry.actor_email,
        entry.action,
        entry.target_type,
        entry.target_id,
        entry.target_label,
        entry.ip,
        entry.details,
    ]
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((entry.prev_hash + "\n" + canonical).encode()).hexdigest()


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass
class ChainReport:
    """What `chain_verify` found: how many entries, the newest one's number and hash (keep them
    elsewhere to notice later if entries were cut off the end), and every problem."""

    entries: int = 0
    head_seq: int = 0
    head_hash: str = ""
    problems: list[str] | None = None

    @property
    def intact(self) -> bool:
        return not self.problems


def chain_verify() -> ChainReport:
    """Recompute every entry's hash in order: a changed entry breaks its own hash, a removed or inserted
    one breaks the numbering and the link of the next. Also checks the database triggers are in place."""
    report = ChainReport(problems=[])
    assert report.problems is not None
    prev, expected = "", 1
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
        report.entries += 1
        if entry.seq != expected:
            report.problems.append(f"entry #{entry.seq}: expected #{expected} (entries missing)")
        if entry.prev_hash != prev:
            report.problems.append(f"entry #{entry.seq}: does not follow the entry before it")
        if entry_hash(entry) != entry.hash:
            report.problems.append(f"entry #{entry.seq}: content does not match its hash (changed)")
        prev, expected = entry.hash, entry.seq + 1
        report.head_seq, report.head_hash = entry.seq, entry.hash
    missing = sorted(set(TRIGGERS) - set(installed_triggers()))
    if missing:
        report.problems.append(f"database triggers missing: {', '.join(missing)} (edits are not refused)")
    return report


# The triggers migration 0001 installs (one function raises for both on PostgreSQL).
TRIGGERS = ("audit_entry_no_update", "audit_entry_no_delete")


def installed_triggers() -> list[str]:
    """The names of the append-only triggers the database has on the audit table now."""
    table = AuditEntry._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", [table]
            )
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table])
        return [row[0] for row in cursor.fetchall()]
