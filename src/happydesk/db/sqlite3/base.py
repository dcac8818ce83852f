"""SQLite with a fair queue for writers.

SQLite allows one writer at a time. Its own busy handler makes a waiting writer sleep in growing steps
(1, 2, 5, 10 … 100 ms) and poll, so under steady load (the SMTP listener accepting while workers process)
a writer can sleep long after the lock came free, and acceptance stalls behind the workers. Here every
write transaction first takes an exclusive `flock` on a file beside the database: waiters block in the
kernel and wake as soon as the previous writer commits. Readers are not affected (WAL).

Flushing (`flush`, and the test runner between transactional tests) steps past row triggers, as TRUNCATE
does on PostgreSQL: the audit log's append-only triggers would otherwise refuse its DELETE.
"""

from __future__ import annotations

import fcntl
import os
from itertools import chain
from typing import Any

from django.db.backends.sqlite3 import base, operations


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(
        self, style: Any, tables: Any, *, reset_sequences: bool = False, allow_cascade: bool = False
    ) -> list[str]:
        """Empty the tables with DELETE, each trigger that would refuse it dropped first and created again
        after, in the flush's one transaction. Whoever may flush may drop a trigger anyway: this only makes
        `flush` behave alike on both databases."""
        statements = super().sql_flush(
            style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        if not statements:
            return statements
        flushed = set(tables)
        if allow_cascade:
            flushed = set(chain.from_iterable(self._references_graph(t) for t in tables))  # type: ignore[attr-defined]  # Django's own helper, undeclared in the stubs
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")
            # Only the triggers that refuse the DELETE (the audit log's RAISE): the ones that keep the
            # full-text indexes in step must fire, or the next test finds the last one's documents.
            triggers = [
                (name, sql)
                for name, table, sql in cursor.fetchall()
                if table in flushed and "RAISE(" in (sql or "").upper().replace(" ", "")
            ]
        drop = [f"DROP TRIGGER {self.quote_name(name)};" for name, _ in triggers]
        return drop + statements + [f"{sql};" for _, sql in triggers]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
    _writer_fd: int | None = None

    def _writer_lock(self) -> int | None:
        name = str(self.settings_dict["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            return None
        if self._writer_fd is None:
            self._writer_fd = os.open(name + ".writer-lock", os.O_RDWR | os.O_CREAT, 0o600)
        return self._writer_fd

    def _release_writer_lock(self) -> None:
        if self._writer_fd is not None:
            fcntl.flock(self._writer_fd, fcntl.LOCK_UN)

    def _start_transaction_under_autocommit(self) -> None:
        fd = self._writer_lock()
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # private in Django; django-stubs don't declare it
        except BaseException:
            self._release_writer_lock()
            raise

    def _commit(self) -> None:
        try:
            return super()._commit()  # type: ignore[misc]  # private in Django; django-stubs don't declare it
        finally:
            self._release_writer_lock()

    def _rollback(self) -> None:
        try:
            return super()._rollback()  # type: ignore[misc]  # private in Django; django-stubs don't declare it
        finally:
            self._release_writer_lock()

    def _close(self) -> None:
        try:
            return super()._close()  # type: ignore[misc]  # private in Django; django-stubs don't declare it
        finally:
            if self._writer_fd is not None:
                os.close(self._writer_fd)  # closing also releases the lock
                self._writer_fd = None
