"""Customer portal sign-in: a one-time link sent to the customer's address, no password."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from happydesk.accounts.models import PortalLoginToken
from happydesk.customers.models import Customer, CustomerEmail

LINK_LIFETIME = timedelta(minutes=30)
LINKS_PER_WINDOW, LINK_WINDOW = 3, timedelta(minutes=10)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def portal_link_send(*, address: str) -> bool:
    """Queue a sign-in link if the address belongs to a customer, at most LINKS_PER_WINDOW per customer
    per LINK_WINDOW so nobody can make us flood an inbox. The caller shows the same answer either way, so
    the form does not reveal who is a customer. Sent through the outbox, with its retries."""
    from happydesk.mail.outbound import notice_enqueue

    row = CustomerEmail.objects.select_related("customer").filter(address=address.strip().lower()).first()
    if row is None:
        return False
    recent = PortalLoginToken.objects.filter(
        customer=row.customer, created_at__gte=timezone.now() - LINK_WINDOW
    )
    if recent.count() >= LINKS_PER_WINDOW:
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
    notice_enqueue(to=[row.address], subject="Your sign-in link", text=body, kind="portal-link")
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
