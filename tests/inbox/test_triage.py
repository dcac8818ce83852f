"""Triage: stuck customers first, and the reasons shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from happydesk.customers.models import Customer
from happydesk.inbox.models import Conversation
from happydesk.inbox.services import conversation_feeling_set, customer_attributes_set
from happydesk.inbox.triage import priority, standing
from happydesk.mail.inbound import process_pending
from happydesk.mail.store import store_raw
from tests.helpers import make_email

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_waiting_against_the_goal_counts_and_is_never_capped():
    fresh = priority(now=NOW, waiting_since=NOW - timedelta(minutes=10), goal_minutes=240)
    late = priority(now=NOW, waiting_since=NOW - timedelta(hours=6), goal_minutes=240)
    at_knee = priority(now=NOW, waiting_since=NOW - timedelta(hours=12), goal_minutes=240)
    ancient = priority(now=NOW, waiting_since=NOW - timedelta(days=30), goal_minutes=240)
    assert fresh.score < late.score < at_knee.score == 120 < ancient.score
    assert fresh.reasons == [] and late.reasons == ["waiting 6 h, over the 4 h goal"]


def test_a_forgotten_customer_rises_above_a_fresh_vip():
    """The report: an 84-day wait ranked below a 15-hour VIP because waiting stopped at 3 goals."""
    forgotten = priority(now=NOW, waiting_since=NOW - timedelta(days=84), goal_minutes=24 * 60)
    vip = priority(
        now=NOW, waiting_since=NOW - timedelta(hours=15), goal_minutes=240, attributes={"vip": True}
    )
    assert forgotten.score > vip.score


def test_feeling_stuck_words_and_vip_each_add_a_reason():
    p = priority(
        now=NOW,
        waiting_since=None,
        goal_minutes=60,
        feeling="frustrated",
        text="I was charged twice this month",
        attributes={"vip": True},
    )
    assert p.score == 180 + 30 + 25
    assert p.reasons == ["says “charged twice”", "feels frustrated", "VIP"]
    assert priority(now=NOW, waiting_since=None, goal_minutes=60, text="Cannot log in!").reasons == [
        "says “cannot log in”"
    ]
    assert priority(now=NOW, waiting_since=None, goal_minutes=60, attributes={"plan": "Pro"}).reasons == [
        "Pro plan"
    ]
    assert priority(now=NOW, waiting_since=None, goal_minutes=60, feeling="happy").score == 0


@pytest.mark.parametrize(
    "text, reason",
    [
        (
            "Ich kann mich seit gestern nicht mehr anmelden.",
            "says “kann mich seit gestern nicht mehr anmelden”",
        ),
        ("J'ai été prélevé deux fois ce mois-ci.", "says “prélevé deux fois”"),
        ("No puedo iniciar sesión desde ayer.", "says “no puedo iniciar sesión”"),
        ("Das ist das dritte Mal. Eine Frechheit!", "sounds angry: “dritte mal”"),
        ("C'est inadmissible.", "sounds angry: “inadmissible”"),
        ("Sigo esperando una respuesta.", "sounds frustrated: “sigo esperando”"),
    ],
)
def test_the_words_count_in_german_french_and_spanish(text, reason):
    assert reason in standing(text=text).reasons


@pytest.mark.parametrize(
    "text",
    [
        "Great, thank you!",
        "Perfect, all sorted. I can see the refund now.",
        "Thanks, that worked.",
        "Danke, hat geklappt!",
        "Merci, c'est réglé !",
        "Gracias, ya funciona.",
    ],
)
def test_a_thank_you_that_closes_the_matter_lowers_priority_and_says_why(text):
    fixed = standing(text=text, subject="Double charge on my card", feeling="frustrated")
    assert fixed.done and fixed.score < 0 and fixed.reasons == ["says thanks: probably done"]


@pytest.mark.parametrize(
    "text",
    [
        "Thanks, but it still fails.",
        "Danke, aber der Import bricht immer noch ab.",
        "Merci, mais ça ne marche toujours pas.",
        "Gracias, pero sigue sin funcionar.",
        "Thanks, that worked! One more question: can I send it to two addresses?",
        "Please send me the October invoice. Thanks!",
        "Can we require two-factor sign-in? Thanks in advance!",
    ],
)
def test_a_thank_you_with_something_still_open_is_not_done(text):
    assert not standing(text=text).done


def test_the_subject_counts_only_while_the_latest_message_is_the_first():
    assert standing(subject="Cannot log in", text="Hello").score == 180
    assert standing(subject="Cannot log in", text="").score == 180
    assert standing(subject="", text="Hello").score == 0


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


def _customer_writes(mailbox, address: str, subject: str, texts: list[str], agent, *, hours_ago: float):
    from django.utils import timezone

    from happydesk.customers.services import customer_for_address
    from happydesk.inbox.services import conversation_open, message_receive, reply_create

    customer = customer_for_address(address=address)
    start = timezone.now() - timedelta(hours=hours_ago + 3 * len(texts))
    c = conversation_open(mailbox=mailbox, customer=customer, subject=subject, at=start)
    for n, text in enumerate(texts):
        at = start + timedelta(hours=3 * n)
        if n:
            reply_create(
                conversation=c, author=agent, text="Here is what to try.", at=at - timedelta(hours=1)
            )
        message_receive(
            conversation=c,
            customer=customer,
            from_name="",
            from_address=address,
            subject=subject,
            text=text,
            at=at,
        )
    c.refresh_from_db()
    return c


@pytest.mark.django_db
def test_triage_reads_what_the_customer_said_last(mailbox, agent):
    """The report: 'Perfect, all sorted' stayed flagged 'double charge', from the subject, forever."""
    sorted_out = _customer_writes(
        mailbox,
        "a@example.test",
        "Double charge",
        ["I see a double charge.", "Perfect, all sorted."],
        agent,
        hours_ago=20,
    )
    assert sorted_out.priority_reasons == ["says thanks: probably done"]
    assert sorted_out.waiting_since is None  # nobody waits for an answer to a thank-you
    still = _customer_writes(
        mailbox,
        "b@example.test",
        "Export",
        ["How do I export?", "Thanks, but it still fails."],
        agent,
        hours_ago=1,
    )
    assert still.priority_reasons == ["says “still fails”"] and still.waiting_since is not None
    # A change of feeling restores the standing from the latest message, not from the subject.
    conversation_feeling_set(conversation=sorted_out, feeling="worried")
    sorted_out.refresh_from_db()
    assert sorted_out.priority_reasons == ["says thanks: probably done"]


@pytest.mark.django_db
def test_triage_order_meets_its_aim_on_the_labelled_fixture():
    """quality/triage.py: the inbox's own sort against 65 labelled conversations in four languages."""
    from quality.triage import AIM, measure

    result = measure()
    wrong = [(a["id"], b["id"]) for a, b in result.wrong[:10]]
    assert result.pairs >= 1000 and result.share >= AIM, wrong
