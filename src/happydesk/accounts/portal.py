"""Customer portal sign-in: a one-time link sent to the customer's address, no password."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from happydesk.accounts.models import PortalLoginToken
from happydesk.customers.models import Customer, CustomerEmail

LINK_LIFETIME = timedelta(minutes=30)
LINKS_PER_WINDOW, LINK_WINDOW = 3, timedelta(minutes=10)
SESSION_KEY = "portal_customer_id"  # the signed-in customer, in the session (portal and community)
CONVERSATION_LINK_SALT = "happydesk.portal-conversation-link"
CONFIRM_LINK_SALT = "happydesk.contact-confirm"


class LinkExpired(Exception):
    """A signed link that was ours but is past its age; `token`/`customer_id` say what it was for."""

    def __init__(self, token: str, customer_id: int) -> None:
        super().__init__("link expired")
        self.token, self.customer_id = token, customer_id


def _sign(salt: str, *, token: str, customer_id: int) -> str:
    return signing.dumps({"t": token, "c": customer_id}, salt=salt)


def _fields(data: object) -> tuple[str, int] | None:
    """(token, customer id) of an unsigned link value, None if it is not one of ours."""
    if isinstance(data, dict) and isinstance(data.get("t"), str) and isinstance(data.get("c"), int):
        return data["t"], data["c"]
    return None


def _unsign(salt: str, value: str) -> tuple[str, int] | None:
    """(token, customer id) of a valid signed link; None if forged; LinkExpired if too old."""
    try:
        return _fields(
            signing.loads(value, salt=salt, max_age=timedelta(days=settings.HAPPYDESK_PORTAL_LINK_DAYS))
        )
    except signing.SignatureExpired:
        found = _fields(signing.loads(value, salt=salt))  # the signature is ours, only the age is wrong
        if found is not None:
            raise LinkExpired(*found) from None
        return None
    except signing.BadSignature:
        return None


def conversation_link_value(*, token: str, customer_id: int) -> str:
    """The signed part of a conversation link in our emails: that conversation, for that customer,
    for HAPPYDESK_PORTAL_LINK_DAYS days."""
    return _sign(CONVERSATION_LINK_SALT, token=token, customer_id=customer_id)


def conversation_link_check(value: str) -> tuple[str, int] | None:
    """(conversation token, customer id) of a valid conversation link; None if forged; raises
    LinkExpired when it is ours but too old."""
    return _unsign(CONVERSATION_LINK_SALT, value)


def confirm_link_value(*, token: str, customer_id: int) -> str:
    """The signed part of the "yes, it was me" link mailed after a contact-form message."""
    return _sign(CONFIRM_LINK_SALT, token=token, customer_id=customer_id)


def confirm_link_check(value: str) -> tuple[str, int] | None:
    """(conversation token, customer id) of a valid confirmation link, as conversation_link_check."""
    return _unsign(CONFIRM_LINK_SALT, value)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def portal_token_issue(*, address: str) -> tuple[str, str] | None:
    """A new one-time sign-in token for the customer who owns this address, as (address, token), at
    most LINKS_PER_WINDOW per customer per LINK_WINDOW so nobody can make us flood an inbox; None when
    the address is no customer's or the limit is reached (the portal app mails the link)."""
    row = CustomerEmail.objects.select_related("customer").filter(address=address.strip().lower()).first()
    if row is None:
        return None
    recent = PortalLoginToken.objects.filter(
        customer=row.customer, created_at__gte=timezone.now() - LINK_WINDOW
    )
    if recent.count() >= LINKS_PER_WINDOW:
        return None
    token = secrets.token_urlsafe(32)
    PortalLoginToken.objects.create(
        customer=row.customer, digest=_digest(token), expires_at=timezone.now() + LINK_LIFETIME
    )
    return row.address, token


def portal_token_usable(*, token: str) -> bool:
    """Whether a sign-in link would still work, without using it (a GET only looks)."""
    return PortalLoginToken.objects.filter(
        digest=_digest(token), used_at__isnull=True, expires_at__gt=timezone.now()
    ).exists()


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
