"""New agent passwords: at least 12 characters and not a common one, from the admin page and the CLI;
the published demo password still signs in."""

from __future__ import annotations

import pytest
from django.core.management.base import CommandError
from django.test import Client

from happydesk.accounts.models import User
from tests.helpers import run_command

pytestmark = pytest.mark.django_db


def add_agent(admin: Client, password: str):  # type: ignore[no-untyped-def]
    return admin.post(
        "/admin/agents/new/",
        {"email": "new@acme.test", "name": "New Agent", "password": password, "role": "agent"},
    )


@pytest.mark.parametrize(
    ("password", "why"),
    [("eleven-char", "at least 12 characters"), ("password1234", "too common")],
)
def test_admin_page_refuses_a_short_or_common_password(agent, password, why):
    admin = Client()
    admin.force_login(agent)
    r = add_agent(admin, password)
    assert r.status_code == 200 and why in r.content.decode()
    assert not User.objects.filter(email="new@acme.test").exists()


def test_admin_page_takes_a_twelve_character_password_and_it_signs_in(agent):
    admin = Client()
    admin.force_login(agent)
    assert add_agent(admin, "twelve-chars").status_code == 302
    r = Client().post("/login/", {"username": "new@acme.test", "password": "twelve-chars"})
    assert r.status_code == 302 and r["Location"] == "/inbox/"


def test_cli_refuses_a_short_password(db):
    with pytest.raises(CommandError, match="at least 12 characters"):
        run_command("agent", "add", "kim@acme.test", "--name", "Kim", "--password", "short-pw")
    assert not User.objects.filter(email="kim@acme.test").exists()


def test_the_demo_password_is_long_enough():
    from django.contrib.auth.password_validation import validate_password

    from happydesk.runtime.demo import DEMO_PASSWORD

    validate_password(DEMO_PASSWORD)  # `make run` signs in with it
