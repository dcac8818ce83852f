"""Agent sign-in by OpenID Connect, against a real provider on loopback (tests/oidc_provider.py).

Happydesk runs in-process behind Django's test client; the browser's part (following redirects, picking
the account at the provider's page) is played with requests. Only Happydesk's server talks to the
provider's discovery, token and JWKS endpoints; the provider never calls us."""

from __future__ import annotations

import base64
import json
import logging
import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from tests.oidc_provider import OidcProvider

CALLBACK_PATH = "/login/oidc/callback/"


@pytest.fixture(scope="module")
def provider():  # type: ignore[no-untyped-def]
    from django.conf import settings

    p = OidcProvider().start()
    p.client_id, p.client_secret = p.register_client(settings.BASE_URL + CALLBACK_PATH)
    yield p
    p.stop()


@pytest.fixture
def agent(db):  # type: ignore[no-untyped-def]
    """An agent who has never signed in by OIDC (no password: hashing one costs a second per test)."""
    from happydesk.accounts.services import agent_create

    return agent_create(email="alex@acme.test", name="Alex Agent")


def _configure(settings, p: OidcProvider, client_id: str, secret: str) -> None:  # type: ignore[no-untyped-def]
    from happydesk.accounts import oidc

    settings.HAPPYDESK_OIDC_ISSUER = p.issuer
    settings.HAPPYDESK_OIDC_CLIENT_ID = client_id
    settings.HAPPYDESK_OIDC_CLIENT_SECRET = secret
    settings.HAPPYDESK_OIDC_NAME = "Acme SSO"
    oidc._client_for.cache_clear()  # discovery is cached per client; each test fetches it afresh


@pytest.fixture
def op(provider, settings, db):  # type: ignore[no-untyped-def]
    """The provider, with Happydesk configured to use it."""
    provider.reset()
    _configure(settings, provider, provider.client_id, provider.client_secret)
    yield provider
    provider.reset()


def start(client: Client, next_url: str | None = None) -> str:
    """GET /login/oidc/ and return the provider's authorization URL it redirects to."""
    resp = client.get("/login/oidc/", {"next": next_url} if next_url is not None else {})
    assert resp.status_code == 302, resp.content
    return resp["Location"]


def callback(client: Client, url: str):  # type: ignore[no-untyped-def]
    """Follow the provider's redirect back to Happydesk (the browser's step)."""
    parts = urlsplit(url)
    assert parts.path == CALLBACK_PATH, url
    return client.get(parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()})


def sign_in(client: Client, op: OidcProvider, sub: str, next_url: str | None = None):  # type: ignore[no-untyped-def]
    return callback(client, op.authorize(start(client, next_url), sub))


def signed_in_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def state_key(authorize_url: str) -> str:
    from happydesk.accounts.oidc import CLIENT_NAME

    state = parse_qs(urlsplit(authorize_url).query)["state"][0]
    return f"_state_{CLIENT_NAME}_{state}"


def tamper_state(client: Client, authorize_url: str, **changes: str) -> None:
    """Change what the session remembers about this flow (what authlib checks the callback against)."""
    session = client.session
    key = state_key(authorize_url)
    entry = session[key]
    entry["data"].update(changes)
    session[key] = entry
    session.save()


def jwt_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def assert_refused(resp, status: int, text: str, client: Client) -> None:  # type: ignore[no-untyped-def]
    assert resp.status_code == status, resp.content
    assert text in resp.content.decode()
    assert signed_in_id(client) is None
    follow = client.get("/inbox/")
    assert follow.status_code == 302 and follow["Location"].startswith("/login/")


