"""Full-text search over conversations, on SQLite FTS5 and PostgreSQL (the suite runs on both)."""

from __future__ import annotations

import pytest
from django.test import Client

from happydesk.inbox import selectors
from happydesk.inbox.indexing import reindex_all
from happydesk.inbox.models import Conversation, ConversationDocument
from happydesk.inbox.services import note_add, reply_create
from happydesk.mail.inbound import process_pending
from happydesk.mail.store import store_raw
from happydesk.search.engines import engine
from tests.helpers import make_email

pytestmark = pytest.mark.django_db


def deliver(**kw) -> Conversation:
    store_raw(make_email(**kw), source="smtp", envelope_to=["support@acme.test"])
    process_pending()
    return Conversation.objects.latest("id")


@pytest.fixture
def corpus(mailbox):
    mailbox.auto_reply_enabled = False
    mailbox.save()
    return {
        "refund": deliver(
            sender="Dana <dana@example.test>",
            subject="Refund for a double charge",
            body="I was charged twice for invoice 7781.\n",
        ),
        "login": deliver(
            sender="Lee <lee@example.test>",
            subject="Cannot log in",
            body="The login page says my password is wrong after the reset.\n",
        ),
        "export": deliver(
            sender="Kim <kim@example.test>",
            subject="Export question",
            body="How do I export contacts? Also, a refund would be nice someday.\n",
        ),
    }


def ids(q: str) -> list[int]:
    return [h.conversation_id for h in engine().search(q, limit=10)]


def test_subject_matches_rank_above_body_matches(corpus):
    assert ids("refund")[:2] == [corpus["refund"].pk, corpus["export"].pk]


def test_prefix_of_the_last_word_and_stemming(corpus):
    assert ids("passw") == [corpus["login"].pk]
    assert corpus["refund"].pk in ids("charges")  # stemmed: charged ~ charges


def test_operators_and_punctuation_are_plain_words(corpus):
    assert corpus["refund"].pk in ids('"refund" (*-')  # no query syntax reaches the engine
    assert ids("***") == []


def test_replies_notes_and_sender_are_searchable(corpus, agent):
    reply_create(conversation=corpus["login"], author=agent, text="Please clear the browser cache.")
    note_add(conversation=corpus["export"], author=agent, text="Escalated to the integrations squad")
    assert ids("cache") == [corpus["login"].pk]
    assert ids("integrations squad") == [corpus["export"].pk]
    assert ids("dana") == [corpus["refund"].pk]


def test_reindex_rebuilds_the_same_results(corpus):
    before = ids("refund")
    ConversationDocument.objects.all().delete()
    assert ids("refund") == []
    assert reindex_all() == 3
    assert ids("refund") == before


def test_inbox_search_with_filters_and_snippets(corpus, agent):
    from happydesk.inbox.services import conversation_tag

    conversation_tag(conversation=corpus["export"], names=["export"])
    qs = selectors.conversation_list(agent=agent, q="refund", tag="export")
    assert list(qs) == [corpus["export"]]
    c = Client()
    c.force_login(agent)
    body = c.get("/inbox/", {"q": "invoice", "status": "all"}).content.decode()
    assert "<mark>" in body and "Refund for a double charge" in body and "Cannot log in" not in body
    assert (
        c.get("/inbox/", {"q": f"#{corpus['login'].pk}", "status": "all"})
        .content.decode()
        .count('class="row ')
        == 1
    )


def test_snippet_html_from_the_customer_is_escaped(mailbox, agent):
    deliver(subject="Hello", body="<script>alert(1)</script> refund please\n")
    c = Client()
    c.force_login(agent)
    body = c.get("/inbox/", {"q": "refund", "status": "all"}).content.decode()
    assert "<script>alert(1)" not in body
