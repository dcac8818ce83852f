"""What the community puts in the one customer-facing search (see search/content.py): visible
questions and known issues with their answers, ideas, and announcements."""

from __future__ import annotations

from collections.abc import Iterator

from happydesk.community.models import Announcement, Post, State, Topic
from happydesk.web.markdown import plain_text

MAX_ANSWERS = 20


def topic_document(topic: Topic) -> dict | None:
    """The search entry of a public topic (None when hidden, held or merged away)."""
    if topic.state != State.VISIBLE or topic.merged_into_id is not None:
        return None
    answers = list(
        Post.objects.filter(topic=topic, state=State.VISIBLE)
        .order_by("created_at")
        .values_list("pk", "body")[:MAX_ANSWERS]
    )
    accepted = [body for pk, body in answers if pk == topic.accepted_post_id]
    body = "\n\n".join(
        plain_text(b)
        for b in [topic.body, *accepted, *(b for pk, b in answers if pk != topic.accepted_post_id)]
    )
    votes = topic.vote_count
    # Helpfulness: votes with diminishing weight, and an accepted answer counts as much as five votes.
    helpful = min(1.0, (votes + (5 if topic.accepted_post_id else 0)) / (votes + 10))
    return {
        "kind": "idea" if topic.kind == Topic.Kind.IDEA else "topic",
        "object_id": topic.pk,
        "title": topic.title,
        "body": body,
        "url": topic.get_absolute_url(),
        "internal": False,
        "published_at": topic.created_at,
        "helpful": helpful,
    }


def announcement_document(announcement: Announcement) -> dict | None:
    """An announcement's entry; one dated in the future is indexed but only found from its date."""
    if announcement.published_at is None:
        return None
    return {
        "kind": "announcement",
        "object_id": announcement.pk,
        "title": announcement.title,
        "body": plain_text(announcement.body),
        "url": announcement.get_absolute_url(),
        "internal": False,
        "published_at": announcement.published_at,
        "helpful": 0.0,
    }


def topic_search_refresh(topic_id: int) -> None:
    """Put the topic in the search as it is now, or take it out."""
    from happydesk.search.services import content_index, content_remove

    topic = Topic.objects.filter(pk=topic_id).first()
    doc = topic_document(topic) if topic else None
    for kind in ("topic", "idea"):
        if doc is None or doc["kind"] != kind:
            content_remove(kind=kind, object_id=topic_id)
    if doc is not None:
        content_index(**doc)


def announcement_search_refresh(announcement_id: int) -> None:
    from happydesk.search.services import content_index, content_remove

    row = Announcement.objects.filter(pk=announcement_id).first()
    doc = announcement_document(row) if row else None
    if doc is None:
        content_remove(kind="announcement", object_id=announcement_id)
    else:
        content_index(**doc)


def documents() -> Iterator[dict]:
    """Every public topic's and announcement's entry (for a full reindex)."""
    for topic in Topic.objects.filter(state=State.VISIBLE, merged_into__isnull=True):
        doc = topic_document(topic)
        if doc is not None:
            yield doc
    for row in Announcement.objects.filter(published_at__isnull=False):
        doc = announcement_document(row)
        if doc is not None:
            yield doc
