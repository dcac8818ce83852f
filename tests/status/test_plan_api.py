"""The incident plan through the REST API: declare, review, send, update, resolve; light agents read only."""

from __future__ import annotations

import pytest
from django.test import Client

from happydesk.accounts.services import agent_create, token_create
from happydesk.status import rounds
from happydesk.status.models import IncidentLink, NoticeDelivery
from tests.helpers import deliver

pytestmark = pytest.mark.django_db
BASE = "/api/v1/status"


@pytest.fixture
def api(agent):
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_create(user=agent)}")


@pytest.fixture
def light_api(db):
    user = agent_create(email="lee@acme.test", name="Lee Light", password="long-password-1")
    user.role = user.Role.LIGHT
    user.save()
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_create(user=user)}")


@pytest.fixture
def affected(mailbox):
    mailbox.auto_reply_enabled = False
    mailbox.save()
    out = []
    for name in ("ana", "ben", "cy"):
        raw = deliver(sender=f"{name}@example.test", subject="Can't log in", body="Login fails.")
        out.append(raw.message.conversation)
    raw = deliver(sender="eve@example.test", subject="Invoice", body="Resend my invoice please.")
    return out, raw.message.conversation


def test_the_whole_plan_through_the_api(api, affected):
    conversations, other = affected
    r = api.post(
        f"{BASE}/incidents",
        {"title": "Sign-in fails", "body": "We're on it.", "impact": "major", "keywords": ["login"]},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    incident = r.json()
    assert [s["step"] for s in incident["steps"]] == [1, 2, 3, 4, 5, 6]
    assert incident["steps"][3]["outcome"] == "waiting" and incident["customers"] == 3
    assert {link["number"] for link in incident["links"]} == {c.number for c in conversations}
    path = f"{BASE}/incidents/{incident['id']}"

    r = api.delete(f"{path}/links/{conversations[2].number}")
    assert r.status_code == 200 and r.json()["customers"] == 2
    r = api.post(f"{path}/links", {"number": other.number}, content_type="application/json")
    assert r.status_code == 201 and r.json()["customers"] == 3
    assert IncidentLink.objects.get(conversation=other).how == "manual"

    r = api.post(f"{path}/send", {}, content_type="application/json")
    assert r.status_code == 202 and r.json()["rounds"][0]["waiting"] == 3
    assert api.post(f"{path}/send", {}, content_type="application/json").status_code == 422  # once
    rounds.notices_send_due(limit=10)
    r = api.get(path).json()
    assert r["rounds"][0] == {**r["rounds"][0], "kind": "first", "state": "done", "sent": 3}
    assert r["steps"][4]["outcome"] == "done"

    r = api.post(
        f"{path}/updates",
        {"state": "identified", "body": "Found it.", "reply_to_linked": True},
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["state"] == "identified"
    rounds.notices_send_due(limit=50)
    r = api.post(f"{path}/resolve", {"body": "Fixed."}, content_type="application/json")
    assert r.status_code == 200 and r.json()["state"] == "resolved"
    rounds.notices_send_due(limit=50)
    assert NoticeDelivery.objects.count() == 9  # 3 customers x (first, update, fixed)
    assert not NoticeDelivery.objects.filter(customer=conversations[2].customer).exists()
    assert api.get(f"{BASE}/incidents").json() == []
    assert api.get(f"{BASE}/incidents?open_only=false").json()[0]["has_plan"] is True


def test_validation_and_light_agents(api, light_api, affected):
    r = api.post(
        f"{BASE}/incidents", {"title": "x", "body": "y", "impact": "huge"}, content_type="application/json"
    )
    assert r.status_code == 422
    r = api.post(
        f"{BASE}/incidents",
        {"title": "x", "body": "y", "components": {"Nope": "degraded"}},
        content_type="application/json",
    )
    assert r.status_code == 422 and "Nope" in r.json()["detail"]
    r = light_api.post(f"{BASE}/incidents", {"title": "x", "body": "y"}, content_type="application/json")
    assert r.status_code == 403
    r = api.post(
        f"{BASE}/incidents",
        {"title": "Plain", "body": "y", "run_plan": False},
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["has_plan"] is False and r.json()["steps"] == []
    incident_id = r.json()["id"]
    assert light_api.get(f"{BASE}/incidents/{incident_id}").status_code == 200
    assert (
        light_api.post(
            f"{BASE}/incidents/{incident_id}/resolve", {}, content_type="application/json"
        ).status_code
        == 403
    )
    assert api.get(f"{BASE}/incidents/999").status_code == 404
    assert api.get(f"{BASE}/early-warnings").json() == []
