"""A small help centre for the KB tests: one public and one internal collection, an FAQ category."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from happydesk.kb.models import Category
from happydesk.kb.services import article_save, category_create, collection_create


@pytest.fixture
def kb(agent):  # type: ignore[no-untyped-def]
    public = collection_create(name="Using Acme")
    internal = collection_create(name="Team handbook", internal_only=True)
    account = category_create(collection=public, name="Account & sign-in")
    faq = category_create(collection=public, name="Questions", flavour=Category.Flavour.FAQ)
    policies = category_create(collection=internal, name="Policies")
    reset = article_save(
        title="Reset your password",
        body="Click **Forgot password?** on the sign-in page.\n\nThe link works for one hour.",
        author=agent,
        category=account,
        publish=True,
    )
    secret_note = article_save(
        title="Chargebacks (internal)",
        body="Never refund during a dispute.",
        author=agent,
        category=account,
        internal_only=True,
        publish=True,
    )
    handbook = article_save(
        title="Refund policy",
        body="Up to $500 without asking.",
        author=agent,
        category=policies,
        publish=True,
    )
    draft = article_save(title="Offline mode", body="Coming soon.", author=agent, category=account)
    trial = article_save(
        title="Is there a free trial?", body="Yes, **14 days**.", author=agent, category=faq, publish=True
    )
    mobile = article_save(
        title="Is there a mobile app?",
        body="Yes, for iPhone and Android.",
        author=agent,
        category=faq,
        publish=True,
    )
    return SimpleNamespace(
        public=public,
        internal=internal,
        account=account,
        faq=faq,
        policies=policies,
        reset=reset,
        secret_note=secret_note,
        handbook=handbook,
        draft=draft,
        trial=trial,
        mobile=mobile,
    )
