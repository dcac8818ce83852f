"""Agent sign-in through the company's OpenID Connect provider (authorization code flow, PKCE S256).

The protocol is authlib's Django client: it keeps state, nonce and the PKCE verifier in the session and
checks the ID token's signature (the provider's JWKS), `iss`, `aud`, `exp` and `nonce`. This module adds
what is ours: the client built from settings, the discovery checks, and which agent a verified ID token
signs in (`oidc_agent_for_claims`). SSO never creates an agent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from authlib.common.errors import AuthlibBaseError
from authlib.common.security import is_secure_transport
from authlib.integrations.django_client import OAuth
from django.conf import settings
from django.db import transaction

from happydesk.accounts.models import User

log = logging.getLogger(__name__)

CLIENT_NAME = "happydesk_oidc"
SCOPE = "openid email profile"


class OidcRefused(Exception):
    """Sign-in refused; `reason` is shown to the person (never a token or a provider's raw text)."""

    def __init__(self, reason: str, *, status: int = 403) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def oidc_enabled() -> bool:
    """OIDC sign-in is on when an issuer and a client id are configured."""
    return bool(settings.HAPPYDESK_OIDC_ISSUER and settings.HAPPYDESK_OIDC_CLIENT_ID)


def oidc_provider_name() -> str:
    """The name on the "Sign in with ..." button."""
    return settings.HAPPYDESK_OIDC_NAME


def _drop_secret_debug_lines(record: logging.LogRecord) -> bool:
    # authlib logs the PKCE code verifier at DEBUG ("Using code_verifier: ..."); it never reaches our logs.
    return "code_verifier" not in str(record.msg)


logging.getLogger("authlib.integrations.base_client.sync_app").addFilter(_drop_secret_debug_lines)


@lru_cache(maxsize=4)
def _client_for(issuer: str, client_id: str, client_secret: str) -> Any:
    oauth = OAuth()
    return oauth.register(
        name=CLIENT_NAME,
        client_id=client_id,
        client_secret=client_secret or None,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": SCOPE, "code_challenge_method": "S256", "default_timeout": 10},
    )


def oidc_client() -> Any:
    """The authlib client for the configured provider, its discovery document loaded and checked.

    The document must name exactly the configured issuer (OpenID Connect Discovery 4.3) and its
    endpoints must be https (loopback excepted), else nothing is sent to it."""
    issuer = settings.HAPPYDESK_OIDC_ISSUER
    if not is_secure_transport(issuer):
        raise OidcRefused("Single sign-on is misconfigured: the provider must use https.", status=503)
    client = _client_for(issuer, settings.HAPPYDESK_OIDC_CLIENT_ID, settings.HAPPYDESK_OIDC_CLIENT_SECRET)
    try:
        metadata = client.load_server_metadata()
    except (OSError, ValueError, AuthlibBaseError) as exc:  # requests' errors are OSErrors
        log.warning("OIDC discovery at %s failed: %s", issuer, type(exc).__name__)
        raise OidcRefused(
            "The sign-in provider cannot be reached right now. Try again later.", status=503
        ) from exc
    if str(metadata.get("issuer", "")).rstrip("/") != issuer:
        client.server_metadata.clear()  # fetch it again next time; never act on this one
        log.warning("OIDC discovery at %s names another issuer; refusing", issuer)
        raise OidcRefused("The sign-in provider's configuration does not match this Happydesk.", status=502)
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not is_secure_transport(str(metadata.get(key, ""))):
            raise OidcRefused(
                "The sign-in provider's configuration does not match this Happydesk.", status=502
            )
    return client


@dataclass(frozen=True)
class OidcIdentity:
    """What a verified ID token says about the person."""

    issuer: str
    subject: str
    email: str
    email_verified: bool

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> OidcIdentity:
        """Read the identity from claims authlib has already verified."""
        verified = claims.get("email_verified")
        return cls(
            issuer=str(claims.get("iss", "")),
            subject=str(claims.get("sub", "")),
            email=str(claims.get("email") or "").strip().lower(),
            # Some providers send the string "true"; anything else is not verified.
            email_verified=verified is True or (isinstance(verified, str) and verified.lower() == "true"),
        )


NO_AGENT = "There is no Happydesk agent for this account. Ask an admin to add you to the support team."
DEACTIVATED = "This Happydesk agent account is deactivated. Ask an admin if you need access again."
UNVERIFIED = (
    "Your sign-in provider has not verified your email address, so it cannot be matched to a Happydesk "
    "agent. Ask an admin to link your account."
)
LINKED_ELSEWHERE = (
    "The Happydesk agent with this email is already linked to another account at your sign-in provider. "
    "Ask an admin."
)


@transaction.atomic
def oidc_agent_for_claims(*, identity: OidcIdentity) -> User:
    """The active agent this provider account signs in as, linking it by verified email the first time.

    Matched by (issuer, subject); an agent is linked by email only when the provider says the email is
    verified and the agent has no other provider account. Raises OidcRefused; never creates an agent."""
    if not identity.issuer or not identity.subject:
        raise OidcRefused(NO_AGENT)
    agent = (
        User.objects.select_for_update()
        .filter(oidc_issuer=identity.issuer, oidc_subject=identity.subject)
        .first()
    )
    if agent is None:
        if not identity.email:
            raise OidcRefused(NO_AGENT)
        if not identity.email_verified:  # before the lookup: says nothing about which emails are agents
            raise OidcRefused(UNVERIFIED)
        candidate = User.objects.select_for_update().filter(email__iexact=identity.email).first()
        if candidate is None:
            raise OidcRefused(NO_AGENT)
        if not candidate.is_active:
            raise OidcRefused(DEACTIVATED)
        if candidate.oidc_subject:
            raise OidcRefused(LINKED_ELSEWHERE)
        candidate.oidc_issuer = identity.issuer
        candidate.oidc_subject = identity.subject
        candidate.save(update_fields=["oidc_issuer", "oidc_subject"])
        log.info("agent %s linked to an OIDC account at %s", candidate.pk, identity.issuer)
        agent = candidate
    if not agent.is_active:
        raise OidcRefused(DEACTIVATED)
    return agent
