"""In the browser: an agent sets up an authenticator app from the page (the key read off the page, the
codes computed by tests.helpers.totp, as a phone would), then signs in with password and code."""

from __future__ import annotations

import time

import pytest

from happydesk.accounts.services import agent_create
from tests.helpers import SHOTS, sign_in, totp

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_set_up_two_factor_and_sign_in_with_a_code(page, live_server):
    agent_create(email="sam@acme.test", name="Sam Smith", password="another-password")
    sign_in(page, live_server.url, "sam@acme.test", "another-password")
    page.get_by_role("link", name="Sam Smith").click()  # the top bar's name: the agent's account
    page.get_by_role("link", name="Set up an authenticator app").click()
    qr = page.get_by_role("img", name="QR code for your authenticator app")
    qr.wait_for()
    page.wait_for_function("img => img.complete", arg=qr.element_handle())  # it loads after the page
    assert qr.evaluate("img => img.naturalWidth > 0")
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code").fill(totp(secret))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    assert page.locator(".recovery-codes li").count() == 10
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "two_factor_recovery_codes.png"))
    page.get_by_role("button", name="Sign out").click()

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill("sam@acme.test")
    page.get_by_label("Password").fill("another-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/login/code/")
    page.screenshot(path=str(SHOTS / "two_factor_code_step.png"))
    page.get_by_label("Code").fill(totp(secret, at=time.time() + 30))  # the one used above works once
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/inbox/**")
