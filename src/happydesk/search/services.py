"""Keeping the search documents current. Called by the inbox services that add text, not by signals."""

from __future__ import annotations

from django.db.models import F, Value
from django.db.models.functions import Concat, Substr

from happydesk.search.models import ConversationDocument

MAX_BODY = 200_000


def document_append(*, conversation_id: int, subject: str, text: str, who: str = "") -> None:
    """Add a message's text (and who wrote it) to the conversation's search document."""
    addition = f"{who}\n{text}" if who else text
    updated = ConversationDocument.objects.filter(conversation_id=conversation_id).update(
        subject=subject, body=Substr(Concat(F("body"), Value("\n"), Value(addition)), 1, MAX_BODY)
    )
    if not updated:
        ConversationDocument.objects.create(
            conversation_id=conversation_id, subject=subject, body=addition[:MAX_BODY]
        )


def reindex_all(*, batch: int = 500) -> int:
    """Rebuild every conversation's document from its messages (after an import or a demo load)."""
    from happydesk.inbox.models import Conversation

    return reindex_conversations(
        list(Conversation.objects.order_by("id").values_list("id", flat=True)), batch=batch
    )


def reindex_conversations(ids: list[int], *, batch: int = 500) -> int:
    """Rebuild the documents of these conversations from their messages (after a merge or a split)."""
    from happydesk.inbox.models import Conversation, Message

    ConversationDocument.objects.filter(conversation_id__in=ids).delete()
    count = 0
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        texts: dict[int, list[str]] = {i: [] for i in chunk}
        for cid, kind, name, address, text in (
            Message.objects.filter(conversation_id__in=chunk)
            .exclude(kind=Message.Kind.EVENT)
            .order_by("conversation_id", "created_at", "id")
            .values_list("conversation_id", "kind", "from_name", "from_address", "text")
        ):
            who = f"{name} {address}".strip() if kind == Message.Kind.CUSTOMER else ""
            texts[cid].append(f"{who}\n{text}" if who else text)
        # A merged conversation lives on in the one it was merged into: it has no document of its own.
        subjects = dict(
            Conversation.objects.filter(id__in=chunk, merged_into__isnull=True).values_list("id", "subject")
        )
        ConversationDocument.objects.bulk_create(
            ConversationDocument(conversation_id=cid, subject=subjects[cid], body="\n".join(parts)[:MAX_BODY])
            for cid, parts in texts.items()
            if cid in subjects
        )
        count += len(chunk)
    return count


def content_index(
    *,
    kind: str,
    object_id: int,
    title: str,
    body: str,
    url: str,
    internal: bool = False,
    published_at=None,  # type: ignore[no-untyped-def]
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


CONTENT_PROVIDERS = ["happydesk.kb.search_documents", "happydesk.community.search_documents"]


def content_reindex() -> int:
    """Rebuild the content search from every provider (each app's `documents()` yields what
    `content_index` takes); `happydesk search reindex` and the demo loader call this."""
    from importlib import import_module

    from django.db import transaction

    from happydesk.search.models import ContentDocument

    count = 0
    with transaction.atomic():
        ContentDocument.objects.all().delete()
        for path in CONTENT_PROVIDERS:
            for doc in import_module(path).documents():
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
