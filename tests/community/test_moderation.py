"""Rate limits, spam holds, the one-strike ban, edit history, hide and lock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from happydesk.community import services
from happydesk.community.models import Post, Revision, State, Topic
from happydesk.community.moderation import count_links, hold_reasons
from happydesk.community.services import NotAllowed, PostRefused
from happydesk.inbox.services import conversation_open
from tests.community.conftest import portal_client

pytestmark = pytest.mark.django_db


def question(
    author, title: str = "How do I export a whole year?", body: str = "The dialog stops at 90 days."
) -> Topic:  # type: ignore[no-untyped-def]
    return services.topic_create(kind="question", title=title, body=body, author=author)


def test_heuristics():
    assert count_links("see https://a.example and www.b.example and [c](http://c.example)") == 3
    assert hold_reasons("one https://a.example link") == []
    assert hold_reasons("one https://a.example link", first_post=True) == [
        "a link in the author's first post"
    ]
    assert hold_reasons("https://a.x https://b.x https://c.x") == ["3 links (more than 2)"]
    assert hold_reasons("Cheap SEO services and backlinks") == ["spam words: “backlinks”, “seo services”"]
    assert hold_reasons("WHY IS NOTHING WORKING TODAY, THIS IS RIDICULOUS") == ["mostly capital letters"]
    assert hold_reasons("Casino-style dashboards?") == ["spam words: “casino”"]


def test_posts_per_hour_are_limited(people, settings):
    settings.HAPPYDESK_COMMUNITY_POSTS_PER_HOUR = 3
    t = question(people.ann)
    services.post_create(topic=t, body="More detail: it's the CSV export.", author=people.ann)
    services.post_create(topic=t, body="Also on Firefox.", author=people.ann)
    with pytest.raises(PostRefused, match="last hour"):
        services.post_create(topic=t, body="Anyone?", author=people.ann)
    # An hour later it works again; other customers were never limited.
    services.post_create(
        topic=t, body="Anyone?", author=people.ann, at=timezone.now() + timedelta(minutes=61)
    )
    services.post_create(topic=t, body="Same here.", author=people.bo)


def test_the_limit_shows_on_the_page(people, settings):
    settings.HAPPYDESK_COMMUNITY_POSTS_PER_HOUR = 1
    question(people.ann)
    r = portal_client(people.ann).post(
        "/community/ask/", {"title": "Another question", "body": "Hello there"}
    )
    assert r.status_code == 429 and "last hour" in r.content.decode()
    assert Topic.objects.count() == 1


def test_agents_are_never_limited_or_held(people, agent, settings):
    settings.HAPPYDESK_COMMUNITY_POSTS_PER_HOUR = 1
    t = question(people.ann)
    for i in range(3):
        p = services.post_create(topic=t, body=f"See https://a.x https://b.x https://c.x ({i})", author=agent)
        assert p.state == State.VISIBLE


def test_spam_is_held_with_its_reason_for_agents(people, agent_client, client):
    question(people.bo)  # Bo has posted before
    t = question(people.bo, "Grow traffic", "Our SEO services: https://a.x https://b.x https://c.x")
    assert t.state == State.HELD and t.held_reason == "3 links (more than 2); spam words: “seo services”"
    assert client.get(t.get_absolute_url()).status_code == 404  # the public never sees it
    assert "Grow traffic" not in client.get("/community/").content.decode()
    mine = portal_client(people.bo).get(t.get_absolute_url()).content.decode()
    assert "Waiting for a moderator" in mine and "seo services" not in mine  # the author sees it, not why
    queue = agent_client.get("/community/manage/").content.decode()
    assert "Grow traffic" in queue and "3 links (more than 2)" in queue
    agent_client.post(f"/community/topics/{t.pk}/moderate/", {"action": "show", "next": "queue"})
    t.refresh_from_db()
    assert t.state == State.VISIBLE and client.get(t.get_absolute_url()).status_code == 200


def test_a_first_post_with_a_link_and_a_repeated_post_are_held(people):
    first = question(people.cy, "Chart gaps at night", "Screenshot: https://files.example/gap.png")
    assert first.state == State.HELD and "first post" in first.held_reason
    t = question(people.ann)
    services.post_create(topic=t, body="Same problem here since Monday.", author=people.bo)
    again = services.post_create(topic=t, body="Same  problem here since monday.", author=people.bo)
    assert again.state == State.HELD and "same text" in again.held_reason


def test_approving_a_held_answer_tells_followers(people, agent):
    from happydesk.mail.models import OutboundMail

    t = question(people.ann)
    services.post_create(topic=t, body="Hello", author=people.cy)  # Cy's first post, no link
    held = services.post_create(topic=t, body="Try https://a.x https://b.x https://c.x", author=people.cy)
    assert held.state == State.HELD
    OutboundMail.objects.all().delete()
    t.refresh_from_db()
    assert t.post_count == 1
    services.post_show(post=held, agent=agent)
    t.refresh_from_db()
    assert t.post_count == 2
    assert [m.to for m in OutboundMail.objects.all()] == [["ann@example.test"]]
    services.post_show(post=held, agent=agent)  # approving twice tells nobody twice
    assert OutboundMail.objects.count() == 1


def test_one_strike_ban(people, agent, mailbox, agent_client):
    t = question(people.ann)
    held = services.post_create(topic=t, body="Buy backlinks now", author=people.bo)
    ban = services.customer_ban(customer=people.bo, reason="Spam links in three topics", agent=agent)
    assert ban.reason == "Spam links in three topics"
    held.refresh_from_db()
    assert held.state == State.HIDDEN and "Author banned" in held.hidden_reason
    with pytest.raises(PostRefused):
        services.post_create(topic=t, body="Hello again", author=people.bo)
    with pytest.raises(PostRefused):
        question(people.bo, "A new topic", "Hello")
    with pytest.raises(PostRefused):
        services.vote_add(topic=t, customer=people.bo)
    r = portal_client(people.bo).post("/community/ask/", {"title": "Let me in", "body": "Please"})
    assert (
        "post in the community" in r.content.decode() and Topic.objects.filter(title="Let me in").count() == 0
    )
    # Agents see the ban: in the queue, on the author's posts, and beside the customer's conversations.
    assert "Spam links in three topics" in agent_client.get("/community/manage/").content.decode()
    c = conversation_open(mailbox=mailbox, customer=people.bo, subject="Why can't I post?")
    page = agent_client.get(f"/c/{c.pk}/").content.decode()
    assert "Banned from the community: Spam links in three topics" in page
    assert "Spam links" not in Client().get(t.get_absolute_url()).content.decode()
    agent_client.post(f"/community/manage/bans/{people.bo.pk}/lift/")
    services.post_create(topic=t, body="Sorry about that.", author=people.bo)


def test_ban_needs_a_reason(people, agent):
    with pytest.raises(services.CommunityError):
        services.customer_ban(customer=people.bo, reason=" ", agent=agent)


def test_every_edit_keeps_a_revision(people, agent, agent_client):
    t = question(people.ann)
    services.topic_edit(topic=t, title=t.title, body=t.body, editor=people.ann)  # no change: no revision
    services.topic_edit(
        topic=t, title="How do I export all of 2024?", body="The dialog stops at 90 days.", editor=people.ann
    )
    services.topic_edit(topic=t, title="How do I export all of 2024?", body="Fixed a typo.", editor=agent)
    revs = list(Revision.objects.filter(topic=t, post=None).order_by("number"))
    assert [(r.number, r.title, r.body) for r in revs] == [
        (1, "How do I export a whole year?", "The dialog stops at 90 days."),
        (2, "How do I export all of 2024?", "The dialog stops at 90 days."),
        (3, "How do I export all of 2024?", "Fixed a typo."),
    ]
    assert revs[1].editor_customer == people.ann and revs[2].editor_agent == agent
    t.refresh_from_db()
    assert t.slug == "how-do-i-export-all-of-2024" and t.edited_at is not None
    answer = services.post_create(topic=t, body="Use Exports.", author=people.bo)
    portal_client(people.bo).post(
        f"/community/topics/{t.pk}/posts/{answer.pk}/edit/", {"body": "Use Data → Exports."}
    )
    assert list(answer.revisions.values_list("number", "body")) == [
        (1, "Use Exports."),
        (2, "Use Data → Exports."),
    ]
    with pytest.raises(NotAllowed):
        services.post_edit(post=answer, body="Vandalised", editor=people.cy)
    assert (
        portal_client(people.cy).get(f"/community/topics/{t.pk}/posts/{answer.pk}/edit/").status_code == 404
    )
    history = agent_client.get(f"/community/topics/{t.pk}/history/").content.decode()
    assert (
        "How do I export a whole year?" in history
        and "Use Data → Exports." in history
        and "Fixed a typo." in history
    )


def test_an_edit_into_spam_is_held(people):
    t = question(people.ann)
    services.topic_edit(
        topic=t, title=t.title, body="Visit https://a.x https://b.x https://c.x", editor=people.ann
    )
    t.refresh_from_db()
    assert t.state == State.HELD and t.held_reason.startswith("edited: 3 links")


def test_hidden_topics_and_posts_leave_public_view(people, agent, client):
    t = question(people.ann, "Secret-ish question", "Body text")
    answer = services.post_create(topic=t, body="A rude answer", author=people.bo)
    services.post_hide(post=answer, agent=agent, reason="Rude")
    assert "A rude answer" not in client.get(t.get_absolute_url()).content.decode()
    t.refresh_from_db()
    assert t.post_count == 0
    services.topic_hide(topic=t, agent=agent, reason="Off topic")
    assert client.get(t.get_absolute_url()).status_code == 404
    assert "Secret-ish" not in client.get("/community/").content.decode()
    assert "Secret-ish" not in client.get("/community/search/?q=secret").content.decode()
    services.topic_show(topic=t, agent=agent)
    assert client.get(t.get_absolute_url()).status_code == 200


def test_locked_topics_take_no_answers_or_edits_from_customers(people, agent):
    t = question(people.ann)
    services.topic_lock(topic=t, agent=agent)
    with pytest.raises(PostRefused, match="locked"):
        services.post_create(topic=t, body="Hello?", author=people.bo)
    with pytest.raises(NotAllowed):
        services.topic_edit(topic=t, title=t.title, body="changed", editor=people.ann)
    assert services.post_create(topic=t, body="Closing this one, see the article.", author=agent).pk
    assert "This topic is locked" in portal_client(people.bo).get(t.get_absolute_url()).content.decode()
    services.topic_lock(topic=t, agent=agent, locked=False)
    services.post_create(topic=t, body="Thanks", author=people.bo)
    assert Post.objects.filter(topic=t).count() == 2


def test_light_agents_cannot_moderate(people, db):
    from happydesk.accounts.models import User
    from happydesk.accounts.services import agent_create

    light = agent_create(email="lee@acme.test", name="Lee Light", password="long-password")
    User.objects.filter(pk=light.pk).update(role=User.Role.LIGHT)
    c = Client()
    c.force_login(User.objects.get(pk=light.pk))
    t = question(people.ann)
    assert c.post(f"/community/topics/{t.pk}/moderate/", {"action": "hide"}).status_code == 403
    assert c.get("/community/manage/").status_code == 403
