"""What the audit tests share: the people's password and addresses, signing in over the sign-in page, and
reading the log as the database holds it."""

from __future__ import annotations

from django.db import connection
from django.test import Client

from happydesk.audit.models import AuditEntry
from tests.helpers import password_sign_in

PASSWORD = "correct-horse-battery"
ADA_IP, ALEX_IP, LEE_IP = "203.0.113.10", "198.51.100.20", "192.0.2.30"


def signed_in(email: str, ip: str) -> Client:
    """A browser at `ip` signed in through the sign-in page."""
    client = Client(REMOTE_ADDR=ip)
    assert password_sign_in(client, email, PASSWORD)
    return client


def entries(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("seq"))


def only(action: str) -> AuditEntry:
    """The one entry of this action (failing if there are none or several)."""
    found = entries(action)
    assert len(found) == 1, f"{action}: {len(found)} entries"
    return found[0]


def stored_log() -> str:
    """Every column of every audit row, as the database holds it (what a dump of the table shows)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {AuditEntry._meta.db_table}")
        return "\n".join(repr(row) for row in cursor.fetchall())


def assert_no_secret(*secrets: str) -> None:
    log = stored_log()
    for secret in secrets:
        assert secret and secret not in log, f"{secret!r} is in the audit log"
