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


def test_view_names_are_unique_in_each_list_case_aside(agent, convs):
    sam = agent_create(email="sam@acme.test", name="Sam", password="long-password")
    c = Client()
    c.force_login(agent)
    c.post("/inbox/views/", {"name": "Refunds", "tag": "refund", "shared": "1"})
    r = c.post("/inbox/views/", {"name": "  refunds ", "tag": "refund"}, follow=True)  # own, same as team's
    assert "already a view called" in r.content.decode()
    c.post("/inbox/views/", {"name": "Mine", "tag": "refund"})
    other = Client()
    other.force_login(sam)
    other.post("/inbox/views/", {"name": "Mine", "feeling": "frustrated"})  # Sam's own list: fine
    assert sorted(SavedView.objects.values_list("name", "owner__email")) == [
        ("Mine", "alex@acme.test"),
        ("Mine", "sam@acme.test"),
        ("Refunds", None),
    ]


def test_rename_and_delete_a_view_and_the_outsider_tries(agent, convs):
    light = agent_create(email="lee@acme.test", name="Lee", password="long-password")
    light.role = light.Role.LIGHT
    light.save()
    sam = agent_create(email="sam@acme.test", name="Sam", password="long-password")
    c = Client()
    c.force_login(agent)
    c.post("/inbox/views/", {"name": "Refunds", "tag": "refund", "shared": "1"})
    c.post("/inbox/views/", {"name": "Mine", "tag": "refund"})
    team, mine = SavedView.objects.get(name="Refunds"), SavedView.objects.get(name="Mine")
    assert 'id="view-change"' in c.get("/inbox/", {"view": team.pk}).content.decode()

    sams, lees = Client(), Client()
    sams.force_login(sam)
    lees.force_login(light)
    assert sams.post(f"/inbox/views/{mine.pk}/", {"action": "delete"}).status_code == 404  # not theirs to see
    assert lees.post(f"/inbox/views/{team.pk}/", {"action": "delete"}).status_code == 403
    assert 'id="view-change"' not in lees.get("/inbox/", {"view": team.pk}).content.decode()
    assert SavedView.objects.count() == 2

    c.post(f"/inbox/views/{team.pk}/", {"action": "rename", "name": "Mine"})  # taken in Alex's list
    assert SavedView.objects.get(pk=team.pk).name == "Refunds"
    sams.post(f"/inbox/views/{team.pk}/", {"action": "rename", "name": "Refund requests"})  # a full agent
    assert SavedView.objects.get(pk=team.pk).name == "Refund requests"
    c.post(f"/inbox/views/{mine.pk}/", {"action": "delete"})
    assert list(SavedView.objects.values_list("name", flat=True)) == ["Refund requests"]
