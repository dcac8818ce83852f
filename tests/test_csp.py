"""The Content-Security-Policy header, as a browser receives it: on every page an agent or a customer can
open (and every other response), with scripts only from our own files, and the one widening the
conversation page makes for its email frames. tests/e2e/test_csp.py shows the browser obeying it."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from happydesk.feedback.models import RatingRequest
from happydesk.feedback.services import rating_token
from happydesk.inbox.models import Conversation
from happydesk.inbox.services import reply_create
from tests.helpers import deliver, password_sign_in

pytestmark = pytest.mark.django_db


def policy_of(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """The enforced policy's directives, each with its sources."""
    header = response.headers.get("Content-Security-Policy")
    assert header, f"{response.request['PATH_INFO']}: no Content-Security-Policy header"
    assert "Content-Security-Policy-Report-Only" not in response.headers
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *sources = part.split()
        assert name not in directives, f"{name} twice in {header}"
        directives[name] = sources
    return directives


def assert_strict(response, *, email_frames: bool = False, remote_images: bool = False) -> None:  # type: ignore[no-untyped-def]
    """The site's policy: scripts only from our own origin, nothing inline, no eval, no plugins, no
    <base>, no framing by anyone, forms only to us, images from us and data:, connections to us and our
    websocket origin. `email_frames`: the conversation page's additions for its sandboxed email frames."""
    p = policy_of(response)
    path = response.request["PATH_INFO"]
    assert p["default-src"] == ["'self'"], path
    assert p["script-src"] == ["'self'", "'report-sample'"], path
    assert not any(k in p for k in ("script-src-elem", "script-src-attr", "worker-src")), path
    assert p["object-src"] == ["'none'"], path
    assert p["base-uri"] == ["'none'"], path
    assert p["frame-ancestors"] == ["'none'"], path
    assert p["form-action"] == ["'self'"], path
    assert p["connect-src"] == ["'self'", "ws://127.0.0.1:8000"], path  # the base URL's websockets
    assert p["img-src"] == ["'self'", "data:"] + (["http:", "https:"] if remote_images else []), path
    assert p["style-src"] == ["'self'", "'report-sample'"] + (["'unsafe-inline'"] if email_frames else []), (
        path
    )
    assert p["style-src-attr"] == ["'unsafe-inline'"], path
    assert p["report-uri"] == ["/csp-report/"], path
    assert set(p) == {
        "default-src",
        "script-src",
        "object-src",
        "base-uri",
        "frame-ancestors",
        "form-action",
        "connect-src",
        "img-src",
        "style-src",
        "style-src-attr",
        "report-uri",
    }, path


def plain_routes() -> list[str]:
    """Every route of the site that takes no argument, as a path."""
    found: list[str] = []

    def walk(patterns, prefix: str) -> None:  # type: ignore[no-untyped-def]
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern) and "<" not in route and not re.search(r"[\^$\\(]", route):
                found.append("/" + route)

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


@pytest.fixture
def conversation(mailbox):  # type: ignore[no-untyped-def]
    mailbox.auto_reply_enabled = False
    mailbox.form_enabled = True
    mailbox.save()
    deliver(subject="Order late", verified=True)
    return Conversation.objects.get()


def test_every_page_without_arguments_sends_the_policy_to_agents_and_strangers(agent, conversation):
    routes = plain_routes()
    assert {"/inbox/", "/login/", "/help/", "/community/", "/status/", "/portal/", "/widget.js"} <= set(
        routes
    )
    stranger = Client()
    team = Client()
    assert password_sign_in(team, "alex@acme.test", "correct-horse-battery")
    for client in (stranger, team):
        for path in routes:
            assert_strict(client.get(path))


