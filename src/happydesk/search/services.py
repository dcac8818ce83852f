"""Keeping the self-service search documents current: the owning apps (kb, community) call these when
content is published or changes. (Conversations' documents are the inbox's: inbox/indexing.py.)"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from happydesk.search.models import SynonymGroup

MAX_BODY = 200_000


def content_index(
    *,
    kind: str,
    object_id: int,
    title: str,
    body: str,
    url: str,
    internal: bool = False,
    published_at: datetime | None = None,
    helpful: float = 0.0,
) -> None:
    """Put one piece of self-service content in the one search (or refresh it). Called by the owning
    app's services whenever it is published or changes while published."""
    from happydesk.search.models import ContentDocument

    ContentDocument.objects.update_or_create(
        kind=kind,
        object_id=object_id,
        defaults={
            "title": title[:1000],
            "body": body[:MAX_BODY],
            "url": url[:500],
            "internal": internal,
            "published_at": published_at,
            "helpful": max(0.0, min(1.0, helpful)),
        },
    )


def content_remove(*, kind: str, object_id: int) -> None:
    """Take content out of the search (unpublished, hidden, merged or deleted)."""
    from happydesk.search.models import ContentDocument

    ContentDocument.objects.filter(kind=kind, object_id=object_id).delete()


def content_reindex(providers: Iterable[Callable[[], Iterable[dict]]]) -> int:
    """Rebuild the content search from these providers (each owning app's `documents()` yields what
    `content_index` takes; the runtime's `reindex_everything` names them all)."""
    from django.db import transaction

    from happydesk.search.models import ContentDocument

    count = 0
    with transaction.atomic():
        ContentDocument.objects.all().delete()
        for documents in providers:
            for doc in documents():
                ContentDocument.objects.create(**{**doc, "body": doc.get("body", "")[:MAX_BODY]})
                count += 1
    return count


SUGGESTION_EVENTS = {"shown": "shown_at", "opened": "opened_at", "submitted": "submitted_at"}


def suggestion_event(*, mailbox_id: int, key: str, source: str, event: str) -> None:
    """Record that a visitor saw suggestions, opened one, or submitted (first time of each counts)."""
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    from happydesk.search.models import SuggestionSession

    field = SUGGESTION_EVENTS.get(event)
    key = key.strip()[:64]
    if field is None or not key:
        raise ValueError(f"unknown suggestion event {event!r}")
    now = timezone.now()
    with transaction.atomic():
        session = SuggestionSession.objects.filter(key=key).first()
        if session is None:
            try:
                with transaction.atomic():
                    session = SuggestionSession.objects.create(mailbox_id=mailbox_id, key=key, source=source)
            except IntegrityError:  # the same page sent two events at once
                session = SuggestionSession.objects.get(key=key)
        if session.mailbox_id == mailbox_id and getattr(session, field) is None:
            SuggestionSession.objects.filter(pk=session.pk, **{f"{field}__isnull": True}).update(
                **{field: now}
            )


def synonym_group_save(*, terms: str, group_id: int | None = None) -> SynonymGroup | None:
    """Create or change one synonym group from its comma-separated terms (tidied: trimmed, lower-case,
    duplicates dropped). A group left with fewer than two terms is deleted, as it would expand nothing;
    returns None then."""
    from happydesk.search.models import SynonymGroup

    tidy = list(dict.fromkeys(" ".join(t.split()).lower() for t in terms.split(",") if t.strip()))
    group = SynonymGroup.objects.filter(pk=group_id).first() if group_id else None
    if len(tidy) < 2:
        if group is not None:
            group.delete()
        return None
    text = ", ".join(tidy)[:2000]
    if group is None:
        return SynonymGroup.objects.create(terms=text)
    group.terms = text
    group.save(update_fields=["terms", "updated_at"])
    return group


def synonym_group_delete(*, group_id: int) -> None:
    from happydesk.search.models import SynonymGroup

    SynonymGroup.objects.filter(pk=group_id).delete()


MAX_QUERIES_PER_DAY = 2000  # distinct queries kept per day: a bot's endless variations stop growing it
KEEP_DAYS = 90


def search_query_key(q: str) -> str:
    """A query as the report groups it: its meaningful words, lower-cased, in order."""
    from happydesk.search.content import content_words

    return " ".join(content_words(q))[:200]


def search_record(*, q: str, results: int) -> None:
    """Count one help-centre search for today: one upsert of (day, normalised query). Nothing about
    the visitor is kept. Once a day has MAX_QUERIES_PER_DAY distinct queries, new ones are not added
    (known ones still count), so a bot hammering /help/?q= cannot grow the table without bound."""
    from django.db import connection
    from django.utils import timezone

    key = search_query_key(q)
    if not key:
        return
    day = timezone.localdate()
    # One statement on both engines: insert today's row, or count one more on it; a new query is only
    # inserted while the day has room (an existing one always counts).
    sql = (
        "INSERT INTO search_searchqueryday (day, query, count, results) SELECT %s, %s, 1, %s "
        "WHERE (SELECT COUNT(*) FROM search_searchqueryday WHERE day = %s) < %s "
        "OR EXISTS (SELECT 1 FROM search_searchqueryday WHERE day = %s AND query = %s) "
        "ON CONFLICT (day, query) DO UPDATE SET count = search_searchqueryday.count + 1, "
        "results = excluded.results"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [day, key, results, day, MAX_QUERIES_PER_DAY, day, key])


def search_days_prune() -> int:
    """Forget search counts older than KEEP_DAYS (the report reads the last 30)."""
    from datetime import timedelta

    from django.utils import timezone

    from happydesk.search.models import SearchQueryDay

    cutoff = timezone.localdate() - timedelta(days=KEEP_DAYS)
    deleted, _ = SearchQueryDay.objects.filter(day__lt=cutoff).delete()
    return deleted