def test_verified_email_links_the_agent_then_the_subject_signs_in(op, agent, client, caplog):  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    op.set_user("alex-at-op", email="alex@acme.test", email_verified=True, name="Alex")
    authorize_url = start(client)
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    assert query["redirect_uri"] == ["http://127.0.0.1:8000" + CALLBACK_PATH]
    verifier = client.session[state_key(authorize_url)]["data"]["code_verifier"]
    key_before = client.session.session_key

    resp = callback(client, op.authorize(authorize_url, "alex-at-op"))

    assert resp.status_code == 302 and resp["Location"] == "/inbox/"
    assert signed_in_id(client) == str(agent.pk)
    assert client.session.session_key != key_before  # the session key is cycled at sign-in
    assert state_key(authorize_url) not in client.session  # the flow's state is used up
    assert client.get("/inbox/").status_code == 200
    agent.refresh_from_db()
    assert (agent.oidc_issuer, agent.oidc_subject) == (op.issuer, "alex-at-op")

    # Later the provider changes the email: the subject still signs in the same agent.
    client.post("/logout/")
    assert signed_in_id(client) is None
    op.set_user("alex-at-op", email="alex.new@other.test", email_verified=True)
    resp = sign_in(client, op, "alex-at-op")
    assert resp.status_code == 302 and signed_in_id(client) == str(agent.pk)

    # Nothing secret reached the logs: no code, access/ID/refresh token, nor the PKCE verifier.
    assert len(op.issued) >= 6
    # (the provider's own logs come from its server threads; Happydesk runs in this thread)
    ours = [r for r in caplog.records if r.thread == threading.get_ident()]
    assert any(r.name.startswith("urllib3") for r in ours)  # the token exchange was seen at DEBUG
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in ours)
    for secret in [*op.issued, verifier]:
        assert secret not in logged


def test_unknown_provider_account_is_refused_and_no_agent_is_made(op, agent, client, django_user_model):  # type: ignore[no-untyped-def]
    op.set_user("engineer-1", email="engineer@acme.test", email_verified=True)
    before = django_user_model.objects.count()
    resp = sign_in(client, op, "engineer-1")
    assert_refused(resp, 403, "There is no Happydesk agent for this account", client)
    assert django_user_model.objects.count() == before


@pytest.mark.parametrize("claims", [{"email_verified": False}, {}, {"email_verified": "no"}])
def test_unverified_email_does_not_link(op, agent, client, claims):  # type: ignore[no-untyped-def]
    op.set_user("maybe-alex", email="alex@acme.test", **claims)
    resp = sign_in(client, op, "maybe-alex")
    assert_refused(resp, 403, "has not verified your email address", client)
    agent.refresh_from_db()
    assert agent.oidc_subject == ""


def test_agent_linked_to_another_provider_account_is_not_relinked(op, agent, client):  # type: ignore[no-untyped-def]
    agent.oidc_issuer, agent.oidc_subject = op.issuer, "alex-original"
    agent.save()
    op.set_user("alex-impostor", email="alex@acme.test", email_verified=True)
    resp = sign_in(client, op, "alex-impostor")
    assert_refused(resp, 403, "already linked to another account", client)
    agent.refresh_from_db()
    assert agent.oidc_subject == "alex-original"


def test_deactivated_agent_is_refused(op, agent, client):  # type: ignore[no-untyped-def]
    op.set_user("alex-at-op", email="alex@acme.test", email_verified=True)
    agent.is_active = False
    agent.save()
    # not linked yet: refused, and not linked either
    assert_refused(sign_in(client, op, "alex-at-op"), 403, "deactivated", client)
    agent.refresh_from_db()
    assert agent.oidc_subject == ""
    # linked earlier, deactivated since
    agent.oidc_issuer, agent.oidc_subject = op.issuer, "alex-at-op"
    agent.save()
    assert_refused(sign_in(client, op, "alex-at-op"), 403, "deactivated", client)


