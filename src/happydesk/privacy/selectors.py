"""Which rows are a customer's: one answer for the export and the erasure, so nothing erased was left
out of the archive a customer asked for first."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from happydesk.customers.models import Customer
from happydesk.inbox.models import Message


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
