"""The one customer-facing search over self-service content: titles above bodies, internal content for
agents only, prefixes as you type, typo correction, tie-breaks, and the index following publishing."""

from __future__ import annotations

import pytest

from happydesk.kb.models import Category
from happydesk.kb.services import (
    article_publish,
    article_save,
    article_unpublish,
    category_create,
    collection_create,
    feedback_record,
)
from happydesk.runtime.indexes import CONTENT_PROVIDERS
from happydesk.search.content import content_search
from happydesk.search.services import content_reindex

pytestmark = pytest.mark.django_db


@pytest.fixture
def content(agent):  # type: ignore[no-untyped-def]
    public = collection_create(name="Using Acme")
    internal = collection_create(name="Team handbook", internal_only=True)
    billing = category_create(collection=public, name="Billing")
    faq = category_create(collection=public, name="Questions", flavour=Category.Flavour.FAQ)
    policies = category_create(collection=internal, name="Policies")

    def publish(title: str, body: str, category=billing, **kw):  # type: ignore[no-untyped-def]
        return article_save(title=title, body=body, author=agent, category=category, publish=True, **kw)

    return {
        "title_hit": publish("Refund a payment", "How the money goes back to the card."),
        "body_hit": publish("Invoices and receipts", "Download invoices. A refund shows as a credit note."),
        "faq": publish("Can I pay by invoice?", "Yes, on the yearly plan.", category=faq),
        "internal": publish("Refund limits", "Agents may refund up to $500.", category=policies),
        "marked_internal": publish("Refund exceptions", "Chargebacks are special.", internal_only=True),
        "escaped": publish("Script test", "<script>alert(1)</script> export contacts"),
    }


def kinds_and_titles(q: str, **kw) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(r.kind, r.title) for r in content_search(q, **kw).results]


def test_title_matches_rank_above_body_matches_and_internal_stays_internal(content):
    titles = [t for _, t in kinds_and_titles("refund")]
    assert titles == ["Refund a payment", "Invoices and receipts"]
    agent_titles = [t for _, t in kinds_and_titles("refund", internal=True)]
    assert set(agent_titles) == {
        "Refund a payment",
        "Invoices and receipts",
        "Refund limits",
        "Refund exceptions",
    }
    assert agent_titles.index("Invoices and receipts") == 3  # the only body-only match comes last


def test_prefix_as_you_type_and_faq_kind(content):
    assert ("faq", "Can I pay by invoice?") in kinds_and_titles("pay by invo")
    assert kinds_and_titles("refu")[0] == ("article", "Refund a payment")


def test_a_typo_is_corrected_and_reported(content):
    found = content_search("refnud")
    assert found.corrected and [r.title for r in found.results][0] == "Refund a payment"
    assert content_search("zzzqqq").results == []


def test_unpublishing_removes_and_publishing_restores(content):
    article_unpublish(article=content["title_hit"])
    assert "Refund a payment" not in [t for _, t in kinds_and_titles("refund")]
    article_publish(article=content["title_hit"])
    assert "Refund a payment" in [t for _, t in kinds_and_titles("refund")]


def test_helpfulness_breaks_ties(content, agent):
    billing = content["title_hit"].category
    a = article_save(
        title="Export contacts", body="Use the export button.", author=agent, category=billing, publish=True
    )
    b = article_save(
        title="Export contacts", body="Use the export button.", author=agent, category=billing, publish=True
    )
    for _ in range(3):
        feedback_record(article=b, helpful=True)
    feedback_record(article=a, helpful=False)
    order = [r.object_id for r in content_search("export contacts").results if r.title == "Export contacts"]
    assert order == [b.pk, a.pk]


def test_snippets_escape_content_and_reindex_rebuilds_the_same(content):
    result = next(r for r in content_search("export contacts").results if r.title == "Script test")
    assert "<script>" not in result.snippet and "<mark>" in result.snippet
    before = kinds_and_titles("refund", internal=True)
    content_reindex(CONTENT_PROVIDERS)
    assert kinds_and_titles("refund", internal=True) == before


def test_a_sentence_finds_the_article_its_words_point_at(content):
    assert [r.title for r in content_search("I can't get my refund for the payment").results][
        0
    ] == "Refund a payment"
    assert [r.title for r in content_search("how do i pay by invoice?").results][0] == "Can I pay by invoice?"
