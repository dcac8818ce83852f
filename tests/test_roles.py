"""The one role check (`accounts.decorators.role_required`), tried over HTTP by each role the way a
curious colleague would: every page that refuses a role refuses it the same way."""

from __future__ import annotations

import pytest
from django.test import Client

from happydesk.accounts.models import User
from happydesk.accounts.services import agent_create
from tests.helpers import customer_conversation

pytestmark = pytest.mark.django_db


def _client(role: str) -> Client:
    user = agent_create(email=f"{role}@acme.test", name=f"{role.title()} Person", role=role)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def clients(agent) -> dict[str, Client]:  # type: ignore[no-untyped-def]
    admin = Client()
    admin.force_login(agent)
    return {"admin": admin, "agent": _client(User.Role.AGENT), "light": _client(User.Role.LIGHT)}


def test_anonymous_visitors_go_to_sign_in_everywhere():
    for url in (
        "/admin/status/",
        "/admin/status/settings/",
        "/admin/status/security/",
        "/reviews/samples/1/",
    ):
        r = Client().get(url)
        assert r.status_code == 302 and r["Location"].startswith("/login/"), url


def test_status_page_light_agents_read_but_cannot_change(clients):
    assert clients["light"].get("/admin/status/").status_code == 200
    r = clients["light"].post("/admin/status/components/new/", {"name": "API"})
    assert r.status_code == 403 and b"Light agents cannot change the status page." in r.content
    assert clients["agent"].post("/admin/status/components/new/", {"name": "API"}).status_code != 403


def test_incident_settings_everyone_reads_only_admins_change(clients):
    for role in ("agent", "light"):
        assert clients[role].get("/admin/status/settings/").status_code == 200
        r = clients[role].post("/admin/status/settings/", {"on_call": "me@acme.test"})
        assert r.status_code == 403 and b"Only admins change who is told" in r.content
    assert clients["admin"].post("/admin/status/settings/", {}).status_code != 403


def test_security_desk_does_not_exist_for_light_agents(clients, mailbox):
    convo = customer_conversation(mailbox, address="x@example.test", name="X", subject="Hi", text="Hi")
    light, agent = clients["light"], clients["agent"]
    assert light.get("/admin/status/security/").status_code == 404
    assert light.post("/admin/status/security/flag/", {"number": convo.number}).status_code == 404
    assert light.post(f"/admin/status/security/{convo.number}/clear/").status_code == 404
    assert agent.get("/admin/status/security/").status_code == 200
    r = agent.post(f"/admin/status/security/{convo.number}/clear/")
    assert r.status_code == 403 and b"Only admins clear a security flag." in r.content


def test_quality_reviews_are_for_admins(clients):
    for role in ("agent", "light"):
        r = clients[role].get("/reviews/samples/1/")
        assert r.status_code == 403 and b"Reviewers (admins) only" in r.content
        assert clients[role].post("/reviews/samples/", {}).status_code == 403
    assert (
        clients["admin"].get("/reviews/samples/999/").status_code == 404
    )  # let through, then no such sample
