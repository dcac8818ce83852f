"""Step 1 of the flow, shared by every transport: write the raw bytes durably, then the RawMessage row.

Only after `store_raw` returns may a transport acknowledge (SMTP 250, IMAP UID recorded, HTTP 202).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from happydesk.inbox.models import Mailbox
from happydesk.mail.models import RawMessage


class MessageTooLarge(Exception):
    """The message exceeds HAPPYDESK_MAX_MESSAGE_BYTES."""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durably(data: bytes, relative: str) -> Path:
    """Write to a temp file, fsync it, rename into place and fsync the folder: survives power loss. A
    write that fails (the disk is full) leaves no partial file to take up the space."""
    target = Path(settings.DATA_DIR) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)
    return target


def store_raw(
    data: bytes,
    *,
    source: str,
    mailbox: Mailbox | None = None,
    envelope_from: str = "",
    envelope_to: Sequence[str] = (),
    origin: str = "",
    peer_ip: str | None = None,
    helo: str = "",
) -> RawMessage:
    """Store one inbound message; returns once both the bytes and the row are committed. Our SMTP
    listener also records the client's IP and HELO name, which only it knows, for the SPF check."""
    if len(data) > settings.HAPPYDESK_MAX_MESSAGE_BYTES:
        raise MessageTooLarge(
            f"{len(data)} bytes is over the limit of {settings.HAPPYDESK_MAX_MESSAGE_BYTES}"
        )
    now = timezone.now()
    relative = f"raw/{now:%Y/%m/%d}/{uuid.uuid4().hex}.eml"
    path = write_durably(data, relative)
    row: RawMessage | None = None
    try:
        with transaction.atomic():
            row = RawMessage.objects.create(
                source=source,
                mailbox=mailbox,
                envelope_from=envelope_from[:998],
                envelope_to=list(envelope_to),
                path=relative,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                origin=origin[:500],
                peer_ip=peer_ip or None,
                helo=helo[:255],
                received_at=now,
            )
        return row
    except BaseException:
        # No row, no acknowledgement (the sender retries): the file would only take up space, which on a
        # full disk is what the retries need.
        if not _committed_after_all(row):
            path.unlink(missing_ok=True)
        raise


def _committed_after_all(row: RawMessage | None) -> bool:
    """After a failed store: did the row commit anyway (a commit whose answer was lost with the
    connection)? If that cannot be known, assume it did and keep its file."""
    if row is None or row.pk is None:
        return False  # the insert itself failed
    try:
        return RawMessage.objects.filter(pk=row.pk).exists()
    except Exception:
        return True


def read_raw(raw: RawMessage) -> bytes:
    return (Path(settings.DATA_DIR) / raw.path).read_bytes()


def split_plus(address: str) -> tuple[str, str | None]:
    """`support+abc@x.com` -> (`support@x.com`, `abc`); the tag part carries our reply token."""
    address = address.strip().lower()
    if "@" not in address:
        return address, None
    local, domain = address.rsplit("@", 1)
    if "+" in local:
        base, tag = local.split("+", 1)
        return f"{base}@{domain}", tag
    return address, None


def mailbox_for_address(address: str, mailboxes: dict[str, Mailbox] | None = None) -> Mailbox | None:
    """The mailbox an address (possibly a `+token` reply address) belongs to."""
    base, _ = split_plus(address)
    if mailboxes is not None:
        return mailboxes.get(base)
    return Mailbox.objects.filter(address=base).first()
