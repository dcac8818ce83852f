"""Sign-in throttling as an attacker meets it, over HTTP: guessing one agent's password, spraying many
accounts from one address, hiding behind a forged X-Forwarded-For; and the way back (the lockout ends,
or an admin unlocks the account)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.test import Client

from happydesk.accounts.services import agent_create
from happydesk.accounts.signin import SignInEvent, signin_event

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
PAUSED = "sign-in is paused"


@pytest.fixture(autouse=True)
def fast_hashing(settings):  # type: ignore[no-untyped-def]
    """Hundreds of password checks per test: a fast hasher (Django's own), the same flow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def alex(db):  # type: ignore[no-untyped-def]
    return agent_create(email="alex@acme.test", name="Alex Agent", password=PASSWORD, admin=True)


@pytest.fixture
def events():  # type: ignore[no-untyped-def]
    """What a subscriber of accounts.signin's event (an audit log, later) hears."""
    heard: list[tuple[str, str, str]] = []

    def receiver(sender, kind, email, client_ip, **kwargs):  # type: ignore[no-untyped-def]
        heard.append((kind, email, client_ip))

    signin_event.connect(receiver)
    yield heard
    signin_event.disconnect(receiver)


def attempt(email: str, password: str, *, ip: str = "203.0.113.7", client: Client | None = None, **extra):  # type: ignore[no-untyped-def]
    client = client or Client()
    return client.post("/login/", {"username": email, "password": password}, REMOTE_ADDR=ip, **extra)


def signed_in(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code == 302 and response["Location"] == "/inbox/"


def test_after_30_wrong_passwords_the_right_one_is_refused_until_an_admin_unlocks(alex, events):
    for i in range(29):
        r = attempt("alex@acme.test", f"guess-{i}")
        assert r.status_code == 200 and "Those details didn't match" in r.content.decode()
    # The 30th failure locks the account, and says so.
    r = attempt("alex@acme.test", "guess-29")
    assert r.status_code == 429 and PAUSED in r.content.decode()
    # The right password is refused now, from this address and from any other.
    for ip in ("203.0.113.7", "198.51.100.20"):
        r = attempt("alex@acme.test", PASSWORD, ip=ip)
        assert r.status_code == 429 and PAUSED in r.content.decode() and not signed_in(r)
    # Typed another way, it is still the same account.
    assert attempt("  ALEX@Acme.Test ", PASSWORD, ip="198.51.100.21").status_code == 429

    # An admin (another one, signed in before) sees it and unlocks the account.
    ada = agent_create(email="ada@acme.test", name="Ada Admin", password=PASSWORD, admin=True)
    admin = Client()
    admin.force_login(ada)
    assert "sign-in locked" in admin.get("/admin/agents/").content.decode()
    page = admin.get(f"/admin/agents/{alex.pk}/").content.decode()
    assert "Locked out" in page and "30 failed sign-ins" in page
    assert admin.post(f"/admin/agents/{alex.pk}/unlock/").status_code == 302
    assert "No recent failed sign-ins" in admin.get(f"/admin/agents/{alex.pk}/").content.decode()
    assert signed_in(attempt("alex@acme.test", PASSWORD))

    kinds = [kind for kind, _, _ in events]
    assert kinds.count(SignInEvent.FAILED) == 30
    assert kinds.count(SignInEvent.LOCKED_OUT) == 1 + 3  # locked at the 30th, then each refusal
    assert kinds[-2:] == [SignInEvent.UNLOCKED, SignInEvent.SIGNED_IN]
    assert ("failed", "alex@acme.test", "203.0.113.7") in events


def test_the_lockout_ends_by_itself(alex, settings):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=3)
    for i in range(30):
        attempt("alex@acme.test", f"guess-{i}")
    locked_at = time.monotonic()
    assert attempt("alex@acme.test", PASSWORD).status_code == 429
    time.sleep(max(0.0, locked_at + 3.5 - time.monotonic()))
    assert signed_in(attempt("alex@acme.test", PASSWORD))


def test_only_admins_unlock(alex):
    light = agent_create(email="lee@acme.test", name="Lee", password=PASSWORD, role="light")
    client = Client()
    client.force_login(light)
    assert client.post(f"/admin/agents/{alex.pk}/unlock/").status_code == 403
    assert Client().post(f"/admin/agents/{alex.pk}/unlock/").status_code == 302  # to sign-in
    assert client.get(f"/admin/agents/{alex.pk}/unlock/").status_code in (403, 405)


def test_one_address_spraying_many_accounts_is_locked_out(alex):
    """30 accounts, one wrong guess each, from one address: that address is locked, for every account
    (the right password of a real agent too); the accounts themselves are not, from elsewhere."""
    for i in range(30):
        attempt(f"user{i}@acme.test", "Summer2026!!")
    r = attempt("alex@acme.test", PASSWORD)
    assert r.status_code == 429 and PAUSED in r.content.decode()
    assert signed_in(attempt("alex@acme.test", PASSWORD, ip="198.51.100.30"))


def test_a_forged_forwarded_for_does_not_escape_the_address_lockout(alex):
    for i in range(30):
        attempt(f"user{i}@acme.test", "Summer2026!!", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
    assert attempt("alex@acme.test", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.200").status_code == 429


def test_behind_a_trusted_proxy_the_lockout_is_per_client(alex, settings):
    settings.HAPPYDESK_TRUSTED_PROXIES = ["10.0.0.1"]
    for i in range(30):
        attempt(f"user{i}@acme.test", "Summer2026!!", ip="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.66")
    attacker = attempt("alex@acme.test", PASSWORD, ip="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.66")
    assert attacker.status_code == 429
    # Another client of the same proxy signs in: only the attacker's address is locked.
    assert signed_in(attempt("alex@acme.test", PASSWORD, ip="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.7"))
