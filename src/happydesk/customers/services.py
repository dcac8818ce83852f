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


class CustomerChangeRefused(ValueError):
    """An edit that would lose or steal an address: said in words for the agent."""


def attributes_parse(text: str) -> dict[str, object]:
    """Attributes typed as "key: value" lines: yes/true and no/false become flags, whole numbers
    numbers, anything else text. Keys are lowercased with spaces as underscores ("Lifetime orders" ->
    lifetime_orders), as SSO and the API send them."""
    found: dict[str, object] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        key, value = "_".join(key.strip().lower().split())[:60], header_text(value)[:200]
        if not sep or not key:
            continue
        if value.lower() in ("yes", "true"):
            found[key] = True
        elif value.lower() in ("no", "false"):
            found[key] = False
        elif value.isdigit() and len(value) < 16:
            found[key] = int(value)
        else:
            found[key] = value
    return found


@transaction.atomic
def customer_update(
    *, customer: Customer, name: str, company: str, attributes: dict[str, object], add_address: str = ""
) -> Customer:
    """An agent corrects who the customer is. A new address must not belong to another customer (that
    would hand their history to this one)."""
    customer.name, customer.company = header_text(name)[:200], header_text(company)[:200]
    customer.attributes = attributes
    customer.save(update_fields=["name", "company", "attributes"])
    address = add_address.strip().lower()
    if address:
        owner = CustomerEmail.objects.filter(address=address).select_related("customer").first()
        if owner is not None and owner.customer_id != customer.pk:
            raise CustomerChangeRefused(f"{address} belongs to another customer ({owner.customer})")
        if owner is None:
            CustomerEmail.objects.create(customer=customer, address=address)
    return customer


def customer_address_remove(*, customer: Customer, address: str) -> None:
    """Take an address off the customer; their last one stays (mail must reach someone)."""
    rows = list(customer.emails.all())
    if len(rows) <= 1:
        raise CustomerChangeRefused("a customer keeps at least one address")
    customer.emails.filter(address=address.strip().lower()).delete()
