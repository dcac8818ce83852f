"""The public JSON endpoints behind the widget and the contact form's suggestions: cross-origin,
public content only, the same contact rules as the web form, rate limits, and deflection counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from happydesk.inbox.models import Conversation
from happydesk.kb.services import article_save, category_create, collection_create
from happydesk.search.models import SuggestionSession
from happydesk.search.selectors import deflection

pytestmark = pytest.mark.django_db


@pytest.fixture
def articles(agent):  # type: ignore[no-untyped-def]
    public = category_create(collection=collection_create(name="Using Acme"), name="Billing")
    internal = category_create(
        collection=collection_create(name="Handbook", internal_only=True), name="Rules"
    )
    shown = article_save(
        title="Download your invoices",
        body="Go to **Billing** and press Download.",
        author=agent,
        category=public,
        publish=True,
    )
    hidden = article_save(
        title="Invoice disputes", body="Internal only.", author=agent, category=internal, publish=True
    )
    return shown, hidden


def test_suggest_is_public_cross_origin_and_absolute(articles, settings):
    client = Client()
    r = client.get("/search/suggest.json", {"q": "invoi"}, HTTP_ORIGIN="https://shop.example")
    assert r["Access-Control-Allow-Origin"] == "*"
    titles = [x["title"] for x in r.json()["results"]]
    assert titles == ["Download your invoices"]  # the internal article never shows
    assert r.json()["results"][0]["url"].startswith(settings.BASE_URL + "/help/articles/")
    assert client.options("/search/suggest.json").status_code == 204


def test_article_json_for_the_panel_is_public_only(articles):
    shown, hidden = articles
    body = Client().get(f"/help/articles/{shown.pk}.json").json()
    assert body["title"] == "Download your invoices" and "<strong>Billing</strong>" in body["html"]
    assert Client().get(f"/help/articles/{hidden.pk}.json").status_code == 404


def test_widget_contact_uses_the_form_rules_and_is_rate_limited(mailbox, smtp_sink):
    mailbox.form_topics = ["Billing", "A bug"]
    mailbox.save()
    client = Client()
    config = client.get(f"/widget/{mailbox.pk}/config.json").json()
    assert (
        config["topics"] == ["Billing", "A bug"]
        and {"value": "worried", "label": "Worried"} in config["feelings"]
    )
    bad = client.post(f"/widget/{mailbox.pk}/contact.json", {"name": "R", "email": "nope"})
    assert bad.status_code == 400 and "email" in bad.json()["errors"]
    form = {
        "name": "Riley",
        "email": "riley@example.test",
        "subject": "Refund?",
        "message": "Charged twice.",
        "topic": "Billing",
        "feeling": "worried",
        "session": "visit-1",
    }
    ok = client.post(f"/widget/{mailbox.pk}/contact.json", form, HTTP_ORIGIN="https://shop.example")
    assert ok.status_code == 200 and ok["Access-Control-Allow-Origin"] == "*"
    c = Conversation.objects.get()
    assert (c.channel, c.topic, c.feeling) == ("widget", "Billing", "worried") and ok.json()[
        "number"
    ] == c.number
    assert "link" not in ok.json() and c.token not in ok.content.decode()  # the way in goes by email
    assert ok.json()["verified"] is False and c.unverified
    assert SuggestionSession.objects.get(key="visit-1").submitted_at is not None
    statuses = [
        client.post(f"/widget/{mailbox.pk}/contact.json", {**form, "session": ""}).status_code
        for _ in range(6)
    ]
    assert statuses.count(429) >= 1 and Conversation.objects.count() <= 5
    assert Client().post(
        f"/widget/{mailbox.pk}/contact.json",
        {**form, "email": "bot@example.test", "website": "x"},
        REMOTE_ADDR="10.9.9.9",
    ).json() == {"ok": True}
    assert not Conversation.objects.filter(customer__emails__address="bot@example.test").exists()


def test_deflection_counts_who_saw_opened_and_left(mailbox):
    client = Client()

    def event(session: str, name: str) -> None:
        r = client.post(
            f"/widget/{mailbox.pk}/events.json",
            f'{{"session": "{session}", "event": "{name}"}}',
            content_type="text/plain",
        )
        assert r.status_code == 200

    for s in ("a", "b", "c", "d"):
        event(s, "shown")
    event("a", "opened")
    event("b", "opened")
    event("c", "submitted")
    event("a", "shown")  # repeated events count once
    assert (
        client.post(
            f"/widget/{mailbox.pk}/events.json",
            '{"session": "x", "event": "bogus"}',
            content_type="text/plain",
        ).status_code
        == 400
    )
    assert deflection(since=timezone.now() - timedelta(days=1)) == []  # too fresh: they may still write
    SuggestionSession.objects.update(created_at=timezone.now() - timedelta(hours=1))
    (row,) = deflection(since=timezone.now() - timedelta(days=1))
    assert (row["saw"], row["opened"], row["left"], row["rate"]) == (4, 2, 3, 75)


def test_contact_page_offers_suggestions_and_records_the_submission(mailbox, articles):
    client = Client()
    page = client.get(f"/contact/{mailbox.pk}/").content.decode()
    assert 'id="suggestions"' in page and "suggest.js" in page
    client.post(
        f"/contact/{mailbox.pk}/",
        {
            "name": "Kim",
            "email": "kim@example.test",
            "subject": "Invoices",
            "message": "Where?",
            "session": "visit-9",
        },
    )
    assert SuggestionSession.objects.get(key="visit-9").submitted_at is not None


def test_errors_stay_readable_cross_origin_and_bad_times_are_ignored(mailbox):
    client = Client()
    missing = client.get("/help/articles/999999.json")
    assert missing.status_code == 404 and missing["Access-Control-Allow-Origin"] == "*"
    for since in ("2020-13-45T00:00:00", "garbage", "2026-01-01T00:00:00 00:00"):
        assert client.get(f"/widget/{mailbox.pk}/config.json", {"since": since}).status_code == 200


def test_the_web_form_has_the_same_rate_limit_as_the_widget(mailbox):
    """One limit per client IP and address, whichever way the message comes in."""
    form = {"name": "Kim", "email": "kim@example.test", "subject": "Hi", "message": "Hello"}
    widget = Client().post(f"/widget/{mailbox.pk}/contact.json", form)
    assert widget.status_code == 200
    statuses = [Client().post(f"/contact/{mailbox.pk}/", form).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    page = Client().post(f"/contact/{mailbox.pk}/", form).content.decode()
    assert "several messages in a short time" in page
    assert Conversation.objects.count() == 5
