"""Two-factor sign-in for agents over HTTP, with codes computed here by a few lines of RFC 6238 (hmac and
SHA-1 from the standard library), independent of the app's own OTP code: set up an app from the page,
sign in with its code, recovery codes, turning it off, an admin requiring it for everyone; and what an
attacker holding only the password gets (nothing)."""

from __future__ import annotations

import base64
import html
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from happydesk.accounts.services import agent_create
from tests.helpers import totp

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def test_the_independent_totp_matches_rfc_6238():
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp(secret, at=59, digits=8) == "94287082"
    assert totp(secret, at=1111111109, digits=8) == "07081804"


@pytest.fixture(autouse=True)
def fast_hashing(settings):  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def alex(db):  # type: ignore[no-untyped-def]
    return agent_create(email="alex@acme.test", name="Alex Agent", password=PASSWORD, admin=True)


def password_step(email: str = "alex@acme.test", password: str = PASSWORD) -> tuple[Client, str]:
    client = Client()
    r = client.post("/login/", {"username": email, "password": password})
    assert r.status_code == 302
    return client, r["Location"]


def is_signed_in(client: Client) -> bool:
    return client.get("/inbox/").status_code == 200


def secret_from(page: str) -> str:
    """The key from the otpauth:// link on the setup page (what scanning its QR code gives an app)."""
    uri = html.unescape(re.search(r'id="otpauth-uri" href="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    query = parse_qs(parts.query)
    assert query["issuer"] == ["Happydesk"] and query["digits"] == ["6"] and query["period"] == ["30"]
    return query["secret"][0]


def set_up(client: Client) -> tuple[str, list[str]]:
    """Set up an authenticator app from the account page: (its secret, the recovery codes shown)."""
    page = client.get("/account/two-factor/setup/?new=1")
    assert page.status_code == 200
    qr = client.get("/account/two-factor/qr.svg")
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content
    secret = secret_from(page.content.decode())
    shown = client.post("/account/two-factor/setup/", {"code": totp(secret)})
    assert shown.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", shown.content.decode())
    assert len(codes) == 10
    return secret, codes


def next_code(secret: str) -> str:
    """The app's next code (the current one was just used: each code works once)."""
    return totp(secret, at=time.time() + 30)


def test_set_up_then_sign_in_with_a_code_computed_independently(alex):
    client, _ = password_step()
    secret, _ = set_up(client)
    assert "<strong>On.</strong>" in client.get("/account/two-factor/").content.decode()

    # The password alone no longer signs in: it leads to the code step, and no page opens meanwhile.
    browser, location = password_step()
    assert location == "/login/code/"
    assert not is_signed_in(browser)
    r = browser.post("/login/code/", {"code": next_code(secret)})
    assert r.status_code == 302 and r["Location"] == "/inbox/"
    assert is_signed_in(browser)


def test_a_code_works_once(alex):
    client, _ = password_step()
    secret, _ = set_up(client)
    first, _ = password_step()
    code = next_code(secret)
    assert first.post("/login/code/", {"code": code}).status_code == 302
    replay, _ = password_step()
    r = replay.post("/login/code/", {"code": code})
    assert r.status_code == 400 and "didn't match" in html.unescape(r.content.decode())
    assert not is_signed_in(replay)


def test_with_the_password_but_not_the_phone_an_attacker_gets_nowhere(alex, settings):
    client, _ = password_step()
    set_up(client)
    attacker, _ = password_step()
    codes = [attacker.post("/login/code/", {"code": f"{n:06d}"}) for n in range(5)]
    assert [r.status_code for r in codes[:4]] == [400] * 4
    assert codes[4].status_code == 302 and codes[4]["Location"] == "/login/"  # sign in again
    assert attacker.post("/login/code/", {"code": "123456"})["Location"] == "/login/"
    assert not is_signed_in(attacker)


def test_wrong_codes_count_toward_the_lockout(alex, settings):
    settings.AXES_FAILURE_LIMIT = 6
    client, _ = password_step()
    secret, _ = set_up(client)
    attacker, _ = password_step()
    for n in range(5):
        attacker.post("/login/code/", {"code": f"{n:06d}"})
    attacker, _ = password_step()  # the password is right: no failure counted for it
    r = attacker.post("/login/code/", {"code": "000009"})
    assert r.status_code == 429 and "sign-in is paused" in r.content.decode()
    # Now even the password and the right code are refused.
    r = Client().post("/login/", {"username": "alex@acme.test", "password": PASSWORD})
    assert r.status_code == 429


def test_a_recovery_code_signs_in_once_and_new_ones_replace_old_ones(alex):
    client, _ = password_step()
    secret, codes = set_up(client)
    browser, _ = password_step()
    r = browser.post("/login/code/", {"code": codes[0].upper()})
    assert r.status_code == 302
    assert "9 left" in browser.get("/inbox/").content.decode()  # the notice on the first page
    assert "9 recovery codes left" in browser.get("/account/two-factor/").content.decode()
    again, _ = password_step()
    assert again.post("/login/code/", {"code": codes[0]}).status_code == 400

    # New codes (after a current code from the app): the old ones stop working.
    fresh = browser.post("/account/two-factor/recovery/", {"code": next_code(secret)})
    new_codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", fresh.content.decode())
    assert len(new_codes) == 10 and not set(new_codes) & set(codes)
    old, _ = password_step()
    time.sleep(1.1)  # the device waits a second after the wrong code above
    assert old.post("/login/code/", {"code": codes[1]}).status_code == 400
    time.sleep(1.1 * 2)
    assert old.post("/login/code/", {"code": new_codes[0]}).status_code == 302


def test_turning_it_off_needs_a_code(alex):
    client, _ = password_step()
    secret, _ = set_up(client)
    r = client.post("/account/two-factor/off/", {"code": "000000"}, follow=True)
    assert "didn't match" in html.unescape(r.content.decode())
    time.sleep(1.1)
    client.post("/account/two-factor/off/", {"code": next_code(secret)})
    assert "<strong>Off.</strong>" in client.get("/account/two-factor/").content.decode()
    browser, location = password_step()
    assert location == "/inbox/" and is_signed_in(browser)


def test_an_admin_requires_it_for_everyone(alex):
    sam = agent_create(email="sam@acme.test", name="Sam", password=PASSWORD)
    sams_browser, _ = password_step("sam@acme.test")
    assert is_signed_in(sams_browser)
    admin, _ = password_step()

    # An admin without a second factor cannot require one (they would lock themselves out).
    r = admin.post("/admin/agents/two-factor/", {"required": "1"}, follow=True)
    assert "for yourself first" in r.content.decode()
    set_up(admin)
    r = admin.post("/admin/agents/two-factor/", {"required": "1"}, follow=True)
    assert "Every agent must sign in with a second factor" in r.content.decode()
    assert is_signed_in(admin)

    # Sam, who has none, is signed out, and the next sign-in sets one up before anything opens.
    assert not is_signed_in(sams_browser)
    browser, location = password_step("sam@acme.test")
    assert location == "/login/two-factor/"
    page = browser.get(location).content.decode()
    assert "Your team requires a second factor" in page and not is_signed_in(browser)
    assert browser.get("/login/two-factor/qr.svg")["Content-Type"] == "image/svg+xml"
    secret = secret_from(page)
    shown = browser.post("/login/two-factor/", {"code": totp(secret)})
    assert shown.status_code == 200 and len(re.findall(r"<li><code>", shown.content.decode())) == 10
    assert is_signed_in(browser)
    # It stays on while required.
    browser.post("/account/two-factor/off/", {"code": next_code(secret)})
    assert "cannot be turned off" in browser.get("/account/two-factor/").content.decode()

    # A lost phone: the admin resets Sam's second factor; Sam's next sign-in sets up a new one.
    assert "Two-factor sign-in: <strong>on</strong>" in admin.get(f"/admin/agents/{sam.pk}/").content.decode()
    admin.post(f"/admin/agents/{sam.pk}/two-factor-reset/")
    assert password_step("sam@acme.test")[1] == "/login/two-factor/"


def test_a_stranger_gets_no_qr_code_and_no_code_step(alex):
    stranger = Client()
    assert stranger.get("/login/two-factor/qr.svg").status_code == 404
    assert stranger.get("/login/code/")["Location"] == "/login/"
    assert stranger.get("/login/two-factor/")["Location"] == "/login/"
    assert stranger.get("/account/two-factor/")["Location"].startswith("/login/")


def test_moving_to_a_new_app_needs_a_code_from_the_old_one(alex):
    """A stolen session alone cannot swap in the thief's authenticator."""
    client, _ = password_step()
    old_secret, _ = set_up(client)
    page = client.get("/account/two-factor/setup/?new=1").content.decode()
    new_secret = secret_from(page)
    assert new_secret != old_secret and "Code from your current app" in page
    r = client.post("/account/two-factor/setup/", {"current": "000000", "code": totp(new_secret)})
    assert r.status_code == 400 and "current app didn't match" in html.unescape(r.content.decode())
    time.sleep(1.1)
    r = client.post(
        "/account/two-factor/setup/", {"current": next_code(old_secret), "code": totp(new_secret)}
    )
    assert r.status_code == 200 and len(re.findall(r"<li><code>", r.content.decode())) == 10
    # The new app signs in; the old one no longer does.
    browser, _ = password_step()
    assert browser.post("/login/code/", {"code": next_code(new_secret)}).status_code == 302
    stale, _ = password_step()
    assert stale.post("/login/code/", {"code": totp(old_secret, at=time.time() + 60)}).status_code == 400
