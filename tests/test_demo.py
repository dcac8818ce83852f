"""`happydesk demo`: a believable, internally consistent workspace that never queues a single mail."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from happydesk.accounts.models import User
from happydesk.customers.models import Customer, CustomerEmail
from happydesk.inbox.models import Conversation, Mailbox, Message
from happydesk.inbox.services import preview_text
from happydesk.mail.models import OutboundMail
from happydesk.runtime.demo import DEMO_ADMIN_EMAIL, DEMO_PASSWORD, SCENARIOS, load_demo
from tests.helpers import password_sign_in


def run_demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def check_consistency(conversation: Conversation, thread: list[Message]) -> None:
    """Every denormalised field of a conversation agrees with its messages, and threading headers chain."""
    customer_msgs = [m for m in thread if m.kind == Message.Kind.CUSTOMER]
    replies = [m for m in thread if m.kind == Message.Kind.REPLY]
    assert thread[0].kind == Message.Kind.CUSTOMER, conversation.pk
    assert customer_msgs
    assert conversation.created_at == thread[0].created_at
    assert conversation.first_response_at == (replies[0].created_at if replies else None)
    assert conversation.message_count == len(customer_msgs) + len(replies)
    assert conversation.last_customer_message_at == customer_msgs[-1].created_at
    assert conversation.last_activity_at == max(m.created_at for m in thread)
    assert conversation.preview == preview_text(customer_msgs[-1].text)
    assert (conversation.resolved_at is not None) == (conversation.status == Conversation.Status.CLOSED)
    if conversation.status == Conversation.Status.SPAM:
        assert not replies
    times = [m.created_at for m in thread]
    assert times == sorted(times)

    last_customer: Message | None = None
    last_reply: Message | None = None
    for m in thread:
        if m.kind == Message.Kind.CUSTOMER:
            assert re.fullmatch(r"demo\.\d+@customer\.example", m.message_id)
            assert m.threading_rule == "demo"
            assert m.in_reply_to == (last_reply.message_id if last_reply else "")
            if last_reply is not None:
                assert m.references.split()[-1] == last_reply.message_id
                assert f"[#{conversation.pk}]" in m.subject
                assert "wrote:" in m.quoted
            last_customer = m
        elif m.kind == Message.Kind.REPLY:
            assert last_customer is not None and m.author is not None
            assert m.delivery == Message.Delivery.SENT and m.sent_at is not None
            assert m.message_id.startswith(f"hd.{conversation.pk}.")
            assert m.in_reply_to == last_customer.message_id
            assert m.references.split()[-1] == last_customer.message_id
            assert m.to == [last_customer.from_address]
            assert m.subject.endswith(f"[#{conversation.pk}]")
            last_reply = m
        elif m.kind == Message.Kind.NOTE:
            assert m.author is not None and m.text


@pytest.mark.django_db
def test_small_demo_is_consistent_and_sends_nothing(client) -> None:  # type: ignore[no-untyped-def]
    before = timezone.now()
    output = run_demo("--seed", "1", "--conversations", "120")
    assert "Demo workspace loaded" in output and DEMO_ADMIN_EMAIL in output

    assert Mailbox.objects.count() == 2
    support = Mailbox.objects.get(address="support@acme-demo.test")
    assert support.name == "Acme Support" and support.signature and support.self_help_links
    assert Mailbox.objects.get(address="billing@acme-demo.test").name == "Acme Billing"

    assert User.objects.count() == 5
    admin = User.objects.get(email=DEMO_ADMIN_EMAIL)
    assert admin.is_admin and admin.name == "Dana Demo"
    assert all(u.check_password(DEMO_PASSWORD) for u in User.objects.all())
    assert password_sign_in(client, DEMO_ADMIN_EMAIL, DEMO_PASSWORD)

    assert Conversation.objects.count() == 120
    from happydesk.feedback.models import Rating, RatingRequest

    ratings = list(Rating.objects.select_related("conversation"))
    assert ratings and all(r.conversation.status == "closed" for r in ratings)
    assert RatingRequest.objects.count() == RatingRequest.objects.values("conversation").distinct().count()
    assert Customer.objects.count() == 24
    assert CustomerEmail.objects.count() >= 24
    assert not OutboundMail.objects.exists()
    assert not Message.objects.exclude(delivery__in=["", Message.Delivery.SENT]).exists()
    # The demo's snippets leave nothing an agent could not fill: "Offer a call" fills the booking link.
    from happydesk.inbox.placeholders import find_unfilled
    from happydesk.replies.models import SavedReply
    from happydesk.replies.services import saved_reply_use

    call = saved_reply_use(
        saved_reply=SavedReply.objects.get(name="Offer a call"),
        conversation=Conversation.objects.filter(mailbox=support).first(),
        agent=admin,
    )
    assert support.call_link in call and not find_unfilled(call)

    messages = Message.objects.select_related("author").order_by("created_at", "id")
    by_conversation: dict[int, list[Message]] = {}
    for m in messages:
        by_conversation.setdefault(m.conversation_id, []).append(m)
    conversations = list(Conversation.objects.order_by("id"))
    for conversation in conversations:
        check_consistency(conversation, by_conversation[conversation.pk])
    ids = [m.message_id for m in messages if m.message_id]
    assert len(ids) == len(set(ids))

    statuses = Counter(c.status for c in conversations)
    assert statuses.most_common(1)[0][0] == Conversation.Status.CLOSED
    assert len(statuses) >= 3 and statuses[Conversation.Status.SPAM] >= 1
    assert Message.objects.filter(kind=Message.Kind.NOTE).exists()
    assert sum(1 for c in conversations if c.first_response_at) > 100
    assert Conversation.objects.filter(tags__name="billing").exists()

    oldest = before - timedelta(days=90)
    assert all(oldest <= m.created_at <= timezone.now() for m in messages)
    assert all(oldest <= (m.sent_at or m.created_at) <= timezone.now() for m in messages)

    # Loaded once: --once is a quiet success, a plain rerun refuses, and neither adds anything.
    counts = (Conversation.objects.count(), Message.objects.count(), Customer.objects.count())
    assert "demo data already loaded" in run_demo("--once")
    with pytest.raises(CommandError, match="already loaded"):
        run_demo()
    assert (Conversation.objects.count(), Message.objects.count(), Customer.objects.count()) == counts
    assert User.objects.count() == 5


@pytest.mark.django_db
def test_once_loads_when_absent() -> None:
    assert "Demo workspace loaded" in run_demo("--once", "--conversations", "20")
    assert Conversation.objects.count() == 20
    assert User.objects.filter(email=DEMO_ADMIN_EMAIL).exists()


class _Rollback(Exception):
    pass


def _snapshot(seed: int, now: datetime) -> list[tuple]:
    rows: list[tuple] = []
    try:
        with transaction.atomic():
            load_demo(seed=seed, conversations=40, now=now)
            rows = list(
                Conversation.objects.order_by("id").values_list(
                    "subject", "status", "message_count", "created_at", "customer__name", "preview"
                )
            )
            raise _Rollback
    except _Rollback:
        return rows


@pytest.mark.django_db
def test_same_seed_same_demo() -> None:
    now = datetime(2025, 3, 14, 15, 0, tzinfo=UTC)
    first = _snapshot(7, now)
    assert first == _snapshot(7, now)
    assert first != _snapshot(8, now)


def test_every_scenario_is_complete() -> None:
    assert len(SCENARIOS) >= 40
    for scenario in SCENARIOS:
        assert scenario.subjects and scenario.openings and scenario.tags
        assert 1 <= len(scenario.replies) <= 3
        assert len(scenario.followups) == len(scenario.replies), scenario.key


@pytest.mark.django_db
def test_default_size() -> None:
    # How long it takes is a benchmark's question, not a test's (it varied 20-45 s with the machine's load).
    output = run_demo("--once")
    assert "1000 conversations" in output

    assert Conversation.objects.count() == 1000
    assert Customer.objects.count() == 200
    statuses = Counter(Conversation.objects.values_list("status", flat=True))
    assert statuses["closed"] > 700
    assert 10 <= statuses["spam"] <= 50
    assert statuses["active"] + statuses["pending"] >= 50
    weekdays = Counter(d.weekday() for d in Conversation.objects.values_list("created_at", flat=True))
    assert sum(weekdays[d] for d in range(5)) / 5 > 2 * (weekdays[5] + weekdays[6]) / 2 > 0
    with_notes = Conversation.objects.filter(messages__kind=Message.Kind.NOTE).distinct().count()
    assert 80 <= with_notes <= 250
    assert Customer.objects.filter(emails__isnull=False).distinct().count() == 200
    assert CustomerEmail.objects.values("customer").distinct().count() == 200
    assert CustomerEmail.objects.count() > 210  # some customers write from two addresses
    assert Customer.objects.exclude(company="").count() > 60
    assert Customer.objects.filter(attributes__vip=True).exists()
    assert not OutboundMail.objects.exists()


@pytest.mark.django_db
def test_demo_status_history_is_believable() -> None:
    from django.test import Client

    from happydesk.status.demo import load_demo_status
    from happydesk.status.models import Component, Incident

    demo = load_demo_status()
    assert Component.objects.count() == 6
    assert {c.group.name for c in demo.values()} == {"Product", "Notifications and billing"}
    assert set(Component.objects.values_list("state", flat=True)) == {"operational"}
    kinds = list(Incident.objects.values_list("kind", "state"))
    assert kinds.count(("incident", "resolved")) == 3
    assert ("maintenance", "completed") in kinds and ("maintenance", "scheduled") in kinds
    assert not Incident.objects.exclude(state__in=["resolved", "completed", "scheduled"]).exists()
    assert not OutboundMail.objects.filter(kind__startswith="status-").exists()
    page = Client().get("/status/").content.decode()
    assert "All systems operational" in page
    assert "99.97% uptime" in page  # the dashboard's 38 minutes down, computed from its history
    assert len(re.findall(r'class="bar lvl-\w+" title="\w{3} \d+: [^"]+"', page)) == 6 * 90


@pytest.mark.django_db
def test_demo_community() -> None:
    from happydesk.community.models import Announcement, ConversationLink, Post, Topic

    load_demo(conversations=120)
    assert Topic.objects.filter(kind="question").count() >= 10
    assert Topic.objects.filter(kind="question", accepted_post__isnull=False).count() >= 5
    ideas = Topic.objects.filter(kind="idea", merged_into__isnull=True)
    assert ideas.count() == 8 and len(set(ideas.values_list("status", flat=True))) == 5
    assert Topic.objects.filter(kind="known_issue").count() == 1
    assert Topic.objects.filter(state="held").count() == 1
    assert Announcement.objects.count() == 4 and Post.objects.count() > 10
    assert ConversationLink.objects.exists()
    assert not OutboundMail.objects.exists()
