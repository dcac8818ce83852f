"""The public help centre and the agents' KB pages, through Django's test client."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from django.test import Client

from happydesk.accounts.services import agent_create
from happydesk.customers.services import customer_for_address
from happydesk.inbox.services import conversation_open, message_receive, reply_create
from happydesk.kb.models import Article, ArticleFeedback
from happydesk.kb.services import article_save, article_version_restore
from happydesk.search.content import content_search

pytestmark = pytest.mark.django_db


def article_search(q: str, *, include_internal: bool = False) -> list[int]:
    """Ids of the articles the one search finds (articles and FAQ answers only)."""
    found = content_search(q, internal=include_internal, kinds=["article", "faq"]).results
    return [r.object_id for r in found]


@pytest.fixture
def agent_client(agent):
    client = Client()
    client.force_login(agent)
    return client


def test_home_lists_public_collections_and_categories_only(kb, client):
    body = client.get("/help/").content.decode()
    assert "Using Acme" in body and "Account &amp; sign-in" in body and "Questions" in body
    assert "Team handbook" not in body and "Policies" not in body
    assert "Chargebacks" not in body and "Offline mode" not in body
    assert 'name="q"' in body  # the search box is on every page
    assert '<link rel="canonical" href="http://testserver/help/">' in body or 'rel="canonical"' in body


def test_article_page_has_seo_basics_breadcrumbs_and_counts_views(kb, client, settings):
    settings.BASE_URL = "https://help.acme.test"
    url = kb.reset.get_absolute_url()
    assert url == f"/help/articles/{kb.reset.pk}-reset-your-password/"
    r = client.get(url)
    body = r.content.decode()
    assert r.status_code == 200
    assert "<title>Reset your password · Help Center</title>" in body
    assert f'<link rel="canonical" href="https://help.acme.test{url}">' in body
    assert (
        '<meta name="description" content="Click Forgot password? on the sign-in page. The link works for one hour.">'
        in body
    )
    crumbs = re.search(r'<nav class="kb-crumbs".*?</nav>', body, re.S).group(0)
    assert "Help Center" in crumbs and "Using Acme" in crumbs and "Account &amp; sign-in" in crumbs
    assert "<strong>Forgot password?</strong>" in body
    assert 'name="q"' in body and "Was this article helpful?" in body
    kb.reset.refresh_from_db()
    assert kb.reset.view_count == 1


def test_old_slug_and_short_link_redirect_to_the_canonical_url(kb, client):
    canonical = kb.reset.get_absolute_url()
    r = client.get(f"/help/articles/{kb.reset.pk}-old-title/")
    assert r.status_code == 301 and r["Location"] == canonical
    r = client.get(f"/help/articles/{kb.reset.pk}/")
    assert r.status_code == 301 and r["Location"] == canonical


def test_internal_and_draft_articles_are_404_for_the_public(kb, client):
    for article in (kb.secret_note, kb.handbook, kb.draft):
        for path in (article.get_absolute_url(), f"/help/articles/{article.pk}/"):
            r = client.get(path)
            assert r.status_code == 404, path
            assert article.body not in r.content.decode()
        assert client.post(f"/help/articles/{article.pk}/feedback/", {"helpful": "yes"}).status_code == 404
    assert client.get(kb.policies.get_absolute_url()).status_code == 404
    assert client.get(kb.internal.get_absolute_url()).status_code == 404
    assert client.get("/help/no-such/").status_code == 404
    assert article_search("dispute") == [] and article_search("refund") == []


def test_agents_read_internal_articles_on_help_but_not_drafts(kb, agent_client):
    for article in (kb.secret_note, kb.handbook):
        r = agent_client.get(article.get_absolute_url())
        assert r.status_code == 200 and "Internal" in r.content.decode()
    assert agent_client.get(kb.policies.get_absolute_url()).status_code == 200
    assert "Team handbook" in agent_client.get("/help/").content.decode()
    assert agent_client.get(kb.draft.get_absolute_url()).status_code == 404
    assert sorted(article_search("refund", include_internal=True)) == sorted(
        [kb.handbook.pk, kb.secret_note.pk]
    )
    kb.secret_note.refresh_from_db()
    assert kb.secret_note.view_count == 0  # agents reading don't count


def test_faq_category_shows_every_question_and_answer_on_one_page(kb, client):
    body = client.get(kb.faq.get_absolute_url()).content.decode()
    assert kb.faq.get_absolute_url() == "/help/using-acme/questions/"
    for article in (kb.trial, kb.mobile):
        assert f'id="q{article.pk}"' in body and f'href="#q{article.pk}"' in body and article.title in body
    assert "Yes, <strong>14 days</strong>." in body and "Yes, for iPhone and Android." in body
    assert "<title>Questions · Using Acme · Help Center</title>" in body


def test_articles_category_lists_titles_with_summaries(kb, client):
    body = client.get(kb.account.get_absolute_url()).content.decode()
    assert "Reset your password" in body and "The link works for one hour." in body
    assert "Chargebacks" not in body and "Offline mode" not in body


def test_sitemap_lists_published_public_pages_only(kb, client, settings):
    settings.BASE_URL = "https://help.acme.test"
    r = client.get("/help/sitemap.xml")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/xml")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [e.text for e in ET.fromstring(r.content).findall("s:url/s:loc", ns)]
    assert "https://help.acme.test/help/" in locs
    assert "https://help.acme.test" + kb.reset.get_absolute_url() in locs
    assert "https://help.acme.test" + kb.trial.get_absolute_url() in locs
    assert "https://help.acme.test" + kb.faq.get_absolute_url() in locs
    for hidden in (kb.secret_note, kb.handbook, kb.draft):
        assert all(f"/articles/{hidden.pk}-" not in loc for loc in locs)
    assert all("team-handbook" not in loc for loc in locs)
    assert len(ET.fromstring(r.content).findall("s:url/s:lastmod", ns)) == len(locs)


def test_helpfulness_is_recorded_once_per_visitor(kb, client):
    url = f"/help/articles/{kb.reset.pk}/feedback/"
    r = client.post(url, {"helpful": "no", "comment": "Say where the button is on mobile."})
    assert r.status_code == 302 and r["Location"].endswith("?thanks=1#feedback")
    assert "Thanks for letting us know!" in client.get(r["Location"]).content.decode()
    client.post(url, {"helpful": "yes"})  # a second answer from the same visitor is not counted
    kb.reset.refresh_from_db()
    assert (kb.reset.helpful_yes, kb.reset.helpful_no) == (0, 1)
    assert ArticleFeedback.objects.get().comment == "Say where the button is on mobile."
    assert Client().post(url, {"helpful": "maybe"}).status_code == 400
    assert Client().get(url).status_code == 405


def test_feedback_needs_csrf(kb):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(f"/help/articles/{kb.reset.pk}/feedback/", {"helpful": "yes"}).status_code == 403


def test_search_page_ranks_title_matches_first(kb, client, agent):
    body_only = article_save(
        title="Signing in with SSO",
        body="If SSO fails, reset your password.",
        author=agent,
        category=kb.account,
        publish=True,
    )
    assert article_search("reset password") == [kb.reset.pk, body_only.pk]
    assert article_search("") == [] and article_search("zebra") == []
    body = client.get("/help/search/", {"q": "reset password"}).content.decode()
    assert body.index("Reset your password") < body.index("Signing in with SSO")
    assert "We found nothing for “zebra”" in client.get("/help/search/", {"q": "zebra"}).content.decode()


def test_agent_pages_need_a_sign_in(kb, client):
    for path in ("/kb/", "/kb/new/", f"/kb/articles/{kb.reset.pk}/", f"/kb/articles/{kb.reset.pk}/history/"):
        r = client.get(path)
        assert r.status_code == 302 and r["Location"].startswith("/login/"), path


def test_light_agents_cannot_edit(kb, db):
    light = agent_create(email="eng@acme.test", name="Eli Engineer", password="long-password")
    light.role = light.Role.LIGHT
    light.save()
    c = Client()
    c.force_login(light)
    assert c.get("/kb/").status_code == 403
    assert c.get(kb.secret_note.get_absolute_url()).status_code == 200  # but read internal articles


def test_editor_preview_save_publish_and_copy_link(kb, agent_client, settings):
    settings.BASE_URL = "https://help.acme.test"
    r = agent_client.post(
        "/kb/new/", {"title": "Change plan", "body": "Go to **Billing**", "action": "preview", "category": ""}
    )
    assert r.status_code == 200 and "<strong>Billing</strong>" in r.content.decode()
    assert not Article.objects.filter(title="Change plan").exists()
    r = agent_client.post(
        "/kb/new/", {"title": "Change plan", "body": "Go to **Billing**", "action": "publish"}
    )
    assert "Choose a category before publishing." in r.content.decode()
    r = agent_client.post("/kb/new/", {"title": "Change plan", "body": "Go to Billing", "action": "save"})
    article = Article.objects.get(title="Change plan")
    assert r["Location"] == f"/kb/articles/{article.pk}/" and article.status == "draft"
    r = agent_client.post(
        f"/kb/articles/{article.pk}/",
        {
            "title": "Change your plan",
            "body": "Go to **Billing**",
            "category": kb.account.pk,
            "action": "publish",
            "related": [kb.reset.pk],
        },
    )
    article.refresh_from_db()
    assert article.is_published and article.versions.count() == 2
    assert list(article.related.all()) == [kb.reset]
    page = agent_client.get(f"/kb/articles/{article.pk}/").content.decode()
    assert f'value="https://help.acme.test/help/articles/{article.pk}-change-your-plan/"' in page
    assert "Copy link for replies" in page
    public = Client().get(article.get_absolute_url()).content.decode()
    assert "Reset your password" in public  # related article shown
    assert agent_client.post(f"/kb/articles/{article.pk}/unpublish/").status_code == 302
    assert Client().get(article.get_absolute_url()).status_code == 404


def test_history_shows_diff_and_restores(kb, agent, agent_client):
    article_save(
        article=kb.reset,
        title="Reset your password",
        body="Click **Forgot password?** now.",
        author=agent,
        category=kb.account,
    )
    page = agent_client.get(f"/kb/articles/{kb.reset.pk}/history/").content.decode()
    assert "Changes from v1 to v2" in page and "<ins" in page and "<del" in page
    page = agent_client.get(f"/kb/articles/{kb.reset.pk}/history/", {"from": 2, "to": 1}).content.decode()
    assert "Changes from v2 to v1" in page
    v1 = kb.reset.versions.get(number=1)
    r = agent_client.post(f"/kb/articles/{kb.reset.pk}/versions/{v1.pk}/restore/")
    assert r.status_code == 302
    kb.reset.refresh_from_db()
    assert kb.reset.versions.count() == 3 and kb.reset.body == v1.body
    other = kb.trial.versions.get()
    assert agent_client.post(f"/kb/articles/{kb.reset.pk}/versions/{other.pk}/restore/").status_code == 404
    with pytest.raises(ValueError):
        article_version_restore(article=kb.reset, version=other, author=agent)


def test_make_an_article_button_on_replies(mailbox, agent, agent_client):
    customer = customer_for_address(address="sam@example.test", name="Sam Smith")
    c = conversation_open(mailbox=mailbox, customer=customer, subject="Slack stopped")
    first = message_receive(
        conversation=c,
        customer=customer,
        from_name="Sam Smith",
        from_address="sam@example.test",
        subject="x",
        text="Help",
    )
    reply = reply_create(
        conversation=c, author=agent, text="Hi Sam,\n\nClick Reconnect in Settings.\n\nBest,\nAlex"
    )
    page = agent_client.get(f"/c/{c.number}/").content.decode()
    assert page.count("Make an article") == 1 and f"/kb/from-reply/{c.number}/{reply.pk}/" in page
    assert agent_client.get(f"/kb/from-reply/{c.number}/{first.pk}/").status_code == 404  # not a reply
    r = agent_client.post(f"/kb/from-reply/{c.number}/{reply.pk}/", {"action": "create"})
    article = Article.objects.get()
    assert r["Location"] == f"/kb/articles/{article.pk}/"
    assert article.body == "Click Reconnect in Settings." and article.source_conversation_number == c.number
    edit = agent_client.get(r["Location"]).content.decode()
    assert f'href="/c/{c.number}/"' in edit


@pytest.fixture
def reply_with_details(mailbox, agent):
    customer = customer_for_address(address="emma@fischer.example", name="Emma Fischer")
    c = conversation_open(mailbox=mailbox, customer=customer, subject="Refund for INV-2026-1187")
    message_receive(
        conversation=c,
        customer=customer,
        from_name="Emma Fischer",
        from_address="emma@fischer.example",
        subject=c.subject,
        text="Where is my refund?",
    )
    text = "Hi Emma,\n\nInvoice INV-2026-1187 was refunded. Emma, call me on 020 7946 0958.\n\nBest,\nAlex"
    return c, reply_create(conversation=c, author=agent, text=text)


def test_the_agent_reviews_each_replacement_before_the_draft_is_saved(reply_with_details, agent_client):
    c, reply = reply_with_details
    url = f"/kb/from-reply/{c.number}/{reply.pk}/"
    page = agent_client.get(url).content.decode()
    assert not Article.objects.exists()  # nothing is saved by looking
    choices = dict(
        re.findall(
            r'name="redact" value="([0-9a-f]+)" checked> <span class="kb-original">([^<]+)</span>', page
        )
    )
    assert sorted(choices.values()) == ["020 7946 0958", "Emma"]
    assert "INV-2026-1187 was refunded" in page and "[phone number]" in page
    phone = next(k for k, v in choices.items() if v == "020 7946 0958")
    name = next(k for k, v in choices.items() if v == "Emma")
    # Without JavaScript: untick the phone and press Preview; the page comes back with it kept.
    preview = agent_client.post(
        url, {"shown": [name, phone], "redact": [name], "title": "Refunds", "action": "preview"}
    ).content.decode()
    assert '<mark class="kb-kept">020 7946 0958</mark>' in preview and "Refunds" in preview
    assert f'value="{phone}">' in preview  # unticked now
    assert not Article.objects.exists()
    # With htmx, only the preview comes back.
    partial = agent_client.post(
        url, {"shown": [name, phone], "redact": [name]}, headers={"HX-Request": "true"}
    ).content.decode()
    assert partial.lstrip().startswith('<section id="redact-preview"') and "<html" not in partial
    r = agent_client.post(
        url, {"shown": [name, phone], "redact": [name], "title": "Refunds", "action": "create"}
    )
    article = Article.objects.get()
    assert r["Location"] == f"/kb/articles/{article.pk}/" and article.title == "Refunds"
    assert article.body == "Invoice INV-2026-1187 was refunded. [customer name], call me on 020 7946 0958."


def test_an_item_the_review_page_never_showed_is_redacted_not_kept(reply_with_details, agent_client):
    """The thread changed between opening the page and saving (or someone posts by hand): a personal
    item that was not on the page, so nobody unticked it, is redacted rather than kept unseen."""
    c, reply = reply_with_details
    url = f"/kb/from-reply/{c.number}/{reply.pk}/"
    page = agent_client.get(url).content.decode()
    keys = dict(
        re.findall(
            r'name="redact" value="([0-9a-f]+)" checked> <span class="kb-original">([^<]+)</span>', page
        )
    )
    name = next(k for k, v in keys.items() if v == "Emma")
    agent_client.post(url, {"shown": [name], "redact": [], "title": "Refunds", "action": "create"})
    body = Article.objects.get().body
    assert "Emma, call me" in body  # shown and unticked: kept as the agent chose
    assert "020 7946 0958" not in body and "[phone number]" in body  # never shown: redacted


def test_light_agents_and_strangers_cannot_make_an_article(reply_with_details, client):
    c, reply = reply_with_details
    url = f"/kb/from-reply/{c.number}/{reply.pk}/"
    assert client.get(url).status_code == 302  # sign in first
    light = agent_create(email="eng@acme.test", name="Eli Engineer", password="long-password")
    light.role = light.Role.LIGHT
    light.save()
    client.force_login(light)
    assert client.get(url).status_code == 403
    assert client.post(url, {"action": "create"}).status_code == 403
    assert not Article.objects.exists()


def test_a_draft_from_a_reply_leaks_nowhere_public(kb, mailbox, agent, client):
    customer = customer_for_address(address="victim@example.test", name="Vic Tim")
    c = conversation_open(mailbox=mailbox, customer=customer, subject="Secret kb-leak-check")
    message_receive(
        conversation=c,
        customer=customer,
        from_name="Vic Tim",
        from_address="victim@example.test",
        subject="s",
        text="x",
    )
    reply = reply_create(conversation=c, author=agent, text="The kb-leak-check answer.")
    r = Client()
    r.force_login(agent)
    r.post(f"/kb/from-reply/{c.number}/{reply.pk}/", {"action": "create"})
    draft = Article.objects.get(source_conversation_number=c.number)
    pages = [
        "/help/",
        "/help/sitemap.xml",
        "/help/search/?q=kb-leak-check",
        f"/help/articles/{draft.pk}/",
        draft.get_absolute_url(),
        kb.account.get_absolute_url(),
        kb.public.get_absolute_url(),
    ]
    for path in pages:
        body = client.get(path).content.decode()
        # (the search page echoes the query itself, so look for the article's text and title)
        assert "kb-leak-check answer" not in body and "Secret kb-leak-check" not in body, path
        assert f"#{c.number}" not in body, path


def test_help_pages_take_a_fixed_number_of_queries(kb, client, agent, django_assert_max_num_queries):
    for i in range(15):  # more articles must not mean more queries
        article_save(title=f"Extra {i}", body="reset text", author=agent, category=kb.account, publish=True)
    for path in ("/help/", kb.account.get_absolute_url(), kb.faq.get_absolute_url(), "/help/sitemap.xml"):
        with django_assert_max_num_queries(6):
            assert client.get(path).status_code == 200, path
    with django_assert_max_num_queries(10):  # the search, its synonyms, and one upsert counting it
        assert client.get("/help/search/", {"q": "reset"}).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(kb.reset.get_absolute_url()).status_code == 200
