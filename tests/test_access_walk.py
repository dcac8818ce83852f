"""Walk every page, portal route and API route as an unauthenticated visitor and as another customer
signed in to the portal: none of them may return the victim's conversation, messages or attachments."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from happydesk.accounts.models import PortalLoginToken
from happydesk.accounts.portal import portal_token_redeem
from happydesk.customers.services import customer_for_address
from happydesk.inbox.models import Conversation
from happydesk.inbox.services import NewAttachment, conversation_open, message_receive, note_add
from happydesk.mail import outbound
from happydesk.replies.services import saved_reply_save
from tests.helpers import customer_conversation

pytestmark = pytest.mark.django_db
SECRET = "victim-secret-7f3a"


def all_patterns(resolvers=None, prefix=""):  # type: ignore[no-untyped-def]
    for entry in resolvers if resolvers is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            yield from all_patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


@pytest.fixture
def victim(mailbox, agent):
    customer = customer_for_address(address="victim@example.test", name="Victim Person")
    c = conversation_open(mailbox=mailbox, customer=customer, subject=f"Subject {SECRET}")
    m = message_receive(
        conversation=c,
        customer=customer,
        from_name="Victim Person",
        from_address="victim@example.test",
        subject="s",
        text=f"Body {SECRET}",
        attachments=[NewAttachment("secret.txt", "text/plain", SECRET.encode())],
    )
    note_add(conversation=c, author=agent, text=f"Note {SECRET}")
    reply = saved_reply_save(name="r", body="hello")
    return {"c": c, "attachment": m.attachments.get(), "reply": reply}


def fill(pattern: str, v) -> str:  # type: ignore[no-untyped-def]
    values = {
        "number": v["c"].number,
        "token": v["c"].token,
        "attachment_id": v["attachment"].pk,
        "reply_id": v["reply"].pk,
        "message_id": v["attachment"].message_id,
        "line_id": v["attachment"].message_id,  # undoing a merge: an event line of the conversation
        "raw_id": 1,
        "mailbox_id": v["c"].mailbox_id,
        "name": "x",
        "value": "great",
        # knowledge base: /help/ pages and the /kb/ editor (no article exists: 404 or sign-in)
        "collection_slug": "x",
        "category_slug": "x",
        "article_id": 1,
        "slug": "x",
        "version_id": 1,
        # status page: /status/incidents/<id>/ and the /admin/status/ pages (no such rows: 404 or sign-in)
        "incident_id": 1,
        "component_id": 1,
        "warning_id": 1,  # status: early warnings (admin pages need sign-in)
        # staffing schedule and quality review pages (no such rows: 404 or sign-in)
        "shift_id": 1,
        "sample_id": 1,
        "agent_id": 1,
        # community: topics, posts, announcements, bans (no such rows: 404 or sign-in; see tests/community)
        "topic_id": 1,
        "post_id": 1,
        "announcement_id": 1,
        "customer_id": 1,
        # reports: CSV tables, share links (a bad link is 404; creating and revoking need sign-in)
        "table": "goals",
        "share_token": "not-a-share",
        "share_id": 1,
        "token_id": 1,  # API tokens: revoking one (admins any, an agent their own)
        "view_id": 1,  # saved inbox views: renaming or deleting one (sign-in needed)
    }
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), pattern)
    return "/" + path.replace("^", "").replace("$", "")


def other_customer_client(mailbox) -> Client:  # type: ignore[no-untyped-def]
    import hashlib

    from django.utils import timezone

    other = customer_for_address(address="other@example.test", name="Other Customer")
    conversation_open(mailbox=mailbox, customer=other, subject="Other's own")
    PortalLoginToken.objects.create(
        customer=other,
        digest=hashlib.sha256(b"other-token").hexdigest(),
        expires_at=timezone.now() + timezone.timedelta(minutes=5),
    )
    client = Client()
    assert client.post("/portal/login/other-token/").status_code == 302  # GET only shows a button
    return client


def test_every_route_keeps_the_victims_conversation_private(victim, mailbox):
    visitors = {"anonymous": Client(), "other customer": other_customer_client(mailbox)}
    checked = 0
    for pattern in all_patterns():
        if pattern.startswith("api/v1/"):
            continue  # the API is walked below from its OpenAPI schema
        path = fill(pattern, victim)
        uses_token = "<str:token>" in pattern and "portal/c/" in pattern
        for who, client in visitors.items():
            for method in ("get", "post"):
                r = getattr(client, method)(path)
                raw = b"".join(r.streaming_content) if r.streaming else r.content
                body = raw.decode(errors="replace")
                if uses_token:
                    # The conversation's own secret link is the customer's key; notes never show there.
                    assert f"Note {SECRET}" not in body, (who, method, path)
                    continue
                assert SECRET not in body, (who, method, path, r.status_code)
                checked += 1
    assert checked > 40


def test_every_api_route_needs_a_token(victim):
    schema_client = Client()
    from happydesk.accounts.services import agent_create, token_create

    reader = agent_create(email="reader@acme.test", name="Reader", password="long-password")
    schema = (
        Client(HTTP_AUTHORIZATION=f"Bearer {token_create(user=reader)}").get("/api/v1/openapi.json").json()
    )
    for raw_path, methods in schema["paths"].items():
        path = raw_path.replace("{number}", str(victim["c"].number)).replace("{incident_id}", "1")
        for method in methods:
            r = getattr(schema_client, method)(path, content_type="application/json")
            assert r.status_code == 401, (method, path, r.status_code)
            assert SECRET not in r.content.decode(errors="replace")


def test_wrong_token_in_a_portal_link_is_404(victim):
    assert Client().get("/portal/c/" + "x" * 22 + "/").status_code == 404
    assert portal_token_redeem(token="nope") is None
    assert Conversation.objects.filter(Conversation.with_token(victim["c"].token)).exists()


# -- A light agent against a security report -------------------------------------------------------
# Light agents never see security reports, anywhere (docs/security.md). The light agent walks every
# route (GET and POST), every CSV export, the ratings feed, the report, idea pages, search, the API with
# their own token, the websocket, and every email produced meanwhile: none may show the report's subject,
# its number as "#N", its customer's address or its text. The same walk as a full agent does show it,
# so the walk cannot pass by seeing nothing.

REPORT = "quokka-zebra-7731"
REPORT_SUBJECT = f"Stored XSS in the invoice export {REPORT}"
REPORT_TEXT = f"The invoice export runs my script: <script>steal({REPORT})</script>"
REPORT_ADDRESS = "riley.reporter@researcher.test"
ORDINARY = "plain-pelican-5120"


def leaks(text: str, number: int) -> list[str]:
    """What of the security report this text gives away."""
    found = [s for s in (REPORT, REPORT_ADDRESS, "Stored XSS in the invoice export") if s in text]
    found += [s for s in (REPORT, REPORT_ADDRESS) if s not in found and s.lower() in text.lower()]
    if re.search(rf"(?<![&\w])#{number}(?!\w)", text):
        found.append(f"#{number}")
    if re.search(rf"/c/{number}/|conversations/{number}/|\"number\": {number}\b", text):
        found.append(f"link to {number}")
    return found


def body_of(response) -> str:  # type: ignore[no-untyped-def]
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode(errors="replace")


@pytest.fixture
def light_agent(db):  # type: ignore[no-untyped-def]
    from happydesk.accounts.services import agent_create

    return agent_create(email="lee@acme.test", name="Lee Light", password="long-password-1", role="light")


@pytest.fixture
def full_agent(db):  # type: ignore[no-untyped-def]
    from happydesk.accounts.services import agent_create

    return agent_create(email="sam@acme.test", name="Sam Full", password="long-password-2", role="agent")


def _rated(conversation, agent, comment: str):  # type: ignore[no-untyped-def]
    from happydesk.feedback.models import RatingRequest
    from happydesk.feedback.services import rating_record
    from happydesk.inbox.services import reply_create

    reply_create(conversation=conversation, author=agent, text="Fixed, thank you.", status="closed")
    rating_record(
        request=RatingRequest.objects.get(conversation=conversation), value="great", comment=comment
    )


@pytest.fixture
def security_report(mailbox, agent):  # type: ignore[no-untyped-def]
    """A security report with everything a page could show of it (attachment, note, rating comment, a
    tag, a link to an idea, a search index entry), next to an ordinary conversation that has the same."""
    from datetime import timedelta
    from types import SimpleNamespace

    from django.utils import timezone

    from happydesk.community.models import Topic
    from happydesk.community.services import conversation_link, topic_create
    from happydesk.inbox.security import security_flag_set
    from happydesk.inbox.services import conversation_tag
    from happydesk.reports.rollup import rollup_range

    ordinary = customer_conversation(
        mailbox,
        address="olive@example.test",
        name="Olive Ordinary",
        subject=f"Invoice question {ORDINARY}",
        text=f"Where is my invoice? {ORDINARY}",
    )
    reporter = customer_for_address(address=REPORT_ADDRESS, name="Riley Reporter")
    c = conversation_open(mailbox=mailbox, customer=reporter, subject=REPORT_SUBJECT)
    m = message_receive(
        conversation=c,
        customer=reporter,
        from_name="Riley Reporter",
        from_address=REPORT_ADDRESS,
        subject=REPORT_SUBJECT,
        text=REPORT_TEXT,
        attachments=[NewAttachment("poc.txt", "text/plain", f"proof {REPORT}".encode())],
    )
    flag = security_flag_set(conversation=c, reason="mentions XSS")
    assert flag.active
    note_add(conversation=c, author=agent, text=f"Reproduced {REPORT}")
    idea = topic_create(
        kind=Topic.Kind.IDEA, title="Export invoices as PDF", body="Please add a PDF export.", author=agent
    )
    for conversation, secret in ((c, REPORT), (ordinary, ORDINARY)):
        conversation_tag(conversation=conversation, names=["exports"])
        conversation_link(topic=idea, conversation=conversation, agent=agent)
        _rated(conversation, agent, f"Quick fix, thanks ({secret})")
    today = timezone.localdate()
    rollup_range(mailbox=mailbox, first=today - timedelta(days=8), last=today + timedelta(days=1))
    c.refresh_from_db()
    return SimpleNamespace(
        c=c,
        number=c.number,
        attachment=m.attachments.get(),
        message=m,
        idea=idea,
        ordinary=ordinary,
        admin=agent,
    )


def _walk_values(r) -> dict:  # type: ignore[no-untyped-def]
    reply = saved_reply_save(name="r", body="hello")
    return {"c": r.c, "attachment": r.attachment, "reply": reply}


def agent_paths(r) -> list[tuple[str, list[str]]]:  # type: ignore[no-untyped-def]
    """Every route of the site filled in with the security report's number, attachment and message,
    plus the idea page (its real slug), every CSV table with filters, and the search box."""
    from happydesk.reports.report import TABLE_KEYS

    v = _walk_values(r)
    paths = []
    for pattern in all_patterns():
        if pattern.startswith("api/v1/") or pattern == "logout/":
            continue  # the API is walked from its schema; signing out would end the walk
        path = fill(pattern, v)
        if "<int:topic_id>" in pattern:
            path = path.replace("/1-", f"/{r.idea.pk}-").replace("/1/", f"/{r.idea.pk}/")
            path = path.replace("-x/", f"-{r.idea.slug}/")
        paths.append((path, ["get", "post"]))
    n = r.number
    words = ["quokka", REPORT, "invoice export", "Stored XSS", "xss", REPORT_ADDRESS, f"#{n}", str(n)]
    for q in words:
        paths.append((f"/inbox/?q={q}&status=all", ["get"]))
        paths.append((f"/inbox/?q={q}&status=closed", ["get"]))
    paths += [
        (f"/c/{n}/", ["get"]),
        (f"/c/{r.number}/attachments/{r.attachment.pk}/", ["get"]),
        ("/ratings/?days=365&comments=1", ["get"]),
        ("/ratings/?value=great&days=7", ["get"]),
        (r.idea.get_absolute_url(), ["get"]),
        ("/reports/", ["get"]),
        ("/reports/?period=7", ["get"]),
        ("/reports/?view=agents", ["get"]),
        ("/reports/?tag=exports", ["get"]),
    ]
    for table in TABLE_KEYS:
        for query in ("", "?tag=exports", "?period=7", f"?mailbox={r.c.mailbox_id}", "?channel=email"):
            paths.append((f"/reports/export/{table}.csv{query}", ["get"]))
    return paths


def without_query(body: str, path: str) -> str:
    """The page without the words the searcher typed (the search box shows them back)."""
    from html import escape
    from urllib.parse import parse_qs, urlsplit

    for q in parse_qs(urlsplit(path).query).get("q", []):
        body = body.replace(escape(q), "").replace(q, "")
    return body


def walk(client: Client, paths, *, methods=("get", "post")) -> dict[str, str]:  # type: ignore[no-untyped-def]
    seen = {}
    for path, allowed in paths:
        for method in allowed:
            if method not in methods:
                continue
            response = client.get(path, follow=True) if method == "get" else client.post(path)
            seen[f"{method.upper()} {path}"] = without_query(body_of(response), path)
    return seen


def api_walk(token: str, r) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Every API route with the agent's own token, the report's number filled in, and list searches."""
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    schema = api.get("/api/v1/openapi.json").json()
    seen = {}
    for raw_path, methods in schema["paths"].items():
        path = raw_path.replace("{number}", str(r.number)).replace("{incident_id}", "1")
        for method in methods:
            response = getattr(api, method)(path, content_type="application/json")
            seen[f"{method.upper()} {path}"] = body_of(response)
    for q in (REPORT, "xss", f"#{r.number}", REPORT_ADDRESS):
        seen[f"GET ?q={q}"] = body_of(api.get("/api/v1/conversations", {"q": q, "status": "closed"}))
    return seen


