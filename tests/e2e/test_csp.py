"""In the browser, with the site's Content-Security-Policy: what an attacker injects into one of our pages
does not run, and the suite notices (every browser test fails on a violation, tests/e2e/conftest.py);
a formatted email still shows its styles and inline images inside its frame, whose own policy narrows
the page's; signing in through the company's OpenID Connect provider still works under `form-action`."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest

from happydesk.inbox.models import Conversation
from tests.helpers import deliver_raw, once_per_suite, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
CANARY = "HAPPYDESK_CSP_CANARY"


def png(width: int = 2, height: int = 3) -> bytes:
    """A valid PNG of that size (one colour), made here so the browser can decode it."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x2f\x6f\xde" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def reported(watch, expected: list[str], page, timeout: float = 5.0) -> str:  # type: ignore[no-untyped-def]
    """What the browser reported, once every expected piece is in it (reports arrive as events)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not all(e in "\n".join(watch.violations) for e in expected):
        page.wait_for_timeout(50)
    return "\n".join(watch.take())


@pytest.mark.urls("tests.e2e.csp_urls")
def test_an_injected_script_handler_and_javascript_link_do_not_run_and_are_reported(
    page, live_server, csp_violations
):
    response = page.goto(f"{live_server.url}/test-only/injected/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.locator("#js-link").click()

    expected = [
        "script-src-elem blocked 'inline'",  # the <script> and the javascript: link
        "script-src-attr blocked 'inline'",  # the onerror handler
        'document.getElementById("script")',  # 'report-sample': each report quotes what it blocked
        "document.getElementById('handler')",
        "javascript:document.title",
    ]
    text = reported(csp_violations, expected, page)
    assert page.locator("#script").inner_text() == "inline script did not run"
    assert page.locator("#handler").inner_text() == "inline handler did not run"
    assert page.title() == "Injected"
    for piece in expected:
        assert piece in text, text
    assert csp_violations.failure() is None  # taken: this test itself ends clean


@pytest.mark.skipif(not os.environ.get(CANARY), reason="run only by the test below, in its own pytest")
@pytest.mark.urls("tests.e2e.csp_urls")
def test_canary_a_page_with_an_injected_script(page, live_server):
    """Passes on its own terms; the violation on the page must make it fail anyway."""
    page.goto(f"{live_server.url}/test-only/injected/")
    assert page.locator("#script").inner_text() == "inline script did not run"


@once_per_suite
def test_a_browser_test_that_meets_a_violation_fails():
    """The canary above, run by pytest as any browser test is: its assertions hold, and it still fails,
    naming the violation."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update({CANARY: "1", "HAPPYDESK_DATA_DIR": tempfile.mkdtemp(prefix="hd-csp-canary-")})
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-n",
            "0",
            "-p",
            "no:cacheprovider",
            "-m",
            "e2e",
            f"{Path(__file__).relative_to(ROOT)}::test_canary_a_page_with_an_injected_script",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "1 passed" in out and "1 error" in out, out  # the test body passed; its teardown failed it
    assert "Content-Security-Policy violations in the browser" in out, out
    assert "script-src-elem blocked 'inline'" in out, out


def test_a_formatted_email_keeps_its_styles_and_inline_images(page, live_server, mailbox, agent):
    """The frame inherits the page's policy and adds its own: both must let the email look right."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "casey@example.test", "support@acme.test", "Styled invoice"
    msg["Message-ID"] = make_msgid(domain="example.test")
    msg.set_content("Your invoice is ready.")
    cid = make_msgid(domain="example.test")
    msg.add_alternative(
        f"""<html><body><p style="color: rgb(0, 128, 0); font-weight: 700">Total: $49</p>
        <img src="cid:{cid[1:-1]}" alt="logo" width="20" height="20">
        <img src="{live_server.url}/help/?tracked=1" alt="elsewhere on this site"></body></html>""",
        subtype="html",
    )
    msg.get_payload()[1].add_related(png(), "image", "png", cid=cid, filename="logo.png")
    deliver_raw(msg.as_bytes(), envelope_to=["support@acme.test"])
    number = Conversation.objects.get(subject="Styled invoice").number

    sign_in(page, live_server.url, "alex@acme.test", "correct-horse-battery")
    served: list[str] = []  # what the browser got an answer for (a blocked load is never sent)
    page.on("requestfinished", lambda request: served.append(request.url))
    response = page.goto(f"{live_server.url}/c/{number}/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-eval" not in policy
    page.get_by_text("Show formatted").click()
    frame = page.frame_locator("iframe[title='Formatted message']")
    total = frame.get_by_text("Total: $49")  # (the sanitizer keeps no ids)
    total.wait_for()
    # The style attribute, and the frame's own <style> in its head (font size), both apply.
    assert total.evaluate("e => getComputedStyle(e).color") == "rgb(0, 128, 0)"
    assert total.evaluate("e => getComputedStyle(e).fontWeight") == "700"
    assert total.evaluate("e => getComputedStyle(e.ownerDocument.body).fontSize") == "14px"
    # The inline (cid:) image, served from this site's attachment URL, loaded.
    logo = frame.get_by_role("img", name="logo")
    assert "/attachments/" in (logo.get_attribute("src") or "")
    page.wait_for_function(
        "() => { const f = document.querySelector(\"iframe[title='Formatted message']\");"
        " const i = f && f.contentDocument && f.contentDocument.querySelector('img');"
        " return !i || i.complete; }"
    )
    assert logo.evaluate("i => [i.naturalWidth, i.naturalHeight]") == [2, 3]
    # Images from this site outside the conversation's attachments stay blocked (the frame's own policy):
    # an email cannot make the agent's browser call other pages of ours with the agent's cookie.
    page.wait_for_load_state("networkidle")
    assert not [url for url in served if "tracked=1" in url], served


def test_an_agent_signs_in_with_the_company_provider_under_form_action(page, live_server, settings, mailbox):
    """`form-action 'self'` also holds for where a form's answer redirects to: the sign-in button must lead
    to the provider (another origin) without being a form."""
    from happydesk.accounts import oidc
    from happydesk.accounts.services import agent_create
    from tests.oidc_provider import OidcProvider

    provider = OidcProvider().start()
    try:
        settings.BASE_URL = live_server.url  # the redirect URI the provider knows
        client_id, secret = provider.register_client(live_server.url + "/login/oidc/callback/")
        settings.HAPPYDESK_OIDC_ISSUER = provider.issuer
        settings.HAPPYDESK_OIDC_CLIENT_ID, settings.HAPPYDESK_OIDC_CLIENT_SECRET = client_id, secret
        settings.HAPPYDESK_OIDC_NAME = "Acme SSO"
        oidc._client_for.cache_clear()
        provider.set_user("alex-at-op", email="alex@acme.test", email_verified=True)
        agent_create(email="alex@acme.test", name="Alex Agent")

        page.goto(f"{live_server.url}/login/?next=/inbox/%3Fstatus%3Dclosed")
        page.get_by_role("link", name="Sign in with Acme SSO").click()
        page.wait_for_url(f"{provider.issuer}/oauth2/authorize*")
        page.get_by_placeholder("sub").fill("alex-at-op")
        page.get_by_role("button", name="Authorize").click()
        page.wait_for_url(f"{live_server.url}/inbox/?status=closed")
        assert page.get_by_text("Alex Agent").first.is_visible()
    finally:
        oidc._client_for.cache_clear()
        provider.stop()
