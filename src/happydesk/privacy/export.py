"""A customer's data in one archive: `customer.json` with everything we hold about them, plus their
attachments and the raw mail they sent, as the right of access asks (docs/security.md)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.files.storage import default_storage
from django.db.models import Q
from django.utils import timezone

from happydesk.audit import services as audit
from happydesk.audit.models import Action
from happydesk.audit.services import Target
from happydesk.community.models import Follow, Post, PostVote, Topic, Vote
from happydesk.customers.models import Customer
from happydesk.feedback.models import Rating
from happydesk.inbox.models import Attachment, Conversation, Message
from happydesk.mail.models import RawMessage
from happydesk.privacy.selectors import messages_written_by
from happydesk.status.models import Subscriber

FORMAT = "happydesk-customer-export/1"


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _message(message: Message, files: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "id": message.pk,
        "kind": message.kind,
        "from_name": message.from_name,
        "from_address": message.from_address,
        "to": message.to,
        "cc": message.cc,
        "subject": message.subject,
        "text": message.text,
        "quoted": message.quoted,
        "html": message.html,
        "event": message.event,
        "created_at": _when(message.created_at),
        "sent_at": _when(message.sent_at),
        "attachments": files.get(message.pk, []),
        "raw": f"raw/{message.raw_id}.eml" if message.raw_id else None,
    }


def customer_export(*, customer: Customer, by: AbstractBaseUser | None = None, ip: str = "") -> bytes:
    """The archive (zip) of everything about this customer: profile and addresses, every conversation
    with its messages, notes and event lines, ratings, community topics, posts, votes and follows,
    status subscriptions; attachments under attachments/ and raw mail under raw/. `by` and `ip`: the
    admin who asked for it from the web (None for the command line), the audit entry's actor."""
    addresses = [e.address for e in customer.emails.order_by("id")]
    conversations = list(Conversation.objects.filter(customer=customer).order_by("id"))
    messages = list(
        Message.objects.filter(
            Q(conversation__in=conversations)
            | Q(pk__in=messages_written_by(customer, addresses).values("pk"))
        ).order_by("created_at", "id")
    )
    attachments = list(Attachment.objects.filter(message__in=messages).order_by("id"))
    raw_ids = {m.raw_id for m in messages if m.raw_id}
    raws = list(RawMessage.objects.filter(id__in=raw_ids).order_by("id"))

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        files: dict[int, list[dict[str, Any]]] = {}
        for attachment in attachments:
            name = f"attachments/{attachment.pk}/{Path(attachment.filename).name or 'file'}"
            try:
                with default_storage.open(attachment.file.name, "rb") as fh:
                    archive.writestr(name, fh.read())
            except FileNotFoundError:
                name = ""  # the row outlived its file; say so rather than fail the whole export
            files.setdefault(attachment.message_id, []).append(
                {
                    "filename": attachment.filename,
                    "content_type": attachment.content_type,
                    "size": attachment.size,
                    "file": name or None,
                }
            )
        for raw in raws:
            path = Path(settings.DATA_DIR) / raw.path
            if path.exists():
                archive.writestr(f"raw/{raw.pk}.eml", path.read_bytes())
        by_conversation: dict[int, list[dict[str, Any]]] = {}
        elsewhere: list[dict[str, Any]] = []
        ours = {c.pk for c in conversations}
        for message in messages:
            entry = _message(message, files)
            if message.conversation_id in ours:
                by_conversation.setdefault(message.conversation_id, []).append(entry)
            else:
                elsewhere.append({"conversation": message.conversation_id, **entry})
        document = {
            "format": FORMAT,
            "exported_at": timezone.now().isoformat(),
            "customer": {
                "id": customer.pk,
                "name": customer.name,
                "company": customer.company,
                "timezone": customer.timezone,
                "external_id": customer.external_id,
                "attributes": customer.attributes,
                "created_at": _when(customer.created_at),
                "addresses": addresses,
            },
            "conversations": [
                {
                    "number": c.number,
                    "subject": c.subject,
                    "status": c.status,
                    "channel": c.channel,
                    "topic": c.topic,
                    "feeling": c.feeling,
                    "cc": c.cc,
                    "tags": sorted(c.tags.values_list("name", flat=True)),
                    "created_at": _when(c.created_at),
                    "resolved_at": _when(c.resolved_at),
                    "messages": by_conversation.get(c.pk, []),
                }
                for c in conversations
            ],
            "messages_in_other_conversations": elsewhere,
            "ratings": [
                {
                    "conversation": r.conversation_id,
                    "value": r.value,
                    "comment": r.comment,
                    "created_at": _when(r.created_at),
                    "updated_at": _when(r.updated_at),
                }
                for r in Rating.objects.filter(customer=customer).order_by("id")
            ],
            "community": {
                "topics": [
                    {
                        "id": t.pk,
                        "kind": t.kind,
                        "title": t.title,
                        "body": t.body,
                        "state": t.state,
                        "url": t.get_absolute_url(),
                        "created_at": _when(t.created_at),
                    }
                    for t in Topic.objects.filter(author_customer=customer).order_by("id")
                ],
                "posts": [
                    {
                        "id": p.pk,
                        "topic": p.topic_id,
                        "body": p.body,
                        "state": p.state,
                        "created_at": _when(p.created_at),
                    }
                    for p in Post.objects.filter(author_customer=customer).order_by("id")
                ],
                "votes": sorted(Vote.objects.filter(customer=customer).values_list("topic_id", flat=True)),
                "post_votes": sorted(
                    PostVote.objects.filter(customer=customer).values_list("post_id", flat=True)
                ),
                "follows": sorted(
                    Follow.objects.filter(customer=customer).values_list("topic_id", flat=True)
                ),
            },
            "status_subscriptions": [
                {
                    "email": s.email,
                    "created_at": _when(s.created_at),
                    "confirmed_at": _when(s.confirmed_at),
                    "unsubscribed_at": _when(s.unsubscribed_at),
                }
                for s in Subscriber.objects.filter(email__in=addresses).order_by("id")
            ],
        }
        audit.record(  # which customer, never what the archive holds
            Action.CUSTOMER_EXPORTED,
            actor=by,
            ip=ip,
            target=Target("customer", customer.pk),
            details={"conversations": len(conversations), "messages": len(messages)},
        )
        archive.writestr("customer.json", json.dumps(document, indent=2, ensure_ascii=False))
    return buffer.getvalue()