def mail_since(outbound_before: int, outbox_before: int) -> list[str]:
    from django.core import mail

    from happydesk.mail.models import OutboundMail

    texts = [
        f"{o.to} {o.subject}\n{o.body_text}\n{o.body_html}"
        for o in OutboundMail.objects.filter(pk__gt=outbound_before).order_by("pk")
    ]
    for m in mail.outbox[outbox_before:]:
        alternatives = " ".join(str(a[0]) for a in getattr(m, "alternatives", []))
        texts.append(f"{m.to} {m.subject}\n{m.body}\n{alternatives}")
    return texts


def test_a_light_agent_never_sees_the_security_report_anywhere(
    security_report, light_agent, full_agent, django_capture_on_commit_callbacks
):
    from django.core import mail
    from django.db.models import Max

    from happydesk.accounts.services import token_create
    from happydesk.mail.models import OutboundMail
    from happydesk.reports.digest import conversation_of_the_day_send, digest_send
    from happydesk.reports.services import report_settings_save

    r = security_report
    n = r.number
    paths = agent_paths(r)

    # The full agent's walk first (GET only: posting every form as a full agent would change the
    # report), to show what there is to see.
    full = Client()
    full.force_login(full_agent)
    full_seen = walk(full, paths, methods=("get",))
    shows = {key for key, body in full_seen.items() if leaks(body, n)}
    for expected in (
        f"GET /c/{n}/",
        f"GET /c/{n}/attachments/{r.attachment.pk}/",
        "GET /ratings/?days=365&comments=1",
        "GET /reports/",
        "GET /reports/export/comments.csv",
        f"GET {r.idea.get_absolute_url()}",
        f"GET /inbox/?q={REPORT}&status=all",
        "GET /inbox/?q=xss&status=closed",
    ):
        assert expected in shows, expected
    full_api = api_walk(token_create(user=full_agent), r)
    assert leaks(full_api[f"GET /api/v1/conversations/{n}"], n)
    assert leaks(full_api[f"GET ?q={REPORT}"], n)

    # Now the light agent: every route, both methods, and whatever mail goes out meanwhile.
    outbound_before = OutboundMail.objects.aggregate(m=Max("pk"))["m"] or 0
    outbox_before = len(mail.outbox)
    light = Client()
    light.force_login(light_agent)
    with django_capture_on_commit_callbacks(execute=True):
        seen = walk(light, paths)
        # A share link the light agent makes shows no more than they see.
        light.post("/reports/shares/", {"query": "period=30", "name": "mine"})
        from happydesk.reports.models import ReportShare
        from happydesk.reports.services import share_link_token

        share = ReportShare.objects.latest("pk")
        token = share_link_token(share)
        for table in ("", "export/comments.csv"):
            seen[f"GET shared {table}"] = body_of(Client().get(f"/reports/shared/{token}/{table}"))
        seen.update(api_walk(token_create(user=light_agent), r))
        # Mail the light agent could be sent: a note naming them on the report, the digest and the
        # conversation of the day with them on the list.
        note_add(conversation=r.c, author=full_agent, text=f"@lee have a look at {REPORT}")
        report_settings_save(recipients=[light_agent.email])
        from datetime import timedelta

        from django.utils import timezone

        assert digest_send(today=timezone.localdate() + timedelta(days=7), force=True) is not None
        assert conversation_of_the_day_send(today=timezone.localdate(), force=True) is not None
    assert len(seen) > 150
    leaked = {key: leaks(body, n) for key, body in seen.items() if leaks(body, n)}
    assert leaked == {}
    sent = mail_since(outbound_before, outbox_before)
    assert len(sent) >= 2  # the digest and the conversation of the day went out, to the light agent
    assert [leaks(text, n) for text in sent if leaks(text, n)] == []
    # ... and the light agent does see the ordinary conversation in the same places.
    assert ORDINARY in seen["GET /ratings/?days=365&comments=1"]
    assert ORDINARY in seen["GET /reports/export/comments.csv"]
    assert f"#{r.ordinary.number} Invoice question" in seen[f"GET {r.idea.get_absolute_url()}"]
    assert ORDINARY in body_of(light.get(f"/inbox/?q={ORDINARY}&status=all"))
    assert any(ORDINARY in text for text in sent)  # the conversation of the day is the ordinary one

    # The same kind of note naming the full agent does email them the report (the mention path works).
    outbound.send_due(limit=500)
    outbox_before = len(mail.outbox)
    note_add(conversation=r.c, author=r.admin, text=f"@sam @lee: {REPORT}")
    outbound.send_due()
    assert [m.to for m in mail.outbox[outbox_before:]] == [[full_agent.email]]
    assert REPORT in mail.outbox[-1].body


