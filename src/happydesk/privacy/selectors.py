"""Which rows are a customer's: one answer for the export and the erasure, so nothing erased was left
out of the archive a customer asked for first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from happydesk.community.models import Post, Topic
from happydesk.customers.models import Customer
from happydesk.feedback.models import Rating
from happydesk.inbox.models import Attachment, Conversation, Message
from happydesk.mail.models import RawMessage


def any_iexact(field: str, values: Iterable[str]) -> Q:
    """field equals one of values, ignoring case (addresses arrive in any case)."""
    q = Q(pk__in=[])
    for value in values:
        q |= Q(**{f"{field}__iexact": value})
    return q


def messages_written_by(customer: Customer, addresses: Iterable[str]) -> QuerySet[Message]:
    """Their messages anywhere: linked to them, or sent from one of their addresses (a cc'd reply in
    another customer's conversation, a message from before the address was theirs)."""
    return Message.objects.filter(Q(customer=customer) | any_iexact("from_address", addresses))


@dataclass(frozen=True)
class ErasurePreview:
    """What erasing a customer would delete and keep, as counts (the confirmation page says them)."""

    addresses: list[str]
    conversations: int
    messages: int  # customer messages, replies, auto-replies and notes (not event lines)
    notes: int
    messages_elsewhere: int  # theirs in other customers' conversations (a cc'd reply, a merge)
    attachments: int
    raw_mail: int
    ratings: int
    topics_kept: int
    posts_kept: int

    @property
    def files(self) -> int:
        return self.attachments + self.raw_mail


def erasure_preview(customer: Customer) -> ErasurePreview:
    """The counts `privacy.erasure.customer_erase` would erase for this customer, found the same way:
    their conversations with everything in them, their messages anywhere, the raw mail of those messages
    and any other mail from their addresses; and the community topics and posts it keeps anonymous."""
    addresses = sorted({e.lower() for e in customer.emails.values_list("address", flat=True)})
    conversations = Conversation.objects.filter(customer=customer)
    in_theirs = Message.objects.filter(conversation__in=conversations)
    elsewhere = messages_written_by(customer, addresses).exclude(conversation__in=conversations)
    every = Message.objects.filter(Q(pk__in=in_theirs.values("pk")) | Q(pk__in=elsewhere.values("pk")))
    raw = RawMessage.objects.filter(
        Q(message__in=every)
        | Q(id__in=every.exclude(raw=None).values("raw_id"))
        | any_iexact("envelope_from", addresses)
    )
    return ErasurePreview(
        addresses=addresses,
        conversations=conversations.count(),
        messages=every.exclude(kind=Message.Kind.EVENT).count(),
        notes=in_theirs.filter(kind=Message.Kind.NOTE).count(),
        messages_elsewhere=elsewhere.exclude(kind=Message.Kind.EVENT).count(),
        attachments=Attachment.objects.filter(message__in=every).count(),
        raw_mail=raw.count(),
        ratings=Rating.objects.filter(Q(customer=customer) | Q(conversation__in=conversations)).count(),
        topics_kept=Topic.objects.filter(author_customer=customer).count(),
        posts_kept=Post.objects.filter(author_customer=customer).count(),
    )
