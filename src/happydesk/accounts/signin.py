"""What happens at agent sign-in, in one place: `signin_record` logs each event, adds it to the audit log
(happydesk.audit, a lower layer) and sends `signin_event` for anything else that wants to hear it.
Password sign-ins, failures and lockouts arrive here from Django's and django-axes' signals (connected
in apps.py); two-factor changes, unlocks and the sign-in policy from accounts.services.

Also the two small adapters django-axes is configured with (settings.AXES_*): the client address comes
from ratelimit.client_ip (so HAPPYDESK_TRUSTED_PROXIES applies), the account from the typed email."""

from __future__ import annotations

import enum
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.dispatch import Signal

from happydesk.ratelimit import client_ip, over_limit

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


# The audit log's action for each event (TWO_FACTOR_OFF by an admin is a reset; the policy says which way).
AUDIT_ACTIONS = {
    SignInEvent.SIGNED_IN: "signin.succeeded",
    SignInEvent.FAILED: "signin.failed",
    SignInEvent.LOCKED_OUT: "signin.locked_out",
    SignInEvent.UNLOCKED: "signin.unlocked",
    SignInEvent.TWO_FACTOR_ON: "two_factor.enabled",
    SignInEvent.TWO_FACTOR_OFF: "two_factor.disabled",
    SignInEvent.RECOVERY_CODES_NEW: "recovery_codes.renewed",
    SignInEvent.RECOVERY_CODE_USED: "recovery_codes.used",
    SignInEvent.TWO_FACTOR_POLICY: "two_factor.required",
}


def signin_record(
    kind: SignInEvent,
    *,
    request: HttpRequest | None = None,
    email: str = "",
    agent: User | None = None,
    by: User | None = None,
    detail: str = "",
    ip: str = "",
) -> None:
    """Log one sign-in event, add it to the audit log and announce it to signin_event's receivers. The
    client address is the request's (ratelimit.client_ip), else `ip` as the caller's view saw it."""
    email = (email or (agent.email if agent is not None else "")).strip().lower()
    ip = client_ip(request) if request is not None else ip
    log.info("sign-in %s: %s from %s%s", kind, email or "-", ip or "-", f" ({detail})" if detail else "")
    _audit(kind, email=email, agent=agent, by=by, ip=ip, detail=detail)
    signin_event.send(
        sender=SignInEvent, kind=kind, email=email, agent=agent, client_ip=ip, by=by, detail=detail
    )


def _audit(
    kind: SignInEvent, *, email: str, agent: User | None, by: User | None, ip: str, detail: str
) -> None:
    """The audit entry of a sign-in event. A failure or lockout names the account only when one has the
    typed email: what someone typed into the email field may be their password, and is not kept."""
    from happydesk.accounts.models import User
    from happydesk.audit import services as audit
    from happydesk.audit.models import Action

    if kind == SignInEvent.LOCKED_OUT and over_limit(
        f"audit-locked-out:{email}:{ip}", limit=1, window=timedelta(minutes=1)
    ):
        return  # a client hammering a locked account adds one entry a minute, not one a request
    action = Action(AUDIT_ACTIONS[kind])
    anonymous = kind in (SignInEvent.FAILED, SignInEvent.LOCKED_OUT)
    account = agent if agent is not None else User.objects.filter(email=email).first() if email else None
    target = audit.Target("agent", account.pk, account.email) if account else audit.Target("agent", "", "")
    details: dict[str, str] = {"note": detail} if detail else {}
    if account is None:
        details["account"] = "unknown"
    if kind == SignInEvent.TWO_FACTOR_OFF and by is not None:  # two_factor_reset: an admin did it
        action, details = Action.TWO_FACTOR_RESET, {}
    elif kind == SignInEvent.TWO_FACTOR_POLICY:
        action = Action.TWO_FACTOR_REQUIRED if detail == "required" else Action.TWO_FACTOR_OPTIONAL
        target, details = audit.Target("sign_in_policy", "", "Two-factor sign-in"), {}
    audit.record(action, actor=None if anonymous else by or account, target=target, ip=ip, details=details)


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
    # The code step reports a wrong code as a failed sign-in too (two_factor_views.login_code).
    code = sender == "happydesk.accounts.two_factor_views"
    signin_record(
        SignInEvent.FAILED,
        request=request,
        email=typed_email(credentials),
        detail="wrong two-factor code" if code else "",
    )


def _on_locked_out(sender: Any, request: HttpRequest, username: str | None, **kwargs: Any) -> None:
    signin_record(SignInEvent.LOCKED_OUT, request=request, email=username or "")


def connect() -> None:
    """Subscribe to Django's and django-axes' sign-in signals (AccountsConfig.ready)."""
    from axes.signals import user_locked_out
    from django.contrib.auth.signals import user_logged_in, user_login_failed

    user_logged_in.connect(_on_logged_in, dispatch_uid="happydesk-signin-logged-in")
    user_login_failed.connect(_on_login_failed, dispatch_uid="happydesk-signin-failed")
    user_locked_out.connect(_on_locked_out, dispatch_uid="happydesk-signin-locked-out")