def test_agent_pages_send_the_policy(agent, conversation):
    client = Client()
    assert password_sign_in(client, "alex@acme.test", "correct-horse-battery")
    for path in ("/inbox/", "/inbox/?q=order", "/replies/", "/kb/", "/ratings/", "/reports/", "/reviews/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_strict(response)
    inbox_rows = client.get("/inbox/", headers={"HX-Request": "true"})  # htmx's fragment
    assert_strict(inbox_rows)


def test_the_conversation_page_widens_only_what_its_email_frames_need(agent, conversation):
    client = Client()
    assert password_sign_in(client, "alex@acme.test", "correct-horse-battery")
    message = conversation.messages.get()
    page = client.get(f"/c/{conversation.number}/")
    assert page.status_code == 200
    assert_strict(page, email_frames=True)  # inline styles for the frames; images still only ours
    shown = client.get(f"/c/{conversation.number}/", {"images": message.pk})  # "Load remote images"
    assert_strict(shown, email_frames=True, remote_images=True)


def test_another_conversations_message_id_does_not_widen_the_page_policy(agent, conversation):
    """?images= names a message; one that is not in this conversation (the agent's or anyone's) loads
    nothing here, so the page keeps its strict image policy."""
    client = Client()
    assert password_sign_in(client, "alex@acme.test", "correct-horse-battery")
    deliver(subject="Another order", verified=True)
    other = Conversation.objects.exclude(pk=conversation.pk).get().messages.first()
    assert other is not None
    for images in (other.pk, 999_999):
        page = client.get(f"/c/{conversation.number}/", {"images": images})
        assert page.status_code == 200
        assert_strict(page, email_frames=True)


def test_each_email_frame_narrows_the_page_policy_again(agent, mailbox):
    """The frame runs no script (sandbox without allow-scripts, default-src 'none') and loads images only
    from its own conversation's attachments, until its remote images are asked for."""
    from html import unescape

    deliver(subject="Invoice", verified=True)
    conversation = Conversation.objects.get()
    message = conversation.messages.get(kind="customer")
    message.html = '<p style="color: green">Total: $49</p>'
    message.save(update_fields=["html"])
    client = Client()
    assert password_sign_in(client, "alex@acme.test", "correct-horse-battery")

    def frame(query: dict) -> tuple[str, str]:  # type: ignore[type-arg]
        page = client.get(f"/c/{conversation.number}/", query).content.decode()
        tag = re.search(r"<iframe [^>]*>", page).group(0)  # type: ignore[union-attr]
        srcdoc = unescape(re.search(r'srcdoc="([^"]*)"', tag).group(1))  # type: ignore[union-attr]
        meta = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', srcdoc)
        return tag, unescape(meta.group(1))  # type: ignore[union-attr]

    tag, policy = frame({})
    assert 'sandbox="allow-same-origin"' in tag and "allow-scripts" not in tag
    attachments = f"http://testserver/c/{conversation.number}/attachments/"
    assert policy == f"default-src 'none'; img-src data: {attachments}; style-src 'unsafe-inline'"
    _, policy = frame({"images": message.pk})
    assert (
        policy == f"default-src 'none'; img-src data: {attachments} http: https:; style-src 'unsafe-inline'"
    )


def test_public_pages_send_the_policy(agent, conversation):
    stranger = Client()
    mailbox = conversation.mailbox
    reply_create(conversation=conversation, author=agent, text="It ships today.", status="closed")
    token = rating_token(RatingRequest.objects.get())
    for path in (
        "/login/",
        "/help/",
        "/help/search/?q=order",
        "/community/",
        "/community/ideas/",
        "/status/",
        f"/contact/{mailbox.pk}/",
        "/portal/",
        f"/rate/{token}/great/",
    ):
        response = stranger.get(path)
        assert response.status_code == 200, path
        assert_strict(response)
        assert b"<script>" not in response.content, path  # nothing inline to allow
    rated = stranger.post(f"/rate/{token}/great/", follow=True)  # the thanks page
    assert rated.status_code == 200
    assert_strict(rated)


def test_widget_endpoints_and_static_files_carry_it_too(conversation):
    """Harmless on JSON and scripts (a policy governs documents); there so nothing is ever served without."""
    stranger = Client()
    mailbox = conversation.mailbox
    for path in (
        "/widget.js",
        f"/widget/{mailbox.pk}/config.json",
        "/search/suggest.json?q=order",
        "/static/happydesk/app.css",
        "/static/happydesk/rate.js",
    ):
        response = stranger.get(path)
        assert response.status_code == 200, path
        assert_strict(response)
    assert stranger.get("/widget.js")["Access-Control-Allow-Origin"] == "*"  # the widget's CORS is kept


EMAIL_TEMPLATE = re.compile(r"/templates/(?:reports/mail|community/email)/")  # mail bodies, not pages


def test_no_template_or_script_of_ours_has_inline_code():
    """What the policy refuses must not be in our own pages: no inline <script>, on*= handler,
    javascript: URL, eval / new Function, or htmx attribute that evaluates code."""
    from pathlib import Path

    import happydesk

    root = Path(happydesk.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".html", ".js", ".py") or "vendor" in path.parts or "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".html" and not EMAIL_TEMPLATE.search(path.as_posix()):
            checks = {
                "inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
                "on* handler": re.compile(r"""<[a-z][^>]*\son[a-z]+\s*=\s*["']""", re.I),
                "javascript: URL": re.compile(r"javascript:", re.I),
                "htmx code": re.compile(
                    r"\b(?:data-)?hx-(?:on\b|on:|vars\b)|\bjs:|hx-trigger=\"[^\"]*\[", re.I
                ),
                "inline <style>": re.compile(r"<style\b", re.I),
            }
        elif path.suffix == ".js":
            checks = {
                "eval": re.compile(r"\beval\s*\(|new\s+Function\s*\(|set(?:Timeout|Interval)\s*\(\s*[\"']")
            }
        else:
            continue
        for what, pattern in checks.items():
            if pattern.search(text):
                offenders.append(f"{path.relative_to(root)}: {what}")
    assert offenders == []


def test_loaded_remote_images_never_include_our_own_pages(agent, mailbox):
    """Once an agent loads a message's remote images, an image on our own host (an absolute URL the
    sanitizer keeps) would be fetched with the agent's cookie: it is left out of the frame; images on
    other servers, and the notice that the message has some, stay."""
    from html import unescape

    deliver(subject="Newsletter", verified=True)
    conversation = Conversation.objects.get()
    message = conversation.messages.get(kind="customer")
    message.html = (
        '<p>Hi</p><img src="http://testserver/admin/agents/"><img src="https://TESTSERVER:8443/inbox/">'
        '<img src="https://pixel.example.test/open.png">'
    )
    message.save(update_fields=["html"])
    client = Client()
    assert password_sign_in(client, "alex@acme.test", "correct-horse-battery")
    page = client.get(f"/c/{conversation.number}/").content.decode()
    assert "Load remote images" in page
    page = client.get(f"/c/{conversation.number}/", {"images": message.pk}).content.decode()
    srcdoc = unescape(re.search(r'srcdoc="([^"]*)"', page).group(1))  # type: ignore[union-attr]
    assert "pixel.example.test/open.png" in srcdoc
    assert "testserver/admin/agents" not in srcdoc and "TESTSERVER:8443" not in srcdoc


REPORT = {
    "csp-report": {
        "document-uri": "http://127.0.0.1:8000/inbox/",
        "effective-directive": "script-src-elem",
        "blocked-uri": "inline",
        "script-sample": "alert(1)\r\nForged: log line",
        "line-number": 12,
    }
}


def test_a_browsers_violation_report_is_logged_on_one_line(caplog):
    with caplog.at_level("WARNING", logger="happydesk.csp"):
        r = Client(enforce_csrf_checks=True).post(
            "/csp-report/", json.dumps(REPORT), content_type="application/csp-report"
        )
    assert r.status_code == 204
    (line,) = [rec.getMessage() for rec in caplog.records if rec.name == "happydesk.csp"]
    assert (
        "effective-directive='script-src-elem'" in line
        and "document-uri='http://127.0.0.1:8000/inbox/'" in line
    )
    assert "\n" not in line and "\r" not in line  # a stranger's report cannot forge a log line


@pytest.mark.parametrize(
    ("body", "status"),
    [("not json", 400), ("[1, 2]", 400), (json.dumps({"other": 1}), 400), ("x" * 20_000, 413)],
)
def test_what_is_not_a_report_is_refused_and_nothing_logged(caplog, body, status):
    with caplog.at_level("WARNING", logger="happydesk.csp"):
        assert (
            Client().post("/csp-report/", body, content_type="application/csp-report").status_code == status
        )
    assert not [rec for rec in caplog.records if rec.name == "happydesk.csp"]
    assert Client().get("/csp-report/").status_code == 405


def test_a_flood_of_reports_from_one_client_is_cut_off(caplog):
    client = Client(REMOTE_ADDR="203.0.113.9")
    codes = [
        client.post("/csp-report/", json.dumps(REPORT), content_type="application/csp-report").status_code
        for _ in range(70)
    ]
    assert codes.count(204) == 60 and codes[-1] == 429
    assert (
        Client(REMOTE_ADDR="203.0.113.10")
        .post("/csp-report/", json.dumps(REPORT), content_type="application/csp-report")
        .status_code
        == 204
    )


def test_a_refused_form_gets_our_own_page_under_the_policy():
    r = Client(enforce_csrf_checks=True).post("/portal/", {"email": "x@example.test"})
    assert r.status_code == 403 and "Please try again" in r.content.decode()
    assert "<style" not in r.content.decode()
    assert_strict(r)
