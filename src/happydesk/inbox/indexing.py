"""Conversations' search documents, written in the same transaction as the messages they hold (an
agent who searches right after a reply finds it). The full-text engines are the search app's."""

from __future__ import annotations

from django.db.models import F, Value
from django.db.models.functions import Concat, Substr

from happydesk.inbox.models import Conversation, ConversationDocument, Message

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
    return reindex_conversations(
        list(Conversation.objects.order_by("id").values_list("id", flat=True)), batch=batch
    )


def reindex_conversations(ids: list[int], *, batch: int = 500) -> int:
    """Rebuild the documents of these conversations from their messages (after a merge or a split)."""
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
