"""Agent sign-in by OpenID Connect: /login/oidc/ sends the browser to the provider, the callback signs in.

Thin: the protocol checks are authlib's (state, PKCE, nonce, ID token), the agent rules are in
accounts.oidc. Every refusal renders one page and signs nobody in; tokens are never logged."""

from __future__ import annotations

import logging
import re

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client.errors import MismatchingStateError
from django.conf import settings
from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from joserfc.errors import JoseError

from happydesk.accounts.oidc import (
    OidcIdentity,
    OidcRefused,
    oidc_agent_for_claims,
    oidc_client,
    oidc_enabled,
    oidc_provider_name,
)
from happydesk.redirects import local_path

log = logging.getLogger(__name__)

NEXT_KEY = "happydesk_oidc_next"  # {state: local path to open after sign-in}
MAX_PENDING = 5
BACKEND = "django.contrib.auth.backends.ModelBackend"
NOT_VERIFIED = (
    "The sign-in could not be verified, so nobody was signed in. Start again from the sign-in page."
)


def _refused(request: HttpRequest, reason: str, status: int) -> HttpResponse:
    return render(
        request,
        "accounts/oidc_refused.html",
        {"reason": reason, "provider_name": oidc_provider_name()},
        status=status,
    )


@never_cache
@require_GET
def oidc_start(request: HttpRequest) -> HttpResponse:
    """Start the authorization code flow: state, nonce and PKCE verifier go into the session."""
    if not oidc_enabled():
        raise Http404
    try:
        client = oidc_client()
    except OidcRefused as refusal:
        return _refused(request, refusal.reason, refusal.status)
    # The canonical address, never the request's Host header: the provider registers this exact URI.
    redirect_uri = settings.BASE_URL + reverse("oidc_callback")
    rv = client.create_authorization_url(redirect_uri)
    client.save_authorize_data(request, redirect_uri=redirect_uri, **rv)
    pending = dict(list(request.session.get(NEXT_KEY, {}).items())[-(MAX_PENDING - 1) :])
    pending[rv["state"]] = local_path(request.GET.get("next", "")) or ""
    request.session[NEXT_KEY] = pending
    return redirect(rv["url"])


@never_cache
@require_GET
def oidc_callback(request: HttpRequest) -> HttpResponse:
    """Complete the flow: exchange the code, verify the ID token, sign the matching agent in."""
    if not oidc_enabled():
        raise Http404
    pending = request.session.get(NEXT_KEY, {})
    next_url = pending.pop(request.GET.get("state", ""), "")
    request.session[NEXT_KEY] = pending
    error = request.GET.get("error")
    if error:
        code = error if re.fullmatch(r"[a-z_]{1,40}", error) else "unknown_error"
        log.info("OIDC provider returned an error: %s", code)
        return _refused(request, f"The sign-in provider did not sign you in ({code}).", 400)
    try:
        token = oidc_client().authorize_access_token(request)
    except OidcRefused as refusal:
        return _refused(request, refusal.reason, refusal.status)
    except MismatchingStateError:
        log.info("OIDC callback with a missing or unknown state")
        return _refused(request, "This sign-in was not started here or has expired. " + NOT_VERIFIED, 400)
    except (AuthlibBaseError, JoseError, OSError, ValueError, KeyError) as exc:
        log.warning("OIDC sign-in refused: %s %s", type(exc).__name__, getattr(exc, "error", ""))
        return _refused(request, NOT_VERIFIED, 400)
    claims = token.get("userinfo")
    if not claims:  # no ID token (or none authlib verified): never trust the access token alone
        log.warning("OIDC token response without a verified ID token")
        return _refused(request, NOT_VERIFIED, 400)
    try:
        agent = oidc_agent_for_claims(identity=OidcIdentity.from_claims(claims))
    except OidcRefused as refusal:
        log.info("OIDC sign-in refused for a provider account: %s", refusal.reason)
        return _refused(request, refusal.reason, refusal.status)
    login(request, agent, backend=BACKEND)  # cycles the session key
    return redirect(next_url or settings.LOGIN_REDIRECT_URL)
