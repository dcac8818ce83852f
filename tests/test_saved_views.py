"""Saved inbox views: filters by tag, feeling and waiting time, personal or shared."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from happydesk.accounts.services import agent_create
from happydesk.inbox.models import Conversation, SavedView
from happydesk.inbox.services import conversation_tag
from happydesk.mail.inbound import process_pending
from happydesk.mail.store import store_raw
from tests.helpers import make_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def convs(mailbox):
    mailbox.auto_reply_enabled = False
    mailbox.save()
    for i, subject in enumerate(["Angry refund", "Calm question", "Old waiting"]):
        store_raw(
            make_email(sender=f"v{i}@example.test", subject=subject),
            source="smtp",
            envelope_to=["support@acme.test"],
        )
    process_pending()
    Conversation.objects.filter(subject="Angry refund").update(feeling="frustrated")
    conversation_tag(conversation=Conversation.objects.get(subject="Angry refund"), names=["refund"])
    Conversation.objects.filter(subject="Old waiting").update(
        waiting_since=timezone.now() - timedelta(hours=30)
    )
    return Conversation.objects.all()


def test_save_and_open_a_view(agent, convs):
    c = Client()
    c.force_login(agent)
    r = c.post(
        "/inbox/views/",
        {"name": "Upset about refunds", "status": "active", "tag": "refund", "feeling": "frustrated"},
    )
    view = SavedView.objects.get()
    assert r["Location"] == f"/inbox/?view={view.pk}" and view.owner == agent
    body = c.get(r["Location"]).content.decode()
    assert "Angry refund" in body and "Calm question" not in body
    body = c.get("/inbox/", {"status": "active", "waiting_over_minutes": "1440"}).content.decode()
    assert "Old waiting" in body and "Angry refund" not in body


def test_personal_views_are_private_shared_ones_are_not(agent, convs):
    sam = agent_create(email="sam@acme.test", name="Sam", password="long-password")
    mine = Client()
    mine.force_login(agent)
    mine.post("/inbox/views/", {"name": "Mine only", "tag": "refund"})
    mine.post("/inbox/views/", {"name": "For everyone", "feeling": "frustrated", "shared": "1"})
    theirs = Client()
    theirs.force_login(sam)
    body = theirs.get("/inbox/").content.decode()
    assert "For everyone" in body and "Mine only" not in body
    private = SavedView.objects.get(name="Mine only")
    assert (
        "Angry refund" not in theirs.get("/inbox/", {"view": private.pk, "status": "closed"}).content.decode()
    )
