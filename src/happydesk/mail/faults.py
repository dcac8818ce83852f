"""Passing faults: the system failed, not the message (a full disk, a database that is locked, full or
gone, an I/O error). Mail meeting one is kept and tried again, never quarantined; the logs get one line
for it, not a traceback each time."""

from __future__ import annotations

import errno
import os

from django.db import InterfaceError, OperationalError

# errno values that say the machine is in trouble, not the message: out of space or quota, I/O errors,
# a file system gone read-only, out of memory or file descriptors.
PASSING_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EIO,
        errno.EROFS,
        errno.ENOMEM,
        errno.EMFILE,
        errno.ENFILE,
        errno.EAGAIN,
    }
)


def passing_fault(exc: BaseException) -> str | None:
    """The reason, if `exc` (or what caused it) is a fault of the system that will pass: any
    OperationalError or InterfaceError of the database (full, locked, unreachable, connection lost) and
    the OSErrors of PASSING_ERRNOS. None for everything else, which is about the message."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OperationalError | InterfaceError):
            text = str(current).strip()
            return (text.splitlines()[0] if text else type(current).__name__)[:500]
        if isinstance(current, OSError) and current.errno in PASSING_ERRNOS:
            where = f" ({current.filename})" if current.filename else ""
            return f"{os.strerror(current.errno)}{where}"[:500]
        current = current.__cause__ or current.__context__
    return None
