"""The public pages, signing in, posting through the pages, and search."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from happydesk.accounts.models import PortalLoginToken
from happydesk.community import services
from happydesk.community.models import Follow, Topic
from happydesk.community.selectors import search
from happydesk.customers.models import CustomerEmail
from happydesk.mail import outbound
from tests.community.conftest import portal_client

pytestmark = pytest.mark.django_db


def test_anyone_reads_every_public_page(people, agent, client):
    q = services.topic_create(
        kind="question",
        title="How do I export a year?",
        body="The dialog stops at **90 days**.",
        author=people.ann,
    )
    services.post_create(topic=q, body="Use Data → Exports.", author=agent)
    i = services.topic_create(
        kind="idea", title="Dark mode for the dashboard", body="Please", author=people.bo
    )
    k = services.known_issue_post(
        title="Slack alerts stop after a rename", body="Reconnect it.", author=agent
    )
    for url in ["/community/", "/community/ideas/", "/community/ideas/?status=under_review&sort=new",
                "/community/known-issues/", "/community/announcements/", "/community/search/?q=export",
                q.get_absolute_url(), i.get_absolute_url(), k.get_absolute_url(), "/community/sign-in/"]:  # fmt: skip
        r = client.get(url)
        assert r.status_code == 200, url
    page = client.get(q.get_absolute_url()).content.decode()
    assert "<strong>90 days</strong>" in page and "Alex Agent" in page and ">Team<" in page
    assert "Ann A." in page and "ann@example.test" not in page  # first name and initial, never the address
    assert (
        f'<link rel="canonical" href="http://testserver{q.get_absolute_url()}">' in page
        or "canonical" in page
    )
    assert client.get(f"/community/topics/{q.pk}-old-title/").status_code == 301
    assert client.get(f"/community/ideas/{q.pk}-{q.slug}/")["Location"] == q.get_absolute_url()


def test_a_post_cannot_track_its_readers_with_remote_images(people, agent, client):
    """A stranger's image on their own server would tell them who read the topic and when: it becomes
    a link the reader may follow; an image on this site still shows."""
    t = services.topic_create(
        kind="question",
        title="Tracking pixel test",
        body="Look ![chart](https://tracker.example.test/p.png?u=1) and ![ref][r] and ![ours](/media/chart.png)"
        "\n\n[r]: //tracker.example.test/ref.gif",
        author=agent,  # the page renders everyone's Markdown with the same rule
    )
    page = client.get(t.get_absolute_url()).content.decode()
    assert not re.search(r"<img[^>]+tracker\.example\.test", page)
    assert '<a href="https://tracker.example.test/p.png?u=1" rel="noopener noreferrer">Image: chart' in page
    assert "Image: ref (tracker.example.test)" in page
    assert '<img src="/media/chart.png" alt="ours">' in page


def test_markdown_is_sanitized(people, client):
    t = services.topic_create(
        kind="question",
        title="Script test here",
        body="<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>",
        author=people.ann,
    )
    page = client.get(t.get_absolute_url()).content.decode()
    assert "<script>alert" not in page and 'href="javascript' not in page and "<img src" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown as text, harmless


def test_posting_needs_the_portal_sign_in(people, client):
    r = client.get("/community/ask/")
    assert r.status_code == 302 and r["Location"].startswith("/community/sign-in/?next=/community/ask/")
    client.post("/community/ask/", {"title": "Sneaky", "body": "x"})
    assert not Topic.objects.exists()


def test_a_customer_asks_answers_and_follows_through_the_pages(people):
    ann = portal_client(people.ann)
    r = ann.post("/community/ask/", {"title": "How do I invite a colleague?", "body": "As read-only please."})
    t = Topic.objects.get()
    assert r["Location"] == t.get_absolute_url() and t.author_customer == people.ann
    assert Follow.objects.filter(topic=t, customer=people.ann).exists()
    bo = portal_client(people.bo)
    bo.post(f"/community/topics/{t.pk}/answer/", {"body": "Use the **Viewer** role."})
    bo.post(f"/community/topics/{t.pk}/follow/", {"action": "remove"})
    assert not Follow.objects.filter(topic=t, customer=people.bo).exists()
    bo.post(f"/community/topics/{t.pk}/follow/", {"action": "add"})
    assert Follow.objects.filter(topic=t, customer=people.bo).exists()
    t.refresh_from_db()
    assert t.post_count == 1
    ann.post("/community/ideas/new/", {"title": "Dark mode please", "body": "For the night shift."})
    idea = Topic.objects.get(kind="idea")
    assert idea.status == "under_review" and idea.vote_count == 1
    ann.post("/community/ask/", {"title": "Bot post", "body": "x", "website": "http://spam"})  # honeypot
    assert not Topic.objects.filter(title="Bot post").exists()


def test_only_agents_post_known_issues(people, agent_client):
    assert portal_client(people.ann).get("/community/known-issues/new/").status_code == 404
    agent_client.post("/community/known-issues/new/", {"title": "Exports time out", "body": "Working on it."})
    assert Topic.objects.get().kind == "known_issue"


def test_sign_in_from_the_community_welcomes_new_people(client, mailbox, smtp_sink):
    r = client.post(
        "/community/sign-in/",
        {"email": "New.Person@Example.test", "name": "New Person", "next": "/community/ideas/"},
    )
    assert "Check your email" in r.content.decode()
    # The name waits in this browser until it has signed in (tests/community/test_signin_trust.py).
    assert CustomerEmail.objects.get(address="new.person@example.test").customer.name == ""
    outbound.send_due()  # the link goes out through the outbox, as the worker would send it
    ((_, rcpts, data),) = smtp_sink.wait_for(1)
    link = re.search(rb"http://\S+/portal/login/(\S+)/", data).group(1).decode()
    assert client.post(f"/portal/login/{link}/").status_code == 302
    assert "Back to the community" in client.get("/portal/").content.decode()
    assert client.get("/community/ideas/").content.decode().count("New Person") >= 1  # signed in
    assert client.get("/community/sign-in/?next=https://evil.example/")["Location"] == "/community/"
    stranger = Client()
    for _ in range(5):  # nobody can flood an inbox with links
        stranger.post("/community/sign-in/", {"email": "victim@example.test"})
    assert PortalLoginToken.objects.filter(customer__emails__address="victim@example.test").count() == 3


def test_search_ranks_title_matches_first_and_hides_what_is_hidden(people, agent):
    services.topic_create(
        kind="question", title="Export to CSV stops at 90 days", body="Help", author=people.ann
    )
    services.topic_create(
        kind="idea", title="Dark mode", body="Also for the export dialog please", author=people.bo
    )
    hidden = services.topic_create(kind="question", title="Export secret", body="x", author=people.cy)
    services.topic_hide(topic=hidden, agent=agent, reason="spam")
    q = services.topic_create(kind="question", title="Invoices", body="Where are they?", author=people.dee)
    services.post_create(topic=q, body="Billing → Invoices has a CSV export too.", author=agent)
    services.announcement_save(
        title="Excel export is here", body="XLSX", published_at=None, author=agent
    )  # draft
    from django.utils import timezone

    services.announcement_save(
        title="Faster export", body="Exports are quicker.", published_at=timezone.now(), author=agent
    )
    hits = search("export")
    assert {h.title for h in hits[:2]} == {"Export to CSV stops at 90 days", "Faster export"}  # titles first
    assert {h.title for h in hits[2:]} == {"Dark mode", "Invoices"}  # an idea's text, a topic's answer
    assert "Export secret" not in {h.title for h in hits} and "Excel export is here" not in {
        h.title for h in hits
    }
    assert search("csv export")[0].title == "Export to CSV stops at 90 days"
    assert search("") == [] and search("zzz") == []
    assert len(search("export", limit=2)) == 2


def test_pages_for_agents_need_sign_in(people):
    t = services.topic_create(kind="idea", title="Dark mode please", body="x", author=people.ann)
    for url in ["/community/manage/", f"/community/topics/{t.pk}/history/", f"/community/topics/{t.pk}/move/",
                "/community/manage/announcements/new/"]:  # fmt: skip
        for client in (Client(), portal_client(people.ann)):
            r = client.get(url)
            assert r.status_code == 302 and r["Location"].startswith("/login/"), url


def test_ideas_board_query_count(people, django_assert_max_num_queries, no_rate_limit):
    for n in range(12):
        services.topic_create(kind="idea", title=f"Idea number {n}", body="x", author=people.ann)
    client = portal_client(people.bo)
    with django_assert_max_num_queries(12):
        assert client.get("/community/ideas/").status_code == 200


def test_topic_page_and_moderation_queue_query_counts(
    people, agent, agent_client, django_assert_max_num_queries, no_rate_limit
):
    # More answers, authors and bans must not mean more queries.
    from happydesk.customers.services import customer_for_address

    t = services.topic_create(kind="question", title="How do I export a year?", body="x", author=people.ann)
    for n in range(12):
        author = customer_for_address(address=f"member{n}@example.test", name=f"Member {n}")
        services.post_create(topic=t, body=f"Answer number {n}", author=author)
        services.customer_ban(customer=author, reason="spam", agent=agent)
    for client in (Client(), portal_client(people.bo), agent_client):
        with django_assert_max_num_queries(12):
            assert client.get(t.get_absolute_url()).status_code == 200
        with django_assert_max_num_queries(8):
            assert client.get("/community/").status_code == 200
    with django_assert_max_num_queries(10):
        assert agent_client.get("/community/manage/").status_code == 200
