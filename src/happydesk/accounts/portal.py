"""Customer portal sign-in: a one-time link sent to the customer's address, no password."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from happydesk.accounts.models import PortalLoginToken
from happydesk.customers.models import Customer, CustomerEmail

LINK_LIFETIME = timedelta(minutes=30)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def portal_link_send(*, address: str) -> bool:
    """Mail a sign-in link if the address belongs to a customer. The caller shows the same answer either
    way, so the form does not reveal who is a customer."""
    row = CustomerEmail.objects.select_related("customer").filter(address=address.strip().lower()).first()
    if row is None:
        return False
    token = secrets.token_urlsafe(32)
    PortalLoginToken.objects.create(
        customer=row.customer, digest=_digest(token), expires_at=timezone.now() + LINK_LIFETIME
    )
    link = settings.BASE_URL + reverse("portal_login", args=[token])
    body = (
        f"Hi {row.customer.first_name or 'there'},\n\nHere is your link to sign in to the support portal:\n\n"
        f"{link}\n\nIt works once, for the next 30 minutes. If you didn't ask for it, ignore this email.\n"
    )
    message = EmailMessage(
        subject="Your sign-in link", body=body, to=[row.address], headers={"Auto-Submitted": "auto-generated"}
    )
    message.from_email = settings.DEFAULT_FROM_EMAIL
    message.send()
    return True


@transaction.atomic
def portal_token_redeem(*, token: str) -> Customer | None:
    """The customer a sign-in link belongs to, once; None if unknown, used or expired."""
    row = (
        PortalLoginToken.objects.select_for_update()
        .select_related("customer")
        .filter(digest=_digest(token), used_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if row is None:
        return None
    row.used_at = timezone.now()
    row.save(update_fields=["used_at"])
    return row.customer
