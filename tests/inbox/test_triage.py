"""Triage: stuck customers first, and the reasons shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from happydesk.customers.models import Customer
from happydesk.inbox.models import Conversation
from happydesk.inbox.services import conversation_feeling_set, customer_attributes_set
from happydesk.inbox.triage import priority
from happydesk.mail.inbound import process_pending
from happydesk.mail.store import store_raw
from tests.helpers import make_email

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_waiting_against_the_goal_counts_and_is_capped():
    fresh = priority(now=NOW, waiting_since=NOW - timedelta(minutes=10), goal_minutes=240)
    late = priority(now=NOW, waiting_since=NOW - timedelta(hours=6), goal_minutes=240)
    ancient = priority(now=NOW, waiting_since=NOW - timedelta(days=30), goal_minutes=240)
    assert fresh.score < late.score < ancient.score == 120
    assert fresh.reasons == [] and late.reasons == ["waiting 6 h, over the 4 h goal"]


def test_feeling_blocked_words_and_vip_each_add_a_reason():
    p = priority(
        now=NOW,
        waiting_since=None,
        goal_minutes=60,
        feeling="frustrated",
        text="I was charged twice this month",
        attributes={"vip": True},
    )
    assert p.score == 30 + 35 + 25
    assert p.reasons == ["feels frustrated", "says “charged twice”", "VIP"]
    assert priority(now=NOW, waiting_since=None, goal_minutes=60, text="Cannot log in!").reasons == [
        "says “cannot log in”"
    ]
    assert priority(now=NOW, waiting_since=None, goal_minutes=60, attributes={"plan": "Pro"}).reasons == [
        "Pro plan"
    ]
    assert priority(now=NOW, waiting_since=None, goal_minutes=60, feeling="happy").score == 0


@pytest.mark.django_db
def test_open_view_puts_stuck_customers_first_and_says_why(mailbox, agent):
    mailbox.auto_reply_enabled = False
    mailbox.save()
    for sender, subject in [
        ("a@example.test", "Question about invoices"),
        ("b@example.test", "I cannot log in"),
        ("c@example.test", "Feature idea"),
    ]:
        store_raw(
            make_email(sender=sender, subject=subject), source="smtp", envelope_to=["support@acme.test"]
        )
    process_pending()
    conversation_feeling_set(
        conversation=Conversation.objects.get(subject="Feature idea"), feeling="frustrated"
    )
    customer_attributes_set(
        customer=Customer.objects.get(emails__address="a@example.test"), attributes={"vip": True}
    )
    c = Client()
    c.force_login(agent)
    body = c.get("/inbox/").content.decode()
    order = [s for s in ("I cannot log in", "Feature idea", "Question about invoices") if s in body]
    assert sorted(order, key=body.index) == ["I cannot log in", "Feature idea", "Question about invoices"]
    assert "says “cannot log in”" in body and "feels frustrated" in body and "Stuck customers first" in body
    recent = c.get("/inbox/", {"status": "active", "order": "recent"}).content.decode()
    assert recent.index("Feature idea") < recent.index("I cannot log in")


@pytest.mark.django_db
def test_database_score_matches_the_python_score(mailbox, agent):
    """The inbox sorts by `triage_score` in SQL (SQLite and PostgreSQL date arithmetic); it must agree
    with automations/triage.py, which explains the score beside each row."""
    from django.utils import timezone

    from happydesk.customers.services import customer_for_address
    from happydesk.inbox import selectors
    from happydesk.inbox.services import conversation_open, message_receive

    now = timezone.now()
    cases = [(5, ""), (90, "worried"), (600, ""), (60 * 24 * 9, "frustrated"), (None, "")]
    for i, (minutes, feeling) in enumerate(cases):
        customer = customer_for_address(address=f"t{i}@example.test")
        c = conversation_open(mailbox=mailbox, customer=customer, subject=f"Case {i} charged twice" * (i % 2))
        message_receive(
            conversation=c,
            customer=customer,
            from_name="",
            from_address=customer.primary_email,
            subject=c.subject,
            text="hello",
        )
        conversation_feeling_set(conversation=c, feeling=feeling)
        waiting = now - timedelta(minutes=minutes) if minutes is not None else None
        Conversation.objects.filter(pk=c.pk).update(waiting_since=waiting)
    qs = selectors.conversation_list(agent=agent, status="active")
    in_sql = {c.pk: c.triage for c in selectors.triage_order(qs, now=now)}
    in_python = {c.pk: c.priority.score for c in selectors.with_priority(qs, now=now)}
    assert len(in_sql) == len(cases)
    for pk, score in in_python.items():
        assert in_sql[pk] == pytest.approx(score, abs=0.1)
    ranked = [c.pk for c in selectors.triage_order(qs, now=now)]
    assert ranked == sorted(in_python, key=lambda pk: -in_python[pk])