def test_id_token_for_another_client_is_refused(op, agent, client, settings):  # type: ignore[no-untyped-def]
    """The provider issues the code and tokens to another registered client (its ID token's aud)."""
    other = op.register_client(settings.BASE_URL + CALLBACK_PATH)
    op.issue_for_client = other
    op.set_user("alex-at-op", email="alex@acme.test", email_verified=True)
    resp = sign_in(client, op, "alex-at-op")
    assert_refused(resp, 400, "could not be verified", client)
    id_tokens = [t for t in op.issued if t.count(".") == 2]
    assert id_tokens and jwt_claims(id_tokens[-1])["aud"] in (other[0], [other[0]])  # really for the other
    agent.refresh_from_db()
    assert agent.oidc_subject == ""


def test_nonce_other_than_the_sessions_is_refused(op, agent, client):  # type: ignore[no-untyped-def]
    op.set_user("alex-at-op", email="alex@acme.test", email_verified=True)
    authorize_url = start(client)
    tamper_state(client, authorize_url, nonce="not-the-nonce-sent")
    resp = callback(client, op.authorize(authorize_url, "alex-at-op"))
    assert_refused(resp, 400, "could not be verified", client)
    assert op.pkce_failures == 0  # the provider issued the token; our nonce check refused it


def test_pkce_verifier_mismatch_is_refused_by_the_provider(op, agent, client):  # type: ignore[no-untyped-def]
    op.set_user("alex-at-op", email="alex@acme.test", email_verified=True)
    authorize_url = start(client)
    tamper_state(client, authorize_url, code_verifier="x" * 64)
    failures = op.pkce_failures
    resp = callback(client, op.authorize(authorize_url, "alex-at-op"))
    assert_refused(resp, 400, "could not be verified", client)
    assert op.pkce_failures == failures + 1


def test_injected_code_from_another_flow_is_refused(op, agent, client):  # type: ignore[no-untyped-def]
    """An attacker signs in at the provider as themselves and plants their code in the victim's browser
    together with the victim's own state: the victim's verifier and nonce do not fit that code."""
    op.set_user("mallory", email="alex@acme.test", email_verified=True)
    attacker = Client()
    attacker_return = op.authorize(start(attacker), "mallory")
    victim_authorize = start(client)
    code = parse_qs(urlsplit(attacker_return).query)["code"][0]
    victim_state = parse_qs(urlsplit(victim_authorize).query)["state"][0]
    resp = client.get(CALLBACK_PATH, {"code": code, "state": victim_state})
    assert_refused(resp, 400, "could not be verified", client)
    agent.refresh_from_db()
    assert agent.oidc_subject == ""


def test_missing_forged_or_replayed_state_is_refused(op, agent, client):  # type: ignore[no-untyped-def]
    op.set_user("alex-at-op", email="alex@acme.test", email_verified=True)
    returned = op.authorize(start(client), "alex-at-op")
    code = parse_qs(urlsplit(returned).query)["code"][0]
    assert_refused(client.get(CALLBACK_PATH, {"code": code}), 400, "not started here", client)
    assert_refused(
        client.get(CALLBACK_PATH, {"code": code, "state": "forged"}), 400, "not started here", client
    )
    # the same callback in another browser (session) that never started this flow
    assert_refused(callback(other := Client(), returned), 400, "not started here", other)
    # a callback that worked once does not work again
    assert callback(client, returned).status_code == 302
    client.post("/logout/")
    assert_refused(callback(client, returned), 400, "not started here", client)


def test_provider_error_is_shown_and_nobody_signed_in(op, agent, client):  # type: ignore[no-untyped-def]
    returned = op.authorize(start(client), None, deny=True)
    assert "error=access_denied" in returned
    assert_refused(callback(client, returned), 400, "did not sign you in (access_denied)", client)
    resp = client.get(CALLBACK_PATH, {"error": "<b>call 555</b>", "state": "x"})
    assert_refused(resp, 400, "(unknown_error)", client)
    assert "555" not in resp.content.decode()


