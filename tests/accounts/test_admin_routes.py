"""The agents admin's changing routes (unlock, two-factor reset, the two-factor policy, role, active) played
by the agents who must not reach them: a full agent and a light agent are refused, and nothing changes:
the victim's lockout, second factor, role and account stay as they were, and no audit entry is added."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from happydesk.accounts.models import SignInPolicy, User
from happydesk.accounts.services import agent_create
from happydesk.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def victim():  # type: ignore[no-untyped-def]
    agent_create(email="ada@acme.test", name="Ada", role="admin")
    sam = agent_create(email="sam@acme.test", name="Sam", role="agent")
    TOTPDevice.objects.create(user=sam, name="Authenticator app", confirmed=True)
    StaticDevice.objects.create(user=sam, name="Recovery codes", confirmed=True)
    AccessAttempt.objects.create(
        username=sam.email,
        ip_address="203.0.113.7",
        user_agent="",
        path_info="/login/",
        http_accept="",
        get_data="",
        post_data="",
        failures_since_start=settings.AXES_FAILURE_LIMIT,
        attempt_time=timezone.now(),
    )
    return sam


@pytest.mark.parametrize("role", ["agent", "light"])
def test_an_agent_who_is_not_an_admin_changes_nothing_in_the_agents_admin(victim, role):  # type: ignore[no-untyped-def]
    intruder = agent_create(email=f"{role}@acme.test", name="Intruder", role=role)
    client = Client()
    client.force_login(intruder)
    entries = AuditEntry.objects.count()
    base = f"/admin/agents/{victim.pk}"
    for url, data in (
        (f"{base}/unlock/", {}),
        (f"{base}/two-factor-reset/", {}),
        (f"{base}/role/", {"role": "admin"}),
        (f"{base}/active/", {"active": "0"}),
        ("/admin/agents/two-factor/", {"required": "1"}),
        (f"/admin/agents/{intruder.pk}/role/", {"role": "admin"}),  # promoting themselves
    ):
        assert client.post(url, data).status_code == 403, url
    for url in ("/admin/agents/", f"{base}/", "/admin/audit/"):
        assert client.get(url).status_code == 403, url

    victim.refresh_from_db()
    intruder.refresh_from_db()
    assert (victim.role, victim.is_active) == (User.Role.AGENT, True)
    assert intruder.role == role and not intruder.is_admin
    assert TOTPDevice.objects.filter(user=victim, confirmed=True).exists()
    assert StaticDevice.objects.filter(user=victim).exists()
    assert AccessAttempt.objects.filter(username=victim.email).exists()  # still locked
    assert not SignInPolicy.current().require_two_factor
    assert AuditEntry.objects.count() == entries
