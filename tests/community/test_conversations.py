"""A forum post becomes a private conversation (the author is told), and conversations link to ideas."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

import pytest
from django.test import Client

from happydesk.community import services
from happydesk.community.models import ConversationLink, ModerationLog, State, Topic
from happydesk.community.services import CommunityError
from happydesk.inbox.models import Conversation, Message
from happydesk.mail.outbound import send_due
from tests.community.conftest import portal_client

pytestmark = pytest.mark.django_db

PRIVATE = "My invoice INV-2024-0042 was charged twice to my card ending 4242."


def test_a_topic_becomes_a_private_conversation_and_the_author_is_told(people, agent, mailbox, smtp_sink):
    t = services.topic_create(
        kind="question", title="Charged twice this month", body=PRIVATE, author=people.ann
    )
    c = services.post_to_conversation(topic=t, mailbox=mailbox, agent=agent)

    assert (c.mailbox, c.customer, c.subject, c.channel) == (
        mailbox,
        people.ann,
        "Charged twice this month",
        "form",
    )
    first = c.messages.filter(kind=Message.Kind.CUSTOMER).get()
    assert PRIVATE in first.text and first.threading_rule == "community"
    assert c.messages.filter(kind=Message.Kind.NOTE, text__contains=t.get_absolute_url()).exists()
    assert list(c.tags.values_list("name", flat=True)) == ["community"]
    t.refresh_from_db()
    assert (t.state, t.locked, t.conversation) == (State.HIDDEN, True, c)
    assert ModerationLog.objects.filter(action="move", topic=t).exists()

    send_due()
    ((_, rcpts, data),) = smtp_sink.wait_for(1)
    assert rcpts == ["ann@example.test"]
    mail = message_from_bytes(data, policy=policy.default)
    body = mail.get_body(("plain",)).get_content()
    assert "moved your post here, to a private conversation" in body
    assert re.search(r"/portal/l/[^/\s]+/", body)  # the (signed, expiring) link to the conversation
    assert mail["Subject"].endswith(f"[#{c.pk}]")  # a normal reply that threads

    # The public no longer sees it; the author finds it in the portal.
    assert Client().get(t.get_absolute_url()).status_code == 404
    assert PRIVATE not in Client().get("/community/").content.decode()
    mine = portal_client(people.ann)
    assert "moved this to a private conversation" in mine.get(t.get_absolute_url()).content.decode()
    assert "Charged twice this month" in mine.get("/portal/").content.decode()


def test_an_answer_becomes_a_conversation_with_its_author(people, agent, mailbox):
    t = services.topic_create(
        kind="question", title="Refund question", body="How do refunds work?", author=people.ann
    )
    answer = services.post_create(topic=t, body=PRIVATE, author=people.bo)
    c = services.post_to_conversation(
        topic=t, post=answer, mailbox=mailbox, agent=agent, text="Hi Bo, let's sort this out here."
    )
    assert c.customer == people.bo
    assert c.messages.filter(kind=Message.Kind.REPLY).get().text == "Hi Bo, let's sort this out here."
    answer.refresh_from_db()
    t.refresh_from_db()
    assert answer.state == State.HIDDEN and answer.conversation == c
    assert t.state == State.VISIBLE and t.post_count == 0
    assert PRIVATE not in Client().get(t.get_absolute_url()).content.decode()
    with pytest.raises(CommunityError):
        services.post_to_conversation(topic=t, post=answer, mailbox=mailbox, agent=agent)


def test_agents_posts_and_the_move_page(people, agent, mailbox, agent_client):
    staff = services.topic_create(
        kind="question", title="Maintenance on Sunday", body="Short downtime.", author=agent
    )
    with pytest.raises(CommunityError):
        services.post_to_conversation(topic=staff, mailbox=mailbox, agent=agent)
    t = services.topic_create(
        kind="question", title="Charged twice this month", body=PRIVATE, author=people.ann
    )
    page = agent_client.get(f"/community/topics/{t.pk}/move/").content.decode()
    assert "Hi Ann," in page and "Acme Support" in page
    r = agent_client.post(
        f"/community/topics/{t.pk}/move/", {"mailbox": mailbox.pk, "text": "Hi Ann, over to email."}
    )
    c = Conversation.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/c/{c.pk}/"
    r = agent_client.post(f"/community/topics/{t.pk}/move/", {"mailbox": mailbox.pk, "text": "Hi [NAME]"})
    assert Conversation.objects.count() == 1


def test_link_conversations_to_ideas_from_both_sides(people, agent, mailbox, agent_client):
    from happydesk.inbox.services import conversation_open

    t = services.topic_create(
        kind="idea", title="Dark mode for the dashboard", body="Please", author=people.ann
    )
    c = conversation_open(mailbox=mailbox, customer=people.bo, subject="Feature request: dark mode")
    page = agent_client.get(f"/c/{c.pk}/").content.decode()
    assert "Link to idea" in page and f'value="{t.pk} Dark mode for the dashboard"' in page
    r = agent_client.post(
        f"/community/conversations/{c.pk}/link/", {"topic": f"{t.pk} Dark mode for the dashboard"}
    )
    assert r.status_code == 302 and r["Location"] == f"/c/{c.pk}/"
    assert ConversationLink.objects.filter(topic=t, conversation=c).exists()
    assert "Dark mode for the dashboard" in agent_client.get(f"/c/{c.pk}/").content.decode()
    agent_client.post(f"/community/conversations/{c.pk}/unlink/{t.pk}/")
    assert not ConversationLink.objects.exists()
    agent_client.post(f"/community/topics/{t.pk}/link/", {"number": f"#{c.pk}"})
    assert ConversationLink.objects.filter(topic=t, conversation=c).exists()
    idea_page = agent_client.get(t.get_absolute_url()).content.decode()
    assert f"#{c.pk} Feature request: dark mode" in idea_page and "Bo Berg" in idea_page
    # Customers never see who wrote in: linked conversations are for agents only.
    assert "Bo Berg" not in Client().get(t.get_absolute_url()).content.decode()
    assert agent_client.post(f"/community/topics/{t.pk}/link/", {"number": "99999"}).status_code == 404
    question = services.topic_create(kind="question", title="How do I export?", body="x", author=people.ann)
    with pytest.raises(CommunityError):
        services.conversation_link(topic=question, conversation=c, agent=agent)


def test_linking_needs_an_agent(people, mailbox):
    from happydesk.inbox.services import conversation_open

    t = services.topic_create(
        kind="idea", title="Dark mode for the dashboard", body="Please", author=people.ann
    )
    c = conversation_open(mailbox=mailbox, customer=people.bo, subject="Feature request: dark mode")
    for client in (Client(), portal_client(people.bo)):
        r = client.post(f"/community/conversations/{c.pk}/link/", {"topic": str(t.pk)})
        assert r.status_code == 302 and r["Location"].startswith("/login/")
    assert not ConversationLink.objects.exists()
    assert Topic.objects.count() == 1
