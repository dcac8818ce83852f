"""One vote per person, and merging duplicates without double votes."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from happydesk.community import services
from happydesk.community.models import ConversationLink, Follow, Post, Revision, Topic, Vote
from happydesk.community.services import CommunityError, PostRefused
from happydesk.inbox.services import conversation_open
from tests.community.conftest import portal_client

pytestmark = pytest.mark.django_db


def idea(author, title: str = "Dark mode for the dashboard") -> Topic:  # type: ignore[no-untyped-def]
    return services.topic_create(
        kind=Topic.Kind.IDEA, title=title, body="Easier on the eyes at night.", author=author
    )


def test_a_second_vote_does_not_count(people):
    t = idea(people.ann)
    assert t.vote_count == 1  # the author's own vote
    assert services.vote_add(topic=t, customer=people.bo) is True
    assert services.vote_add(topic=t, customer=people.bo) is False
    t.refresh_from_db()
    assert t.vote_count == 2 == Vote.objects.filter(topic=t).count()


def test_the_database_refuses_a_second_vote_row(people):
    t = idea(people.ann)
    with pytest.raises(IntegrityError), transaction.atomic():
        Vote.objects.create(topic=t, customer=people.ann)


def test_voting_twice_through_the_page_counts_once(people):
    t = idea(people.ann)
    client = portal_client(people.bo)
    for _ in range(2):
        r = client.post(f"/community/topics/{t.pk}/vote/", {"action": "add"})
        assert r.status_code == 302
    t.refresh_from_db()
    assert t.vote_count == 2
    body = client.get(t.get_absolute_url()).content.decode()
    assert "Voted ✓" in body
    client.post(f"/community/topics/{t.pk}/vote/", {"action": "remove"})
    t.refresh_from_db()
    assert t.vote_count == 1


def test_anonymous_vote_asks_to_sign_in(people):
    t = idea(people.ann)
    r = Client().post(f"/community/topics/{t.pk}/vote/")
    assert r.status_code == 302 and r["Location"].startswith("/community/sign-in/")
    t.refresh_from_db()
    assert t.vote_count == 1


def test_shipped_and_declined_ideas_take_no_votes(people, agent):
    t = idea(people.ann)
    services.topic_set_status(topic=t, status="shipped", agent=agent, notify=False)
    with pytest.raises(PostRefused):
        services.vote_add(topic=t, customer=people.bo)


def test_merge_carries_votes_and_followers_without_double_votes(people, agent, mailbox):
    target = idea(people.ann, "Dark mode for the dashboard")
    source = idea(people.bo, "Dark theme please")  # Bo's own vote
    services.vote_add(topic=target, customer=people.cy)
    services.vote_add(topic=source, customer=people.cy)  # Cy voted on both
    services.vote_add(topic=source, customer=people.dee)
    services.follow_add(topic=source, person=people.eve)
    services.follow_add(topic=source, person=agent)
    services.follow_add(topic=target, person=agent)  # the agent follows both
    services.follow_add(topic=source, person=people.ann)  # Ann follows both (her own idea and this)
    conversation = conversation_open(mailbox=mailbox, customer=people.eve, subject="Dark mode?")
    services.conversation_link(topic=source, conversation=conversation, agent=agent)
    services.conversation_link(topic=target, conversation=conversation, agent=agent)
    answer = services.post_create(topic=source, body="+1 from our night shift", author=people.dee)

    services.topic_merge(source=source, target=target, agent=agent)

    target.refresh_from_db()
    source.refresh_from_db()
    voters = sorted(Vote.objects.filter(topic=target).values_list("customer__name", flat=True))
    assert voters == ["Ann Archer", "Bo Berg", "Cy Cole", "Dee Dunn"]
    assert target.vote_count == 4
    assert not Vote.objects.filter(topic=source).exists()
    followers = Follow.objects.filter(topic=target)
    assert sorted(f.customer.name for f in followers if f.customer) == [
        "Ann Archer",
        "Bo Berg",
        "Dee Dunn",
        "Eve Ellis",
    ]
    assert followers.filter(agent=agent).count() == 1
    assert ConversationLink.objects.filter(topic=target).count() == 1
    assert source.merged_into == target and source.vote_count == 0
    # Nothing anyone wrote is lost: the duplicate's text and its answers are on the target now.
    opening = Post.objects.get(topic=target, merged_from=source)
    assert opening.body == "Easier on the eyes at night." and opening.author_customer == people.bo
    assert Post.objects.get(pk=answer.pk).topic == target
    assert Revision.objects.filter(post=opening).exists()
    # The duplicate's address leads to the target.
    r = Client().get(f"/community/ideas/{source.pk}-{source.slug}/")
    assert r.status_code == 301 and r["Location"] == target.get_absolute_url()
    assert Client().get(f"/community/topics/{source.pk}/").headers["Location"] == target.get_absolute_url()


def test_merge_refuses_other_kinds_and_self(people, agent):
    t = idea(people.ann)
    question = services.topic_create(kind="question", title="How do I export?", body="Help", author=people.bo)
    with pytest.raises(CommunityError):
        services.topic_merge(source=t, target=t, agent=agent)
    with pytest.raises(CommunityError):
        services.topic_merge(source=question, target=t, agent=agent)


def test_merge_from_the_page(people, agent_client):
    target, source = idea(people.ann), idea(people.bo, "Dark theme please")
    r = agent_client.post(f"/community/topics/{source.pk}/merge/", {"into": f"#{target.pk}"})
    assert r.status_code == 302 and r["Location"] == target.get_absolute_url()
    source.refresh_from_db()
    assert source.merged_into_id == target.pk


def test_helpful_votes_on_answers_one_per_person(people):
    q = services.topic_create(
        kind="question", title="How do I export a year?", body="Help", author=people.ann
    )
    a = services.post_create(topic=q, body="Use Data → Exports.", author=people.bo)
    assert services.post_vote_add(post=a, customer=people.ann) is True
    assert services.post_vote_add(post=a, customer=people.ann) is False
    with pytest.raises(CommunityError):
        services.post_vote_add(post=a, customer=people.bo)  # not for your own answer
    a.refresh_from_db()
    assert a.vote_count == 1


def test_accepted_answer_by_the_asker_or_an_agent_only(people, agent):
    q = services.topic_create(
        kind="question", title="How do I export a year?", body="Help", author=people.ann
    )
    a = services.post_create(topic=q, body="Use Data → Exports.", author=people.bo)
    with pytest.raises(CommunityError):
        services.answer_accept(topic=q, post=a, actor=people.cy)
    services.answer_accept(topic=q, post=a, actor=people.ann)
    q.refresh_from_db()
    assert q.accepted_post == a
    services.answer_accept(topic=q, post=None, actor=agent)
    q.refresh_from_db()
    assert q.accepted_post is None
    r = portal_client(people.ann).post(f"/community/topics/{q.pk}/posts/{a.pk}/accept/", {"action": "add"})
    assert r.status_code == 302
    q.refresh_from_db()
    assert q.accepted_post == a
    assert "Accepted answer" in Client().get(q.get_absolute_url()).content.decode()
