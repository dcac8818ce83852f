"""Finding and creating customers by address."""

from __future__ import annotations

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
