"""Agents' roles and life cycle, from the admin screens and the CLI: light agents, role changes,
deactivation (sessions, sign-in and tokens stop), the last active admin, and @mentions that never email
a light agent about a security report."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.management import CommandError
from django.test import Client

from happydesk.accounts.models import User
from happydesk.accounts.services import AgentChangeRefused, agent_create, agent_deactivate, token_create
from happydesk.inbox.services import note_add
from tests.helpers import customer_conversation, password_sign_in
from tests.helpers import run_command as run

pytestmark = pytest.mark.django_db


def signed_in(email: str, password: str) -> Client:
    """A browser that signs in through the real login form."""
    client = Client()
    r = client.post("/login/", {"username": email, "password": password})
    assert r.status_code == 302, r.content[:500]
    return client


@pytest.fixture
def admin_client(agent):  # type: ignore[no-untyped-def]
    return signed_in("alex@acme.test", "correct-horse-battery")


def test_cli_adds_light_agents_and_keeps_admin_as_an_alias(db):
    assert "Light agent" in run("agent", "add", "lee@acme.test", "--name", "Lee Light", "--role", "light")
    assert User.objects.get(email="lee@acme.test").role == "light"
    run("agent", "add", "ada@acme.test", "--name", "Ada Admin", "--admin")
    ada = User.objects.get(email="ada@acme.test")
    assert ada.role == "admin" and ada.is_admin
    run("agent", "add", "sam@acme.test", "--name", "Sam")
    assert User.objects.get(email="sam@acme.test").role == "agent"
    with pytest.raises(CommandError):
        run("agent", "add", "x@acme.test", "--name", "X", "--admin", "--role", "light")
    with pytest.raises(CommandError):
        run("agent", "add", "x@acme.test", "--name", "X", "--role", "superhero")
    # Updating an existing agent without --role keeps their role.
    run("agent", "add", "lee@acme.test", "--name", "Lee L.")
    assert User.objects.get(email="lee@acme.test").role == "light"
    listing = run("agent", "list")
    assert "lee@acme.test\tLee L.\tlight\tactive" in listing
    assert "ada@acme.test\tAda Admin\tadmin\tactive" in listing


def test_cli_changes_roles_deactivates_and_reactivates(agent):
    run("agent", "add", "sam@acme.test", "--name", "Sam", "--password", "long-password-2")
    run("agent", "role", "sam@acme.test", "light")
    assert User.objects.get(email="sam@acme.test").role == "light"
    run("agent", "deactivate", "sam@acme.test")
    assert "sam@acme.test\tSam\tlight\tdeactivated" in run("agent", "list")
    assert password_sign_in(Client(), "sam@acme.test", "long-password-2") is False
    run("agent", "activate", "sam@acme.test")
    assert password_sign_in(Client(), "sam@acme.test", "long-password-2") is True
    with pytest.raises(CommandError, match="no agent"):
        run("agent", "deactivate", "nobody@acme.test")


def test_the_last_active_admin_cannot_be_deactivated_or_demoted(agent, admin_client):
    # By the CLI ...
    for args in (("deactivate", agent.email), ("role", agent.email, "agent"), ("role", agent.email, "light")):
        with pytest.raises(CommandError, match="last active admin"):
            run("agent", *args)
    with pytest.raises(CommandError, match="last active admin"):
        run("agent", "add", agent.email, "--name", "Alex", "--role", "light")
    # ... and on the screens, by the admin themselves.
    admin_client.post(f"/admin/agents/{agent.pk}/active/", {"active": "0"})
    admin_client.post(f"/admin/agents/{agent.pk}/role/", {"role": "light"})
    agent.refresh_from_db()
    assert agent.is_active and agent.role == "admin" and agent.is_admin
    page = admin_client.get(f"/admin/agents/{agent.pk}/", follow=True).content.decode()
    assert "last active admin" in page
    # A deactivated admin does not count: still the last one.
    other = agent_create(email="ada@acme.test", name="Ada", role="admin")
    agent_deactivate(agent=other)
    with pytest.raises(AgentChangeRefused):
        agent_deactivate(agent=agent)
    # With a second active admin, stepping down works (and clears Django's superuser flag too).
    run("agent", "activate", "ada@acme.test")
    admin_client.post(f"/admin/agents/{agent.pk}/role/", {"role": "agent"})
    agent.refresh_from_db()
    assert agent.role == "agent" and not agent.is_superuser and not agent.is_admin
    assert admin_client.get("/admin/agents/").status_code == 403  # no longer an admin, at once


def test_admin_screens_add_light_agents_change_roles_and_deactivate(agent, admin_client):
    r = admin_client.post(
        "/admin/agents/new/",
        {"email": "lee@acme.test", "name": "Lee Light", "password": "long-password-1", "role": "light"},
    )
    assert r.status_code == 302
    lee = User.objects.get(email="lee@acme.test")
    assert lee.role == "light"
    page = admin_client.get("/admin/agents/").content.decode()
    assert "Light agent" in page and f"/admin/agents/{lee.pk}/" in page
    lee_browser = signed_in("lee@acme.test", "long-password-1")
    lee_token = token_create(user=lee)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {lee_token}")
    assert lee_browser.get("/inbox/").status_code == 200
    assert api.get("/api/v1/mailboxes").status_code == 200

    admin_client.post(f"/admin/agents/{lee.pk}/role/", {"role": "agent"})
    lee.refresh_from_db()
    assert lee.role == "agent"
    admin_client.post(f"/admin/agents/{lee.pk}/active/", {"active": "0"})
    lee.refresh_from_db()
    assert not lee.is_active
    # Her open session stops at the next request, she cannot sign in again, and her token is refused.
    r = lee_browser.get("/inbox/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    r = Client().post("/login/", {"username": "lee@acme.test", "password": "long-password-1"})
    assert r.status_code == 200 and "_auth_user_id" not in r.client.session
    assert api.get("/api/v1/mailboxes").status_code == 401
    assert "deactivated" in admin_client.get(f"/admin/agents/{lee.pk}/").content.decode()

    admin_client.post(f"/admin/agents/{lee.pk}/active/", {"active": "1"})
    assert signed_in("lee@acme.test", "long-password-1").get("/inbox/").status_code == 200
    assert api.get("/api/v1/mailboxes").status_code == 200  # not revoked: works again


def test_only_admins_reach_the_agent_screens(agent, mailbox):
    lee = agent_create(email="lee@acme.test", name="Lee", password="long-password-1", role="light")
    agent_create(email="sam@acme.test", name="Sam", password="long-password-2")
    for email, password in (("lee@acme.test", "long-password-1"), ("sam@acme.test", "long-password-2")):
        client = signed_in(email, password)
        assert client.get("/admin/agents/").status_code == 403
        assert client.get(f"/admin/agents/{agent.pk}/").status_code == 403
        assert client.post("/admin/agents/new/", {"email": "e@x.test", "name": "E"}).status_code == 403
        # A light agent promoting themselves, or anyone deactivating the admin: refused.
        assert client.post(f"/admin/agents/{lee.pk}/role/", {"role": "admin"}).status_code == 403
        assert client.post(f"/admin/agents/{agent.pk}/active/", {"active": "0"}).status_code == 403
    lee.refresh_from_db()
    agent.refresh_from_db()
    assert lee.role == "light" and agent.is_active
    assert Client().get("/admin/agents/").status_code == 302  # strangers: sign in first
    assert not User.objects.filter(email="e@x.test").exists()


def _conversation(mailbox, subject: str, text: str):  # type: ignore[no-untyped-def]
    return customer_conversation(
        mailbox, address="riley@example.test", name="Riley", subject=subject, text=text
    )


def test_a_mention_on_a_security_report_does_not_email_a_light_agent(agent, mailbox):
    from happydesk.inbox.security import security_check
    from happydesk.mail import outbound

    lee = agent_create(email="lee@acme.test", name="Lee Light", role="light")
    sam = agent_create(email="sam@acme.test", name="Sam Full")
    report = _conversation(mailbox, "Account takeover via reset link", "Your reset link is an exploit")
    assert security_check(conversation=report, subject=report.subject, text="an exploit")
    ordinary = _conversation(mailbox, "Where is my parcel", "It did not come.")
    outbound.send_due()
    mail.outbox.clear()
    note_add(conversation=report, author=agent, text="@lee @sam please check this takeover")
    outbound.send_due()
    assert [m.to for m in mail.outbox] == [[sam.email]]
    assert "takeover" in mail.outbox[0].body
    mail.outbox.clear()
    note_add(conversation=ordinary, author=agent, text="@lee can you look at the parcel?")
    outbound.send_due()
    assert [m.to for m in mail.outbox] == [[lee.email]]
    # A light agent who was mentioned still cannot open it from the link in any mail.
    lee.set_password("long-password-1")
    lee.save()
    assert signed_in(lee.email, "long-password-1").get(f"/c/{report.number}/").status_code == 404
