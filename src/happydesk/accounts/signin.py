"""What happens at agent sign-in, announced in one place: `signin_record` logs each event and sends
`signin_event`, which an audit log (or anything else) can subscribe to. Password sign-ins, failures and
lockouts arrive here from Django's and django-axes' signals (connected in apps.py); two-factor changes,
unlocks and the sign-in policy from accounts.services.

Also the two small adapters django-axes is configured with (settings.AXES_*): the client address comes
from ratelimit.client_ip (so HAPPYDESK_TRUSTED_PROXIES applies), the account from the typed email."""

from __future__ import annotations

import enum
import logging
from typing import TYPE_CHECKING, Any

from django.dispatch import Signal

from happydesk.ratelimit import client_ip

if TYPE_CHECKING:
    from django.http import HttpRequest

    from happydesk.accounts.models import User

log = logging.getLogger(__name__)


class SignInEvent(enum.StrEnum):
    SIGNED_IN = "signed_in"  # password (and code when enrolled), or OpenID Connect
    FAILED = "failed"  # wrong password, or a wrong two-factor code
    LOCKED_OUT = "locked_out"  # too many failures for this account or from this client
    UNLOCKED = "unlocked"  # an admin lifted an account's lockout
    TWO_FACTOR_ON = "two_factor_on"
    TWO_FACTOR_OFF = "two_factor_off"  # by the agent, or reset by an admin
    RECOVERY_CODES_NEW = "recovery_codes_new"
    RECOVERY_CODE_USED = "recovery_code_used"
    TWO_FACTOR_POLICY = "two_factor_policy"  # an admin required two-factor sign-in, or stopped requiring it


# Sent for every SignInEvent with keyword arguments kind, email, agent (User or None), client_ip, by
# (the admin who did it, or None) and detail (a short text). Receivers must not raise.
signin_event = Signal()


def signin_record(
    kind: SignInEvent,
    *,
    request: HttpRequest | None = None,
    email: str = "",
    agent: User | None = None,
    by: User | None = None,
    detail: str = "",
) -> None:
    """Log one sign-in event and announce it to signin_event's receivers."""
    email = (email or (agent.email if agent is not None else "")).strip().lower()
    ip = client_ip(request) if request is not None else ""
    log.info("sign-in %s: %s from %s%s", kind, email or "-", ip or "-", f" ({detail})" if detail else "")
    signin_event.send(
        sender=SignInEvent, kind=kind, email=email, agent=agent, client_ip=ip, by=by, detail=detail
    )


def typed_email(credentials: dict[str, Any] | None) -> str:
    """The account a sign-in attempt names, as the lockout counts it: the email, trimmed, lowercase."""
    credentials = credentials or {}
    value = credentials.get("username") or credentials.get("email") or ""
    return str(value).strip().lower()[:254]


def axes_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    """AXES_USERNAME_CALLABLE: the typed email (our form's field is `username`, the model's `email`)."""
    if credentials:
        return typed_email(credentials)
    return typed_email(request.POST if request is not None else None)


def axes_client_ip(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the client as every other limit sees it (None when unknown)."""
    ip = client_ip(request)
    return None if ip == "unknown" else ip


def _on_logged_in(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    signin_record(SignInEvent.SIGNED_IN, request=request, agent=user)


def _on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # A refusal by the lockout itself (the backend flags the request before any password is checked, and
    # axes counts nothing) is reported as LOCKED_OUT (below), not as one more failure. Either order of
    # receivers gives the same answer: the failure that causes the lockout has a count once axes ran.
    if (
        request is not None
        and getattr(request, "axes_locked_out", False)
        and getattr(request, "axes_failures_since_start", None) is None
    ):
        return
    signin_record(SignInEvent.FAILED, request=request, email=typed_email(credentials))


def _on_locked_out(sender: Any, request: HttpRequest, username: str | None, **kwargs: Any) -> None:
    signin_record(SignInEvent.LOCKED_OUT, request=request, email=username or "")


def connect() -> None:
    """Subscribe to Django's and django-axes' sign-in signals (AccountsConfig.ready)."""
    from axes.signals import user_locked_out
    from django.contrib.auth.signals import user_logged_in, user_login_failed

    user_logged_in.connect(_on_logged_in, dispatch_uid="happydesk-signin-logged-in")
    user_login_failed.connect(_on_login_failed, dispatch_uid="happydesk-signin-failed")
    user_locked_out.connect(_on_locked_out, dispatch_uid="happydesk-signin-locked-out")
