"""Keeping the self-service search documents current: the owning apps (kb, community) call these when
content is published or changes. (Conversations' documents are the inbox's: inbox/indexing.py.)"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

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
