"""Saving keeps versions, restoring adds one, diffs mark changes; feedback, views, article from a reply."""

from __future__ import annotations

import pytest

from happydesk.accounts.services import agent_create
from happydesk.customers.services import customer_for_address
from happydesk.inbox.models import Message
from happydesk.inbox.services import conversation_open, message_receive, note_add, reply_create
from happydesk.kb.models import Article, ArticleFeedback, ArticleVersion
from happydesk.kb.services import (
    RESERVED_SLUGS,
    article_from_reply,
    article_publish,
    article_save,
    article_unpublish,
    article_version_restore,
    article_view_record,
    collection_create,
    diff_html,
    feedback_record,
    reply_redaction,
    version_diff,
)

pytestmark = pytest.mark.django_db


def test_every_save_that_changes_the_text_keeps_a_version(kb, agent):
    article = article_save(title="Export to CSV", body="Click Export.", author=agent, category=kb.account)
    article_save(
        article=article,
        title="Export to CSV",
        body="Click Export → All rows.",
        author=agent,
        category=kb.account,
    )
    article_save(
        article=article,
        title="Export your data",
        body="Click Export → All rows.",
        author=agent,
        category=kb.account,
    )
    # Saving again without a change (e.g. only the category) adds no empty version.
    article_save(
        article=article,
        title="Export your data",
        body="Click Export → All rows.",
        author=agent,
        category=kb.faq,
    )
    versions = list(article.versions.order_by("number"))
    assert [(v.number, v.title, v.body) for v in versions] == [
        (1, "Export to CSV", "Click Export."),
        (2, "Export to CSV", "Click Export → All rows."),
        (3, "Export your data", "Click Export → All rows."),
    ]
    assert all(v.author == agent for v in versions)
    article.refresh_from_db()
    assert article.slug == "export-your-data" and article.category == kb.faq


def test_restore_creates_a_new_version_and_never_rewinds(kb, agent):
    article = kb.reset
    article_save(article=article, title="Reset password", body="New text", author=agent, category=kb.account)
    v1 = article.versions.get(number=1)
    restored = article_version_restore(article=article, version=v1, author=agent)
    assert (restored.title, restored.body) == (v1.title, v1.body)
    latest = article.versions.order_by("-number").first()
    assert latest.number == 3 and latest.note == "Restored version 1" and latest.body == v1.body
    assert ArticleVersion.objects.filter(article=article).count() == 3
    article.refresh_from_db()
    assert article.title == "Reset your password" and article.is_published  # status untouched


def test_restore_refuses_another_articles_version(kb, agent):
    with pytest.raises(ValueError):
        article_version_restore(article=kb.reset, version=kb.trial.versions.get(), author=agent)


def test_diff_marks_added_removed_and_changed_words(kb, agent):
    article = article_save(
        title="Steps",
        body="Intro\n\n1. Open Settings\n2. Click Export\n\nDone.",
        author=agent,
        category=kb.account,
    )
    article_save(
        article=article,
        title="Steps to export",
        body="Intro\n\n1. Open Settings\n2. Click Full export\n3. Wait for the email <b>\n\nDone.",
        author=agent,
        category=kb.account,
    )
    old, new = article.versions.get(number=1), article.versions.get(number=2)
    diff = version_diff(old=old, new=new)
    assert diff.title_changed
    assert '<del class="diff-line">2. Click Export</del>' in diff.body_html
    assert '<ins class="diff-line">2. Click Full export</ins>' in diff.body_html
    assert '<ins class="diff-line">3. Wait for the email &lt;b&gt;</ins>' in diff.body_html  # escaped
    assert diff.added >= 2 and diff.removed >= 1


def test_diff_html_word_level_and_context():
    html, added, removed = diff_html(
        "a\nb\nc\nd\ne\nf\ng\nh\ni\nThe cat sat.", "a\nb\nc\nd\ne\nf\ng\nh\ni\nThe dog sat."
    )
    assert "<del>cat</del>" in html and "<ins>dog</ins>" in html
    assert ">a<" not in html  # far-away unchanged lines are left out
    assert (added, removed) == (1, 1)
    assert diff_html("same", "same")[0] == ""


def test_publish_needs_a_category_and_unpublish_keeps_the_article(kb, agent):
    loose = article_save(title="No home yet", body="x", author=agent)
    with pytest.raises(ValueError, match="category"):
        article_publish(article=loose)
    published = article_publish(article=kb.draft)
    assert published.is_published and published.published_at is not None
    first = published.published_at
    article_unpublish(article=published)
    article_publish(article=published)
    published.refresh_from_db()
    assert published.is_published and published.published_at == first


