"""Two-factor sign-in pages: the code step after a right password, setting up an authenticator app (at
sign-in when the team requires it, or from the agent's account page), recovery codes, turning it off.

The password step (views.LoginView) never signs in an agent who has two-factor on, or who must set it
up: it keeps only "this browser showed agent N's password" in the session, for PENDING_SECONDS and
MAX_CODE_TRIES codes. Wrong codes count toward the same lockout as wrong passwords (django-axes)."""

from __future__ import annotations

import time
from base64 import b32encode
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.qr import write_qrcode_image

from happydesk.accounts.models import User
from happydesk.accounts.services import (
    TwoFactorRefused,
    recovery_codes_left,
    recovery_codes_renew,
    two_factor_begin,
    two_factor_check,
    two_factor_confirm,
    two_factor_disable,
    two_factor_enabled,
    two_factor_pending_device,
    two_factor_required,
    two_factor_wait,
)
from happydesk.ratelimit import client_ip

PENDING_KEY = "happydesk_2fa_pending"
PENDING_SECONDS = 300
MAX_CODE_TRIES = 5


def second_step(request: HttpRequest, user: User, next_url: str) -> HttpResponse | None:
    """After a right password: the page that must come before signing in (the code, or setting up an app
    when the team requires one), or None when the password is enough."""
    if two_factor_enabled(user):
        target = "login_code"
    elif two_factor_required():
        target = "login_setup"
    else:
        return None
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "backend": getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[-1]),
        "at": time.time(),
        "next": next_url,
        "tries": 0,
    }
    return redirect(target)


def _pending(request: HttpRequest) -> tuple[User, dict[str, Any]] | None:
    data = request.session.get(PENDING_KEY)
    if not data or time.time() - data.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None
    user = User.objects.filter(pk=data["user"], is_active=True).first()
    if user is None:
        request.session.pop(PENDING_KEY, None)
        return None
    return user, data


def _sign_in(request: HttpRequest, user: User, data: dict[str, Any], device: Any) -> None:
    request.session.pop(PENDING_KEY, None)
    login(request, user, backend=data["backend"])  # cycles the session key
    otp_login(request, device)  # the session remembers which device verified it


def _locked(request: HttpRequest, user: User) -> HttpResponse | None:
    from happydesk.accounts.views import locked_out

    if not AxesProxyHandler.is_allowed(request, {"username": user.email}):
        request.session.pop(PENDING_KEY, None)
        return locked_out(request)
    return None


@never_cache
def login_code(request: HttpRequest) -> HttpResponse:
    """The second step: a code from the authenticator app, or a recovery code."""
    pending = _pending(request)
    if pending is None:
        flash.info(request, "Sign in again: that sign-in took too long or was not started here.")
        return redirect("login")
    user, data = pending
    if (refusal := _locked(request, user)) is not None:
        return refusal
    error, status = "", 200
    if request.method == "POST":
        device = two_factor_check(agent=user, code=request.POST.get("code", ""), ip=client_ip(request))
        if device is not None:
            _sign_in(request, user, data, device)
            if device.__class__.__name__ == "StaticDevice":
                left = recovery_codes_left(user)
                flash.warning(
                    request,
                    f"You signed in with a recovery code; {left} left. Make new ones under Two-factor.",
                )
            return redirect(data["next"] or settings.LOGIN_REDIRECT_URL)
        user_login_failed.send(
            sender=__name__, credentials={"username": user.email}, request=request
        )  # counts toward the lockout, like a wrong password
        if getattr(request, "axes_locked_out", False):
            return _locked(request, user) or redirect("login")
        data["tries"] += 1
        if data["tries"] >= MAX_CODE_TRIES:
            request.session.pop(PENDING_KEY, None)
            flash.error(request, "Too many wrong codes. Sign in again.")
            return redirect("login")
        request.session[PENDING_KEY] = data
        wait = two_factor_wait(user)
        error = "That code didn't match." + (f" Wait {wait} seconds before the next try." if wait else "")
        status = 400
    return render(request, "accounts/login_code.html", {"error": error}, status=status)


def _setup_context(user: User, qr_url: str) -> dict[str, Any]:
    device = two_factor_pending_device(user) or two_factor_begin(agent=user)
    secret = b32encode(device.bin_key).decode()
    return {
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "otpauth": device.config_url,
        "qr_url": qr_url,
    }


