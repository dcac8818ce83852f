"""Erasing a customer, or old closed conversations, from every app that holds them (docs/security.md).

The privacy app sits in the features layer because erasure must reach into the core (inbox, mail) and
into the features that keep customer data (feedback, community, status, search). One function does
each kind of erasure in one transaction; files (raw mail, attachments, the file outbox) are removed
after the commit, and the database is then scrubbed so the deleted bytes leave the SQLite file too.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.utils import parseaddr
from pathlib import Path

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from happydesk.accounts.models import PortalLoginToken
from happydesk.audit import services as audit
from happydesk.audit.models import Action
from happydesk.audit.services import Target, erasure_reference
from happydesk.community.models import ModerationLog, Notified, Post, Revision, Topic, public_name
from happydesk.community.search_documents import topic_search_refresh
from happydesk.customers.models import Customer
from happydesk.feedback.models import Rating, RatingRequest
from happydesk.inbox.indexing import reindex_conversations
from happydesk.inbox.models import Attachment, Conversation, Message
from happydesk.mail.models import AutoReplyLog, OutboundMail, RawMessage
from happydesk.privacy.selectors import any_iexact, messages_written_by
from happydesk.status.models import Subscriber

# The name a customer's kept community posts show once the customer is erased.
ANONYMOUS = public_name(None)


def _files_remove(paths: Iterable[str], attachments: Iterable[str]) -> None:
    """Remove raw mail files (relative to the data folder) and attachment files (in the storage)."""
    data = Path(settings.DATA_DIR)
    for relative in paths:
        (data / relative).unlink(missing_ok=True)
    for name in attachments:
        if name:
            default_storage.delete(name)


def _conversations_delete(ids: list[int], counts: Counter[str]) -> tuple[list[str], list[str]]:
    """Delete these conversations with everything that hangs off them (messages, notes, attachments,
    drafts, search documents, ratings, outbox rows, incident links, reviews) and their raw mail rows.
    Returns the raw mail paths and attachment names whose files go once the transaction commits."""
    messages = Message.objects.filter(conversation_id__in=ids)
    message_ids = list(messages.values_list("id", flat=True))
    raw = RawMessage.objects.filter(
        Q(message_id__in=message_ids) | Q(id__in=messages.exclude(raw=None).values("raw_id"))
    )
    raw_paths = list(raw.values_list("path", flat=True))
    files = list(Attachment.objects.filter(message_id__in=message_ids).values_list("file", flat=True))
    counts["messages"] += len(message_ids)
    counts["notes"] += messages.filter(kind=Message.Kind.NOTE).count()
    counts["attachments"] += len(files)
    counts["outbox rows"] += OutboundMail.objects.filter(message_id__in=message_ids).count()
    counts["ratings"] += Rating.objects.filter(conversation_id__in=ids).count()
    counts["rating requests"] += RatingRequest.objects.filter(conversation_id__in=ids).count()
    counts["raw messages"] += raw.count()
    raw.delete()  # before the messages: the rows point at them (SET_NULL would only be a wasted write)
    counts["conversations"] += (
        Conversation.objects.filter(id__in=ids).delete()[1].get("inbox.Conversation", 0)
    )
    return raw_paths, files


def _addresses_unlist(addresses: list[str]) -> int:
    """Take these addresses off the Cc, To and Bcc lists of the conversations and messages that stay
    (another customer's mail that copied them in). Those rows are the other customer's and are kept; one
    query per model finds the candidates (a substring match, so `bob@x` also finds `jimbob@x`), and
    only the rows whose lists really change are written and counted."""
    if not addresses:
        return 0
    gone = set(addresses)

    def kept(values: list[str]) -> list[str]:
        return [v for v in values if parseaddr(v)[1].lower() not in gone]

    changed = 0
    for model, fields in ((Conversation, ("cc",)), (Message, ("to", "cc", "bcc"))):
        q = Q(pk__in=[])
        annotations = {f"{f}_text": Cast(f, TextField()) for f in fields}
        for field in fields:
            for address in addresses:
                q |= Q(**{f"{field}_text__icontains": address})
        candidates = model.objects.annotate(**annotations).filter(q).only("pk", *fields)  # type: ignore[attr-defined]
        rows = []
        for row in candidates:
            lists = {field: kept(getattr(row, field)) for field in fields}
            if any(lists[field] != getattr(row, field) for field in fields):
                for field, values in lists.items():
                    setattr(row, field, values)
                rows.append(row)
        model.objects.bulk_update(rows, list(fields), batch_size=500)  # type: ignore[attr-defined]
        changed += len(rows)
    return changed


def _outbox_files_remove(addresses: list[str]) -> int:
    """With the file email backend (the default: .eml files in the data folder's outbox), remove every
    sent mail addressed to or mentioning one of these addresses."""
    file_backends = {
        "happydesk.mail.backends.OutboxDirectoryBackend",
        "django.core.mail.backends.filebased.EmailBackend",
    }
    if settings.EMAIL_BACKEND not in file_backends or not addresses:
        return 0
    folder = Path(getattr(settings, "EMAIL_FILE_PATH", "") or "")
    if not folder.is_dir():
        return 0
    pattern = re.compile(b"|".join(re.escape(a.encode()) for a in addresses), re.IGNORECASE)
    removed = 0
    for path in folder.iterdir():
        if path.is_file() and pattern.search(path.read_bytes()):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def database_scrub(*, vacuum: bool = True) -> None:
    """Make deleted rows unreadable in the database files, not only in queries.

    SQLite keeps deleted bytes in free pages, in free space inside pages, in the WAL and in old FTS5
    segments. The deletes ran with `secure_delete` on; here the FTS5 indexes are merged (`optimize`
    drops the deleted entries), VACUUM rebuilds the file without any free space (old UPDATEs left copies
    there too) and the WAL is checkpointed and truncated. PostgreSQL keeps dead tuples until VACUUM
    reclaims them: the guarantee there is the query-level one (docs/security.md)."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA secure_delete=ON")
        for table in ("search_fts", "content_fts"):
            cursor.execute(f"INSERT INTO {table}({table}) VALUES('optimize')")  # noqa: S608  # fixed names
    if vacuum and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM")
    if not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _secure_delete_on() -> None:
    """Deleted content is overwritten with zeros in this connection's writes (SQLite)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA secure_delete=ON")


def customer_erase(
    *, customer: Customer, scrub: bool = True, by: AbstractBaseUser | None = None, ip: str = ""
) -> dict[str, int]:
    """Erase a customer: their conversations (messages, notes, attachments, raw mail, search rows,
    ratings, outbox rows), their status subscription, portal links, votes and follows, and the customer
    with every address. Community topics and posts are kept under ANONYMOUS. Returns what was erased,
    as counts only: the audit record must not hold the erased data. `by` and `ip`: the admin who did it
    from the web (None for the command line), recorded as the audit entry's actor."""
    _secure_delete_on()
    counts: Counter[str] = Counter()
    addresses = sorted({e.lower() for e in customer.emails.values_list("address", flat=True)})
    name = customer.name
    with transaction.atomic():
        ids = list(Conversation.objects.filter(customer=customer).values_list("id", flat=True))
        raw_paths, files = _conversations_delete(ids, counts)

        # Their words in other customers' conversations (a cc'd reply, a merge): removed, and those
        # conversations' search documents rebuilt without them.
        theirs = messages_written_by(customer, addresses)
        others = list(theirs.values_list("conversation_id", flat=True).distinct())
        files += list(Attachment.objects.filter(message__in=theirs).values_list("file", flat=True))
        stray_raw = RawMessage.objects.filter(Q(message__in=theirs) | any_iexact("envelope_from", addresses))
        raw_paths += list(stray_raw.values_list("path", flat=True))
        counts["raw messages"] += stray_raw.count()
        stray_raw.delete()  # quarantined and duplicate mail from them too
        counts["messages"] += theirs.delete()[1].get("inbox.Message", 0)
        reindex_conversations(others)
        counts["addresses taken off other conversations"] += _addresses_unlist(addresses)

        # Notices that are not replies (status updates, community "shipped" mail): `to` is a JSON list.
        notices = OutboundMail.objects.annotate(to_text=Cast("to", TextField()))
        notice_q = Q(pk__in=[])
        for address in addresses:
            notice_q |= Q(to_text__icontains=address)
        notice_ids = list(notices.filter(notice_q).values_list("pk", flat=True))
        counts["outbox rows"] += OutboundMail.objects.filter(pk__in=notice_ids).delete()[0]
        counts["auto-reply log"] += AutoReplyLog.objects.filter(any_iexact("address", addresses)).delete()[0]
        counts["status subscriptions"] += Subscriber.objects.filter(any_iexact("email", addresses)).delete()[
            0
        ]
        counts["community notices"] += Notified.objects.filter(any_iexact("address", addresses)).delete()[0]
        counts["portal links"] += PortalLoginToken.objects.filter(customer=customer).delete()[0]

        # Community posts stay (answers others rely on) under the anonymous name.
        topics = list(Topic.objects.filter(author_customer=customer).values_list("id", flat=True))
        counts["community topics kept anonymous"] += Topic.objects.filter(author_customer=customer).update(
            author_customer=None
        )
        post_topics = list(Post.objects.filter(author_customer=customer).values_list("topic_id", flat=True))
        counts["community posts kept anonymous"] += Post.objects.filter(author_customer=customer).update(
            author_customer=None
        )
        Revision.objects.filter(editor_customer=customer).update(editor_customer=None)
        mentions = [m for m in [name, *addresses] if m]
        for log in ModerationLog.objects.filter(_any_icontains("detail", mentions)):
            for mention in mentions:
                log.detail = re.sub(re.escape(mention), ANONYMOUS, log.detail, flags=re.IGNORECASE)
            log.save(update_fields=["detail"])

        # Votes, post votes, follows, a ban and announcements seen go with the customer (CASCADE).
        deleted = customer.delete()[1]
        counts["community votes"] += deleted.get("community.Vote", 0) + deleted.get("community.PostVote", 0)
        counts["community follows"] += deleted.get("community.Follow", 0)
        counts["addresses"] += deleted.get("customers.CustomerEmail", 0)
        counts["customers"] += deleted.get("customers.Customer", 0)
        for topic_id in {*topics, *post_topics}:
            topic_search_refresh(topic_id)

        # In this transaction, by number only: never the addresses or the name.
        audit.record(
            Action.CUSTOMER_ERASED,
            actor=by,
            ip=ip,
            target=Target("customer", erasure_reference()),  # opaque: the log must not say whom
            details=dict(counts),
        )
        transaction.on_commit(lambda: _files_remove(raw_paths, files))
    counts["sent mail files"] += _outbox_files_remove(addresses)
    if scrub:
        database_scrub()
    return dict(counts)


def _any_icontains(field: str, values: Iterable[str]) -> Q:
    q = Q(pk__in=[])
    for value in values:
        q |= Q(**{f"{field}__icontains": value})
    return q


def conversations_erase(*, conversation_ids: list[int], scrub: bool = True) -> dict[str, int]:
    """Erase these conversations as a customer's erasure does (the customer and their community posts
    stay). Returns the counts for the audit record."""
    _secure_delete_on()
    counts: Counter[str] = Counter()
    with transaction.atomic():
        raw_paths, files = _conversations_delete(conversation_ids, counts)
        audit.record(
            Action.CUSTOMER_ERASED,
            target=Target("conversations"),  # retention: how many is in the counts
            details=dict(counts),
        )
        transaction.on_commit(lambda: _files_remove(raw_paths, files))
    if scrub and counts["conversations"]:
        database_scrub(vacuum=False)
    return dict(counts)


def retention_erase(*, days: int, at: datetime | None = None, batch: int = 200) -> dict[str, int]:
    """Erase closed conversations whose last activity is more than `days` days old (0: keep all)."""
    if days <= 0:
        return {}
    cutoff = (at or timezone.now()) - timedelta(days=days)
    ids = list(
        Conversation.objects.filter(status=Conversation.Status.CLOSED, last_activity_at__lt=cutoff)
        .order_by("id")
        .values_list("id", flat=True)[:batch]
    )
    return conversations_erase(conversation_ids=ids) if ids else {}
