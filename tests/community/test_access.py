"""Walk every community route with real rows behind it, as a visitor and as another signed-in customer:
none may show a private conversation, nor a moved or held post, nor who wrote in a linked conversation."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from happydesk.community import services
from happydesk.customers.services import customer_for_address
from happydesk.inbox.services import conversation_open, message_receive, note_add
from tests.community.conftest import portal_client

pytestmark = pytest.mark.django_db
SECRET = "victim-secret-9c2e"


def community_patterns(entries=None, prefix=""):  # type: ignore[no-untyped-def]
    for entry in entries if entries is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            yield from community_patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and (prefix + str(entry.pattern)).startswith("community/"):
            yield prefix + str(entry.pattern)


def test_no_community_route_leaks_private_things(people, agent, mailbox):
    victim = customer_for_address(address="victim@example.test", name=f"Victim {SECRET}")
    c = conversation_open(mailbox=mailbox, customer=victim, subject=f"Subject {SECRET}")
    message_receive(conversation=c, customer=victim, from_name="V", from_address="victim@example.test",
                    subject="s", text=f"Body {SECRET}")  # fmt: skip
    note_add(conversation=c, author=agent, text=f"Note {SECRET}")
    idea = services.topic_create(
        kind="idea", title="Dark mode for the dashboard", body="Please", author=people.ann
    )
    services.conversation_link(topic=idea, conversation=c, agent=agent)
    moved = services.topic_create(
        kind="question", title=f"Moved {SECRET}", body=f"Card {SECRET}", author=victim
    )
    services.post_to_conversation(topic=moved, mailbox=mailbox, agent=agent)
    held = services.post_create(
        topic=idea, body=f"Held https://a.x https://b.x https://c.x {SECRET}", author=victim
    )
    services.customer_ban(customer=victim, reason=f"Reason {SECRET}", agent=agent)
    news = services.announcement_save(title=f"Draft {SECRET}", body="x", published_at=None, author=agent)
    values = {"topic_id": idea.pk, "post_id": held.pk, "announcement_id": news.pk, "customer_id": victim.pk,
              "number": c.pk, "slug": "x"}  # fmt: skip
    other = {**values, "topic_id": moved.pk, "slug": moved.slug}
    visitors = {"anonymous": Client(), "other customer": portal_client(people.bo)}
    checked = 0
    for pattern in community_patterns():
        for params in (values, other):
            path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m, p=params: str(p[m.group(1)]), pattern)
            for who, client in visitors.items():
                for method in ("get", "post"):
                    r = getattr(client, method)(path, follow=True)
                    assert SECRET not in r.content.decode(errors="replace"), (who, method, path)
                    checked += 1
    assert checked > 100
