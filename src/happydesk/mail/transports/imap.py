"""IMAP fetching: copy new mail from the mailboxes' IMAP folders into the inbound queue.

State is ours, never the server's flags: per (mailbox, folder) we keep UIDVALIDITY and the highest UID
stored (ImapFolderState). We fetch with BODY.PEEK so a shared mailbox looks untouched to the people who
also read it on their phones, and a message someone already read (\\Seen) is still fetched. `last_uid`
advances only after `store_raw` returned, so a crash at worst stores a message twice (the inbound
processor's dedupe key drops the copy), never skips one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from django.conf import settings
from django.utils import timezone
from imap_tools import BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted
from tqdm import tqdm

from happydesk.inbox.models import Mailbox
from happydesk.mail.models import ImapFolderState, RawMessage
from happydesk.mail.store import MessageTooLarge, store_raw

log = logging.getLogger(__name__)

CHUNK = 50  # UIDs per FETCH: a huge first import is restartable and memory-bounded
CHUNK_BYTES = 32 * 1024 * 1024  # ...and so is a chunk of big messages
TIMEOUT = 60  # seconds; a hung server must not hang the worker
KEEP_NOTES = 20  # "skipped" lines kept in last_error

_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_CLASSES: dict[str, type[MailBox] | type[MailBoxStartTls] | type[MailBoxUnencrypted]] = {
    "none": MailBoxUnencrypted,
    "starttls": MailBoxStartTls,
    "ssl": MailBox,
}


def poll_all(*, progress: bool = False) -> int:
    """Poll every mailbox that has an IMAP host; returns how many new messages were stored.

    One broken mailbox (refused connection, wrong password) is logged and recorded, and the others are
    still polled."""
    stored = 0
    for mailbox in Mailbox.objects.exclude(imap_host="").order_by("pk"):
        try:
            stored += poll_mailbox(mailbox, progress=progress)
        except Exception:  # poll_mailbox records its own errors; this is the last line of defence
            log.exception("IMAP poll of %s failed", mailbox.address)
    return stored


def poll_mailbox(mailbox: Mailbox, *, progress: bool = False) -> int:
    """Poll each configured folder of one mailbox (default INBOX); returns how many were stored."""
    folders = [str(f) for f in (mailbox.imap_folders or ["INBOX"])]
    cls = _CLASSES.get(mailbox.imap_security, MailBox)
    try:
        client = cls(mailbox.imap_host, port=mailbox.imap_port, timeout=TIMEOUT)
        client.login(mailbox.imap_username, mailbox.imap_password, initial_folder=None)
    except Exception as exc:
        for folder in folders:
            _record_error(_state(mailbox, folder), f"connect/login to {mailbox.imap_host}: {exc}")
        return 0
    stored = 0
    try:
        for folder in folders:
            state = _state(mailbox, folder)
            try:
                stored += _poll_folder(client, mailbox, state, progress=progress)
            except Exception as exc:
                _record_error(state, f"folder {folder}: {exc}")
    finally:
        try:
            client.logout()
        except Exception:  # the connection may already be gone; nothing to clean up then
            log.debug("IMAP logout from %s failed", mailbox.imap_host, exc_info=True)
    return stored


def _state(mailbox: Mailbox, folder: str) -> ImapFolderState:
    return ImapFolderState.objects.get_or_create(mailbox=mailbox, folder=folder)[0]


def _notes(state: ImapFolderState) -> list[str]:
    """Skipped-message notes survive a successful poll (an admin must see them); errors do not."""
    return [line for line in state.last_error.splitlines() if line.startswith("skipped")]


def _record_error(state: ImapFolderState, error: str) -> None:
    log.warning("IMAP %s %s: %s", state.mailbox.address, state.folder, error)
    state.last_error = "\n".join([*_notes(state)[-KEEP_NOTES:], f"error: {error}"])
    state.last_polled_at = timezone.now()
    state.save(update_fields=["last_error", "last_polled_at"])


def _poll_folder(client: BaseMailBox, mailbox: Mailbox, state: ImapFolderState, *, progress: bool) -> int:
    """Check UIDVALIDITY (a new one means our UIDs are meaningless: start over, dedupe drops the copies),
    then store every message above last_uid in UID order."""
    folder = state.folder
    exists = int(client.folder.set(folder, readonly=True)[1][0] or 0)  # EXAMINE: we change nothing
    _, data = client.client.response("UIDVALIDITY")
    if data and data[0]:
        validity = int(data[0])
    else:  # servers must send it with SELECT; ask explicitly if this one did not
        validity = int(client.folder.status(folder, ["UIDVALIDITY"])["UIDVALIDITY"])
    if state.uidvalidity is not None and state.uidvalidity != validity:
        log.warning(
            "IMAP %s %s: UIDVALIDITY changed %s -> %s; fetching the folder again (copies are deduplicated)",
            mailbox.address, folder, state.uidvalidity, validity,
        )  # fmt: skip
        state.last_uid = 0
    state.uidvalidity = validity
    notes = _notes(state)
    state.last_error = "\n".join(notes)
    state.save(update_fields=["uidvalidity", "last_uid", "last_error"])

    new = _new_uids(client, state.last_uid) if exists else []
    stored = 0
    bar = tqdm(total=len(new), unit="msg", desc=f"{mailbox.address} {folder}", disable=not progress)
    try:  # a failure mid-folder keeps what was stored (and counted) so far
        for batch in _batches(new):
            for uid, size, raw in _fetch(client, batch):
                stored += _store_one(state, notes, uid, size, raw)
            bar.update(len(batch))
    except Exception as exc:
        _record_error(state, f"folder {folder}: {exc}")
        return stored
    finally:
        bar.close()
    state.last_polled_at = timezone.now()
    state.save(update_fields=["last_polled_at"])
    return stored


def _store_one(state: ImapFolderState, notes: list[str], uid: int, size: int, data: bytes | None) -> int:
    """Store one message (1) or record it as too large (0); then, and only then, move last_uid past it."""
    mailbox, limit = state.mailbox, settings.HAPPYDESK_MAX_MESSAGE_BYTES
    origin = f"imap {mailbox.imap_host} {state.folder} uidvalidity={state.uidvalidity} uid={uid}"
    stored = 0
    try:
        if data is None:
            raise MessageTooLarge(f"{size} bytes is over the limit of {limit}")
        store_raw(data, source=RawMessage.Source.IMAP, mailbox=mailbox, origin=origin)
        stored = 1
    except MessageTooLarge as exc:
        notes.append(f"skipped uid={uid} uidvalidity={state.uidvalidity}: {exc}")
        log.warning("IMAP %s %s: %s", mailbox.address, state.folder, notes[-1])
    state.last_uid = uid
    state.last_error = "\n".join(notes[-KEEP_NOTES:])
    state.save(update_fields=["last_uid", "last_error"])
    return stored


def _new_uids(client: BaseMailBox, last_uid: int) -> list[tuple[int, int]]:
    """(uid, size) above last_uid, ascending. `UID n:*` always matches the last message even when n is
    above every UID, hence the filter."""
    typ, data = client.client.uid("FETCH", f"{last_uid + 1}:*", "(UID RFC822.SIZE)")
    if typ != "OK":
        raise RuntimeError(f"UID FETCH failed: {data!r}")
    found = {}
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        uid, size = _UID.search(line or b""), _SIZE.search(line or b"")
        if uid and int(uid.group(1)) > last_uid:
            found[int(uid.group(1))] = int(size.group(1)) if size else 0
    return sorted(found.items())


def _batches(new: list[tuple[int, int]]) -> Iterator[list[tuple[int, int]]]:
    batch: list[tuple[int, int]] = []
    total = 0
    for uid, size in new:
        if batch and (len(batch) >= CHUNK or total + size > CHUNK_BYTES):
            yield batch
            batch, total = [], 0
        batch.append((uid, size))
        total += size
    if batch:
        yield batch


def _fetch(client: BaseMailBox, batch: list[tuple[int, int]]) -> Iterator[tuple[int, int, bytes | None]]:
    """(uid, size, raw bytes) in UID order. A message over the limit by its RFC822.SIZE is not downloaded
    at all (None): a 2 GB attachment must not be pulled into memory just to be refused."""
    limit = settings.HAPPYDESK_MAX_MESSAGE_BYTES
    wanted = [uid for uid, size in batch if size <= limit]
    bodies: dict[int, bytes] = {}
    if wanted:
        typ, data = client.client.uid("FETCH", ",".join(map(str, wanted)), "(UID BODY.PEEK[])")
        if typ != "OK":
            raise RuntimeError(f"UID FETCH failed: {data!r}")
        for i, item in enumerate(data):
            if not isinstance(item, tuple):
                continue
            found = _UID.search(item[0])
            if found is None and i + 1 < len(data) and isinstance(data[i + 1], bytes):
                found = _UID.search(data[i + 1])  # some servers send UID after the literal
            if found is not None:
                bodies[int(found.group(1))] = item[1]
    for uid, size in batch:
        if size > limit:
            yield uid, size, None
        elif uid in bodies:  # else expunged since we listed it: nothing to store
            yield uid, size, bodies.pop(uid)