@never_cache
def login_setup(request: HttpRequest) -> HttpResponse:
    """The team requires two-factor sign-in and this agent has none yet: set up the app, then sign in."""
    pending = _pending(request)
    if pending is None or two_factor_enabled(pending[0]):
        return redirect("login")
    user, data = pending
    if (refusal := _locked(request, user)) is not None:
        return refusal
    error = ""
    if request.method == "POST":
        try:
            codes = two_factor_confirm(agent=user, code=request.POST.get("code", ""), ip=client_ip(request))
        except TwoFactorRefused as exc:
            error = str(exc)
        else:
            from django_otp.plugins.otp_totp.models import TOTPDevice

            _sign_in(request, user, data, TOTPDevice.objects.get(user=user, confirmed=True))
            return render(
                request,
                "accounts/recovery_codes.html",
                {"codes": codes, "next": data["next"] or settings.LOGIN_REDIRECT_URL},
            )
    context = _setup_context(user, "/login/two-factor/qr.svg")
    context.update(error=error, required=True, action="")
    return render(request, "accounts/two_factor_setup.html", context, status=400 if error else 200)


@never_cache
def qr_code(request: HttpRequest) -> HttpResponse:
    """The QR code of the unconfirmed key being set up (signed in, or between password and setup)."""
    if request.user.is_authenticated:
        user: User | None = request.user  # type: ignore[assignment]
    else:
        pending = _pending(request)
        user = pending[0] if pending else None
    device = two_factor_pending_device(user) if user is not None else None
    if device is None:
        raise Http404
    response = HttpResponse(content_type="image/svg+xml")
    write_qrcode_image(device.config_url, response)
    return response


@login_required
@never_cache
def account_two_factor(request: HttpRequest) -> HttpResponse:
    """The signed-in agent's two-factor page: on or off, recovery codes left, and the actions."""
    user: User = request.user  # type: ignore[assignment]
    return render(
        request,
        "accounts/two_factor.html",
        {
            "enabled": two_factor_enabled(user),
            "required": two_factor_required(),
            "codes_left": recovery_codes_left(user),
        },
    )


@login_required
@never_cache
def account_two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the code (or type the key), confirm with a code from it."""
    user: User = request.user  # type: ignore[assignment]
    error = ""
    replacing = two_factor_enabled(user)  # moving to a new app: a code from the old one first
    if request.method == "POST":
        try:
            current = request.POST.get("current", "")
            if replacing and two_factor_check(agent=user, code=current, ip=client_ip(request)) is None:
                raise TwoFactorRefused("The code from your current app didn't match.")
            codes = two_factor_confirm(agent=user, code=request.POST.get("code", ""), ip=client_ip(request))
        except TwoFactorRefused as exc:
            error = str(exc)
        else:
            return render(
                request, "accounts/recovery_codes.html", {"codes": codes, "next": "/account/two-factor/"}
            )
    elif request.GET.get("new") or two_factor_pending_device(user) is None:
        two_factor_begin(agent=user)
    context = _setup_context(user, "/account/two-factor/qr.svg")
    context.update(error=error, required=False, replacing=replacing, action="/account/two-factor/setup/")
    return render(request, "accounts/two_factor_setup.html", context, status=400 if error else 200)


@login_required
@never_cache
@require_POST
def account_recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes (the old ones stop working), after a current code."""
    user: User = request.user  # type: ignore[assignment]
    try:
        codes = recovery_codes_renew(agent=user, code=request.POST.get("code", ""), ip=client_ip(request))
    except TwoFactorRefused as exc:
        flash.error(request, str(exc))
        return redirect("two_factor")
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": "/account/two-factor/"})


@login_required
@require_POST
def account_two_factor_off(request: HttpRequest) -> HttpResponse:
    """Turn two-factor sign-in off, after a current code; refused while the team requires it."""
    user: User = request.user  # type: ignore[assignment]
    try:
        two_factor_disable(agent=user, code=request.POST.get("code", ""), ip=client_ip(request))
    except TwoFactorRefused as exc:
        flash.error(request, str(exc))
    else:
        flash.success(request, "Two-factor sign-in is off: your password alone signs you in.")
    return redirect("two_factor")
