"""Customer single sign-on by JWT, as Zendesk does it: the company's product signs who the visitor is.

The token is HS256 with one of settings.HAPPYDESK_SSO_JWT_SECRETS (several, for rotation), fresh
(`iat` at most five minutes old), unexpired and used once (`jti`, kept as a SingleUseClaim until the
token expires). A token that passes names the customer: by `external_id`, else by `email`, else a new
one. The same check serves /sso/jwt (portal sign-in) and the widget's identify endpoint, which trades
the token for a short-lived identity of our own (signed, never a cookie).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from happydesk.accounts.models import SingleUseClaim
from happydesk.customers.models import Customer, CustomerEmail
from happydesk.redirects import local_path

MAX_AGE = timedelta(minutes=5)  # how old `iat` may be
MAX_SKEW = timedelta(minutes=1)  # how far in the future `iat` may be (clocks differ)
WIDGET_IDENTITY_SALT = "happydesk.widget-identity"
WIDGET_IDENTITY_MAX_AGE = 12 * 3600


class SsoRefused(Exception):
    """The token (or the place to return to) is not accepted; `status` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.message, self.status = message, status


@dataclass(frozen=True)
class SsoClaims:
    email: str
    name: str
    external_id: str
    jti: str
    expires_at: datetime


def sso_enabled() -> bool:
    """Customer SSO is on when at least one secret is configured."""
    return bool(settings.HAPPYDESK_SSO_JWT_SECRETS)


def safe_return_to(value: str, default: str = "/portal/") -> str:
    """A local path to send the visitor to after sign-in; anything else (other hosts, schemes,
    protocol-relative or backslash tricks) raises SsoRefused."""
    if not value:
        return default
    if local_path(value) is None:
        raise SsoRefused("return_to must be a path on this site", status=400)
    return value


def sso_token_verify(token: str) -> SsoClaims:
    """Check signature, algorithm and times of a customer SSO token; raises SsoRefused.
    Does not consume the `jti` (sso_token_redeem does)."""
    if not token:
        raise SsoRefused("No token given", status=400)
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError:
        raise SsoRefused("The token is not a JWT", status=400) from None
    if header.get("alg") != "HS256":
        raise SsoRefused(f"Algorithm {header.get('alg')!r} is not accepted; only HS256", status=400)
    payload = None
    for secret in settings.HAPPYDESK_SSO_JWT_SECRETS:
        try:
            payload = jwt.decode(
                token,
                secret,
                algorithms=["HS256"],
                options={"require": ["exp", "iat", "jti"], "verify_iat": False},
            )
            break
        except jwt.InvalidSignatureError:
            continue  # perhaps signed with another of the secrets (rotation)
        except jwt.ExpiredSignatureError:
            raise SsoRefused("The token has expired") from None
        except jwt.MissingRequiredClaimError as exc:
            raise SsoRefused(f"The token has no {exc.claim!r} claim", status=400) from None
        except jwt.InvalidTokenError as exc:
            raise SsoRefused(f"The token is not valid: {exc}", status=400) from None
    if payload is None:
        raise SsoRefused("The token's signature does not verify")
    now = timezone.now()
    try:
        issued = datetime.fromtimestamp(float(payload["iat"]), tz=UTC)
        expires = datetime.fromtimestamp(float(payload["exp"]), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        raise SsoRefused("iat and exp must be times in seconds", status=400) from None
    if issued < now - MAX_AGE:
        raise SsoRefused("The token was issued more than five minutes ago")
    if issued > now + MAX_SKEW:
        raise SsoRefused("The token is issued in the future")
    jti = payload.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 200:
        raise SsoRefused("The token's jti must be a string of at most 200 characters", status=400)
    email = payload.get("email")
    if not isinstance(email, str) or "@" not in email.strip():
        raise SsoRefused("The token has no email address", status=400)
    external_id = payload.get("external_id")
    return SsoClaims(
        email=email.strip().lower()[:320],
        name=str(payload.get("name") or "")[:200],
        external_id=str(external_id)[:255] if external_id not in (None, "") else "",
        jti=jti,
        expires_at=expires,
    )


@transaction.atomic
def sso_token_redeem(token: str) -> tuple[Customer, SsoClaims]:
    """Verify the token, use up its `jti` (a second use is refused) and return the customer it names:
    by external_id, else by email (then linked to the external_id), else created."""
    from happydesk.customers.services import customer_for_address

    claims = sso_token_verify(token)
    SingleUseClaim.objects.filter(expires_at__lt=timezone.now()).delete()  # refused by time anyway
    try:
        with transaction.atomic():
            SingleUseClaim.objects.create(key=f"sso-jwt:{claims.jti}", expires_at=claims.expires_at)
    except IntegrityError:
        raise SsoRefused("This token has been used already") from None
    customer = Customer.objects.filter(external_id=claims.external_id).first() if claims.external_id else None
    if customer is None:
        customer = customer_for_address(address=claims.email, name=claims.name)
        if claims.external_id:
            if customer.external_id and customer.external_id != claims.external_id:
                raise SsoRefused("That address belongs to another account in our help desk")
            customer.external_id = claims.external_id
            customer.save(update_fields=["external_id"])
    elif not CustomerEmail.objects.filter(address=claims.email).exists():
        # The company vouches for this address of its user: mail from it is theirs from now on.
        CustomerEmail.objects.create(customer=customer, address=claims.email)
    if claims.name and not customer.name:
        customer.name = claims.name
        customer.save(update_fields=["name"])
    return customer, claims


def widget_identity_issue(*, customer: Customer, mailbox_id: int) -> str:
    """A short-lived identity for the widget on one mailbox (kept in the widget's memory)."""
    return signing.dumps({"c": customer.pk, "m": mailbox_id}, salt=WIDGET_IDENTITY_SALT, compress=True)


def widget_identity_check(value: str, *, mailbox_id: int) -> Customer | None:
    """The customer a widget identity stands for, or None if it is forged, expired or for another mailbox."""
    try:
        data = signing.loads(value, salt=WIDGET_IDENTITY_SALT, max_age=WIDGET_IDENTITY_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("m") != mailbox_id:
        return None
    return Customer.objects.filter(pk=data.get("c")).first()
