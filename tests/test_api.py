"""REST API v1 with token auth."""

from __future__ import annotations

import pytest
from django.test import Client

from happydesk.accounts.services import token_create
from happydesk.inbox.models import Conversation
from happydesk.mail.inbound import process_pending
from happydesk.mail.models import OutboundMail, RawMessage
from tests.helpers import make_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(agent):
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_create(user=agent)}")


@pytest.fixture
def mta(agent):
    """A mail server's token: the only kind /mail/raw takes (tests/test_tokens.py)."""
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_create(user=agent, kind='mta')}")


def test_requires_token(db):
    assert Client().get("/api/v1/mailboxes").status_code == 401
    assert Client(HTTP_AUTHORIZATION="Bearer nope").get("/api/v1/mailboxes").status_code == 401


def test_openapi_schema_lists_endpoints(api):
    schema = api.get("/api/v1/openapi.json").json()
    for path in [
        "/api/v1/mailboxes",
        "/api/v1/conversations",
        "/api/v1/conversations/{number}",
        "/api/v1/conversations/{number}/replies",
        "/api/v1/conversations/{number}/notes",
        "/api/v1/quarantine",
        "/api/v1/mail/raw",
    ]:
        assert path in schema["paths"], path


def test_raw_endpoint_stores_then_202_and_conversation_flow(api, mta, mailbox):
    body = make_email(
        subject="API raw",
        body="New text here.\n\nOn Mon, 1 Jan 2026 at 10:00, Acme <support@acme.test> wrote:\n> old text\n",
    )
    r = mta.post("/api/v1/mail/raw", data=body, content_type="message/rfc822")
    assert r.status_code == 202
    raw = RawMessage.objects.get(pk=r.json()["id"])
    assert raw.source == "http"
    process_pending()
    listing = api.get(
        "/api/v1/conversations", {"status": "active", "customer_email": "casey@example.test"}
    ).json()
    assert [c["subject"] for c in listing] == ["API raw"]
    number = listing[0]["number"]
    detail = api.get(f"/api/v1/conversations/{number}").json()
    first = detail["messages"][0]
    assert first["kind"] == "customer"
    assert first["text"].strip() == "New text here."
    assert "old text" in first["quoted"]
    assert first["author"]["email"] == "casey@example.test"
    r = api.post(
        f"/api/v1/conversations/{number}/replies",
        {"text": "Thanks!", "status": "closed"},
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["delivery"] == "queued"
    assert OutboundMail.objects.filter(message_id=r.json()["id"]).exists()
    assert Conversation.objects.get(pk=number).status == "closed"
    r = api.post(
        f"/api/v1/conversations/{number}/notes", {"text": "internal"}, content_type="application/json"
    )
    assert r.status_code == 201 and r.json()["kind"] == "note"


def test_filters(api, mta, mailbox):
    from happydesk.inbox.services import conversation_tag

    for subject in ("Refund please", "Login broken"):
        mta.post("/api/v1/mail/raw", data=make_email(subject=subject), content_type="message/rfc822")
    process_pending()
    conversation_tag(conversation=Conversation.objects.get(subject="Refund please"), names=["refund"])
    assert [c["subject"] for c in api.get("/api/v1/conversations", {"tag": "refund"}).json()] == [
        "Refund please"
    ]
    assert [c["subject"] for c in api.get("/api/v1/conversations", {"q": "login"}).json()] == ["Login broken"]
    assert len(api.get("/api/v1/conversations", {"mailbox": "support@acme.test"}).json()) == 2
    assert api.get("/api/v1/conversations/999999").status_code == 404


def test_quarantine_listing(api, mta, mailbox):
    mta.post("/api/v1/mail/raw", data=make_email(to="nobody@nowhere.test"), content_type="message/rfc822")
    process_pending()
    rows = api.get("/api/v1/quarantine").json()
    assert len(rows) == 1 and "no mailbox" in rows[0]["reason"]


def test_raw_endpoint_rejects_empty_and_oversize(api, mta, mailbox, settings):
    assert mta.post("/api/v1/mail/raw", data=b"", content_type="message/rfc822").status_code == 400
    settings.HAPPYDESK_MAX_MESSAGE_BYTES = 1000
    r = mta.post("/api/v1/mail/raw", data=make_email(body="x" * 5000), content_type="message/rfc822")
    assert r.status_code == 413
