"""Synonyms: a word or phrase of an admin's group finds content that uses another, on both engines; no
groups, no change; and help-centre searches are counted without bound only up to the day's cap."""

from __future__ import annotations

import pytest

from happydesk.kb.services import article_save, category_create, collection_create
from happydesk.search import services
from happydesk.search.content import content_search
from happydesk.search.models import SearchQueryDay, SynonymGroup
from happydesk.search.selectors import searches_without_results

pytestmark = pytest.mark.django_db


@pytest.fixture
def invite(agent):  # type: ignore[no-untyped-def]
    public = collection_create(name="Using Acme")
    start = category_create(collection=public, name="Getting started")
    article_save(title="Export to CSV", body="Download a file.", author=agent, category=start, publish=True)
    return article_save(
        title="Invite your team",
        body="Send invitations from Settings.",
        author=agent,
        category=start,
        publish=True,
    )


def titles(q: str) -> list[str]:
    return [r.title for r in content_search(q).results]


def test_a_phrase_finds_its_synonyms_only_once_the_group_exists(invite):
    assert "Invite your team" not in titles("add a new user")
    services.synonym_group_save(terms="Invite,  add user , new member, teammate, invite")
    assert SynonymGroup.objects.get().terms == "invite, add user, new member, teammate"
    assert titles("add a new user")[0] == "Invite your team"
    assert titles("teammates")[0] == "Invite your team"
    assert titles("how do I invite")[0] == "Invite your team"


def test_a_group_of_one_term_is_no_group(invite):
    group = services.synonym_group_save(terms="invite, teammate")
    assert group is not None
    assert services.synonym_group_save(terms="invite", group_id=group.pk) is None
    assert not SynonymGroup.objects.exists()


def test_searches_are_counted_per_day_and_query_and_capped(invite, monkeypatch):
    services.search_record(q="Pasword  reset?", results=0)
    services.search_record(q="pasword reset", results=0)
    services.search_record(q="invite", results=1)
    row = SearchQueryDay.objects.get(query="pasword reset")
    assert row.count == 2
    assert searches_without_results() == [{"query": "pasword reset", "searches": 2, "last_day": row.day}]
    monkeypatch.setattr(services, "MAX_QUERIES_PER_DAY", 2)
    services.search_record(q="bot noise 1", results=0)  # the day is full: a new query is not kept
    services.search_record(q="invite", results=1)  # a known one still counts
    assert SearchQueryDay.objects.count() == 2
    assert SearchQueryDay.objects.get(query="invite").count == 2


def test_old_search_counts_are_forgotten():
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    SearchQueryDay.objects.create(day=today - timedelta(days=91), query="old", count=3)
    SearchQueryDay.objects.create(day=today - timedelta(days=10), query="recent", count=1)
    assert services.search_days_prune() == 1
    assert list(SearchQueryDay.objects.values_list("query", flat=True)) == ["recent"]
