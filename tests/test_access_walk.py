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
from happydesk.replies.services import saved_reply_save

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
    assert client.get("/portal/login/other-token/").status_code == 302
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
    assert Conversation.objects.filter(token=victim["c"].token).exists()
