"""The audit tests' people: an admin (Ada), an agent (Alex) and a light agent (Lee); `admin` is Ada signed
in over the sign-in page from her own address, as a browser does."""

from __future__ import annotations

import pytest
from django.test import Client

from happydesk.accounts.services import agent_create
from tests.audit.audit_helpers import ADA_IP, PASSWORD, signed_in


@pytest.fixture(autouse=True)
def fast_hashing(settings):  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def ada(db):  # type: ignore[no-untyped-def]
    return agent_create(email="ada@acme.test", name="Ada Admin", password=PASSWORD, admin=True)


@pytest.fixture
def alex(db):  # type: ignore[no-untyped-def]
    return agent_create(email="alex@acme.test", name="Alex Agent", password=PASSWORD)


@pytest.fixture
def lee(db):  # type: ignore[no-untyped-def]
    return agent_create(email="lee@acme.test", name="Lee Light", password=PASSWORD, role="light")


@pytest.fixture
def admin(ada) -> Client:  # type: ignore[no-untyped-def]
    return signed_in(ada.email, ADA_IP)