async def _frames(communicator, *, quiet: float = 0.4) -> list[dict]:  # type: ignore[no-untyped-def]
    """Every frame the socket receives until it has been quiet for `quiet` seconds."""
    frames = []
    while not await communicator.receive_nothing(timeout=quiet):
        frames.append(await communicator.receive_json_from(timeout=1))
    return frames


async def _socket(path: str, user):  # type: ignore[no-untyped-def]
    from channels.routing import URLRouter
    from channels.testing.websocket import WebsocketCommunicator

    from happydesk.routing import websocket_urlpatterns

    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), path)
    communicator.scope["user"] = user
    connected, code = await communicator.connect()
    return communicator, connected, code


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_presence_over_the_websocket_says_nothing_of_the_security_report(
    security_report, light_agent, full_agent, agent
):
    import json

    from asgiref.sync import sync_to_async

    from happydesk.inbox.security import security_flag_set

    r = security_report
    n = r.number
    # The light agent guesses the report's socket: refused, as the page is.
    _, connected, code = await _socket(f"/ws/conversations/{n}/", light_agent)
    assert not connected and code == 4404
    light_list, connected, _ = await _socket("/ws/inbox/", light_agent)
    full_list, _, _ = await _socket("/ws/inbox/", agent)
    light_on_ordinary, connected, _ = await _socket(f"/ws/conversations/{r.ordinary.number}/", light_agent)
    assert connected
    # A full agent works on the report and on the ordinary conversation.
    sam_report, connected, _ = await _socket(f"/ws/conversations/{n}/", full_agent)
    assert connected
    await sam_report.send_json_to({"state": "replying"})
    sam_ordinary, _, _ = await _socket(f"/ws/conversations/{r.ordinary.number}/", full_agent)
    light_later, _, _ = await _socket("/ws/inbox/", light_agent)  # a list opened later asks who is where
    heard = {"light list": await _frames(light_list), "light list later": await _frames(light_later)}
    full_heard = await _frames(full_list)
    assert any(f["number"] == n and f["state"] == "replying" for f in full_heard)  # full agents see it
    assert any(f["number"] == r.ordinary.number for f in heard["light list"])  # the light list works
    assert any(f["number"] == r.ordinary.number for f in heard["light list later"])
    assert any(f["name"] == "Sam Full" for f in await _frames(light_on_ordinary))  # before the flag
    # The ordinary conversation turns out to be a security report while the light agent is on it: from
    # then on the light agent hears nothing of it either.
    await sync_to_async(security_flag_set)(conversation=r.ordinary, reason="mentions exploit", actor=agent)
    await sam_ordinary.send_json_to({"state": "replying"})
    await sam_report.disconnect()
    # The full list hears it first: the same event is then in the light sockets' queues too, so their
    # silence below is the filter's doing, not a frame that has not arrived yet.
    assert any(f["number"] == r.ordinary.number for f in await _frames(full_list))
    heard["light list after"] = await _frames(light_list, quiet=1.0)
    heard["light on the newly flagged"] = await _frames(light_on_ordinary, quiet=1.0)
    for who, frames in heard.items():
        for frame in frames:
            assert not leaks(json.dumps(frame), n), (who, frame)
        if "after" in who or "flagged" in who:
            assert not any(f["number"] == r.ordinary.number for f in frames), (who, frames)
    for ws in (light_list, full_list, light_on_ordinary, sam_ordinary, light_later):
        await ws.disconnect()