def test_saving_never_overwrites_counters_bumped_meanwhile(kb, agent):
    article = Article.objects.get(pk=kb.reset.pk)  # loaded before readers come
    article_view_record(article_id=article.pk)
    article_view_record(article_id=article.pk)
    feedback_record(article=article, helpful=True)
    article_save(article=article, title=article.title, body="Changed", author=agent, category=kb.account)
    article.refresh_from_db()
    assert (article.view_count, article.helpful_yes) == (2, 1)


def test_feedback_counts_and_keeps_comments(kb):
    feedback_record(article=kb.reset, helpful=True)
    feedback_record(article=kb.reset, helpful=False, comment="  Didn't mention SSO accounts. ")
    feedback_record(article=kb.reset, helpful=False, comment="x" * 5000)
    kb.reset.refresh_from_db()
    assert (kb.reset.helpful_yes, kb.reset.helpful_no) == (1, 2)
    assert kb.reset.helpful_percent == 33
    comments = list(ArticleFeedback.objects.exclude(comment="").values_list("comment", flat=True))
    assert "Didn't mention SSO accounts." in comments and max(len(c) for c in comments) == 2000


def test_collection_slugs_avoid_help_pages(db):
    assert collection_create(name="Articles").slug not in RESERVED_SLUGS
    assert collection_create(name="Search").slug == "search-2"
    assert collection_create(name="Using Acme").slug == "using-acme"
    assert collection_create(name="Using Acme").slug == "using-acme-2"


@pytest.fixture
def replied(mailbox, agent):
    customer = customer_for_address(address="casey.jones@example.test", name="Casey Jones")
    customer.company = "Initech"
    customer.save()
    c = conversation_open(mailbox=mailbox, customer=customer, subject="Re: [#9] Casey can't export to CSV")
    message_receive(
        conversation=c,
        customer=customer,
        from_name="Casey Jones",
        from_address="casey.jones@example.test",
        subject=c.subject,
        text="My CSV export stops at 1,000 rows. Call me on 555-010-4477.",
    )
    reply = reply_create(
        conversation=c,
        author=agent,
        text=(
            "Hi Casey,\n\nThe Export button exports the current view. For everything, go to "
            "**Settings → Data → Full export**. I've sent the link to casey.jones@example.test, "
            "and I can call you on 555-010-4477 if it helps.\n\nCheers,\nAlex"
        ),
    )
    return c, reply


def test_article_from_reply_strips_customer_details_and_links_back(replied, agent):
    c, reply = replied
    article = article_from_reply(message=reply, author=agent)
    assert article.status == Article.Status.DRAFT and article.category is None
    assert article.source_conversation_number == c.number
    assert article.title == "[customer name] can't export to CSV"
    for personal in ("Casey", "casey.jones", "555-010-4477", "Initech", "Cheers", "Alex"):
        assert personal not in article.body and personal not in article.title
    assert article.body.startswith("The Export button exports the current view.")
    assert "**Settings → Data → Full export**" in article.body
    assert "[email address]" in article.body and "[phone number]" in article.body
    version = article.versions.get()
    assert version.note == f"Started from a reply in conversation #{c.number}" and version.author == agent


def test_the_agent_sees_each_replacement_and_may_keep_one(replied, agent):
    c, reply = replied
    title, found = reply_redaction(message=reply, author=agent)
    assert title == "[customer name] can't export to CSV"
    listed = {i.original: i for i in found.items()}
    assert set(listed) == {"casey.jones@example.test", "555-010-4477"}
    phone = listed["555-010-4477"]
    article = article_from_reply(message=reply, author=agent, keep={phone.key}, title="Export everything")
    assert article.title == "Export everything"
    assert "555-010-4477" in article.body and "casey.jones" not in article.body


def test_names_come_from_the_whole_conversation(replied, agent, mailbox):
    c, _ = replied
    colleague = agent_create(email="priya@acme.test", name="Priya Natarajan")
    note_add(conversation=c, author=colleague, text="Looking at the export logs.")
    message_receive(
        conversation=c,
        customer=c.customer,
        from_name="CJ Jones",
        from_address="casey.jones@example.test",
        subject=c.subject,
        text="Thanks!",
    )
    reply = reply_create(
        conversation=c, author=agent, text="CJ, Priya found it: write to support@acme.test for a copy."
    )
    _, found = reply_redaction(message=reply, author=agent)
    assert found.text() == "[customer name], [agent name] found it: write to support@acme.test for a copy."


def test_only_replies_become_articles(replied, agent):
    c, _ = replied
    with pytest.raises(ValueError):
        article_from_reply(message=c.messages.get(kind=Message.Kind.CUSTOMER), author=agent)
    note = note_add(conversation=c, author=agent, text="internal")
    with pytest.raises(ValueError):
        article_from_reply(message=note, author=agent)
