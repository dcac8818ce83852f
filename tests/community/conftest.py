"""People and a portal-signed-in client for the community tests."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.test import Client

from happydesk.accounts.portal import SESSION_KEY
from happydesk.customers.models import Customer
from happydesk.customers.services import customer_for_address


def portal_client(customer: Customer) -> Client:
    """A browser signed in to the portal as this customer (what the one-time link leaves behind)."""
    client = Client()
    session = client.session
    session[SESSION_KEY] = customer.pk
    session.save()
    return client


@pytest.fixture
def people(db):  # type: ignore[no-untyped-def]
    def make(first: str, last: str) -> Customer:
        return customer_for_address(address=f"{first.lower()}@example.test", name=f"{first} {last}")

    return SimpleNamespace(
        ann=make("Ann", "Archer"),
        bo=make("Bo", "Berg"),
        cy=make("Cy", "Cole"),
        dee=make("Dee", "Dunn"),
        eve=make("Eve", "Ellis"),
    )


@pytest.fixture
def agent_client(agent):  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(agent)
    return client


@pytest.fixture
def no_rate_limit(settings):  # type: ignore[no-untyped-def]
    settings.HAPPYDESK_COMMUNITY_POSTS_PER_HOUR = 1000