def test_wrong_issuer_in_the_id_token_is_refused(op, agent, client):  # type: ignore[no-untyped-def]
    op.token_host = f"localhost:{op.port}"  # the provider signs ID tokens naming http://localhost:<port>
    op.set_user("alex-at-op", email="alex@acme.test", email_verified=True)
    assert_refused(sign_in(client, op, "alex-at-op"), 400, "could not be verified", client)
    id_tokens = [t for t in op.issued if t.count(".") == 2]
    assert jwt_claims(id_tokens[-1])["iss"] == f"http://localhost:{op.port}"


def test_discovery_naming_another_issuer_is_refused(op, client):  # type: ignore[no-untyped-def]
    op.discovery_host = "evil.test"
    resp = client.get("/login/oidc/")
    assert resp.status_code == 502 and "does not match" in resp.content.decode()


def test_provider_that_cannot_be_reached_gets_a_clear_page(op, client, settings):  # type: ignore[no-untyped-def]
    from happydesk.accounts import oidc
    from tests.helpers import free_port

    settings.HAPPYDESK_OIDC_ISSUER = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    oidc._client_for.cache_clear()
    resp = client.get("/login/oidc/")
    assert resp.status_code == 503 and "cannot be reached" in resp.content.decode()


def test_expired_id_token_is_refused(settings, agent, client):  # type: ignore[no-untyped-def]
    expired = OidcProvider(token_max_age=-timedelta(minutes=10)).start()
    try:
        client_id, secret = expired.register_client(settings.BASE_URL + CALLBACK_PATH)
        _configure(settings, expired, client_id, secret)
        expired.set_user("alex-at-op", email="alex@acme.test", email_verified=True)
        assert_refused(sign_in(client, expired, "alex-at-op"), 400, "could not be verified", client)
    finally:
        expired.stop()


@pytest.mark.parametrize(
    ("next_url", "lands_on"),
    [
        ("https://evil.test/phish", "/inbox/"),
        ("//evil.test/phish", "/inbox/"),
        ("/\\evil.test", "/inbox/"),
        ("javascript:alert(1)", "/inbox/"),
        ("inbox/", "/inbox/"),
        ("/inbox/?status=closed", "/inbox/?status=closed"),
    ],
)
def test_next_is_followed_only_to_a_local_path(op, agent, client, next_url, lands_on):  # type: ignore[no-untyped-def]
    op.set_user("alex-at-op", email="alex@acme.test", email_verified=True)
    resp = sign_in(client, op, "alex-at-op", next_url=next_url)
    assert resp.status_code == 302 and resp["Location"] == lands_on


def test_login_page_button_only_when_configured(op, client, settings):  # type: ignore[no-untyped-def]
    page = client.get("/login/", {"next": "/inbox/?status=closed"}).content.decode()
    assert "Sign in with Acme SSO" in page
    assert 'href="/login/oidc/?next=/inbox/%3Fstatus%3Dclosed"' in page  # a link: form-action holds redirects

    settings.HAPPYDESK_OIDC_ISSUER = ""
    assert "Sign in with" not in client.get("/login/").content.decode()
    assert client.get("/login/oidc/").status_code == 404
    assert client.get(CALLBACK_PATH, {"code": "x", "state": "y"}).status_code == 404


@pytest.mark.django_db
def test_a_plain_http_provider_off_loopback_is_never_asked(client, settings):  # type: ignore[no-untyped-def]
    """Tokens and the client secret never travel in clear text: an http issuer that is not loopback is
    refused before any request is made to it."""
    from happydesk.accounts import oidc

    settings.HAPPYDESK_OIDC_ISSUER = "http://sso.example.test"
    settings.HAPPYDESK_OIDC_CLIENT_ID = "happydesk"
    oidc._client_for.cache_clear()
    for path in ("/login/oidc/", "/login/oidc/callback/?state=x&code=y"):
        resp = client.get(path)
        assert resp.status_code == 503 and "must use https" in resp.content.decode(), path
    assert not client.session.get("_auth_user_id")
