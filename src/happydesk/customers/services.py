"""Finding and creating customers by address."""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction

from happydesk.customers.models import Customer, CustomerEmail
from happydesk.headers import header_text


def customer_for_address(*, address: str, name: str = "") -> Customer:
    """The customer who owns this address, created on first contact. Fills in a missing name."""
    address = address.strip().lower()
    name = header_text(name)  # from a From header, a form or an SSO claim: one line, no controls
    row = CustomerEmail.objects.select_related("customer").filter(address=address).first()
    if row is not None:
        customer = row.customer
        if name and not customer.name:
            customer.name = name[:200]
            customer.save(update_fields=["name"])
        return customer
    try:
        with transaction.atomic():  # a savepoint: another worker may be creating the same customer
            customer = Customer.objects.create(name=name[:200])
            CustomerEmail.objects.create(customer=customer, address=address)
            return customer
    except IntegrityError:
        return CustomerEmail.objects.select_related("customer").get(address=address).customer


OFFSET_PREFIX = "UTC"  # a time zone known only as an offset, from the Date header of their email


def offset_zone(offset: timedelta) -> str:
    """How a UTC offset is kept as a customer's time zone: "UTC+01:00", "UTC-05:30"."""
    minutes = round(offset.total_seconds() / 60)
    sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
    return f"{OFFSET_PREFIX}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def customer_note_utc_offset(*, customer: Customer, offset: timedelta | None) -> None:
    """An email's Date header says what time it was where the customer wrote: keep that offset as
    their time zone, unless a real zone is known (from SSO, the widget or an agent), which wins. A
    missing or impossible offset changes nothing."""
    if offset is None or abs(offset) > timedelta(hours=14):
        return
    if customer.timezone and not customer.timezone.startswith(OFFSET_PREFIX):
        return
    zone = offset_zone(offset)
    if customer.timezone != zone:
        Customer.objects.filter(pk=customer.pk).update(timezone=zone)
        customer.timezone = zone
