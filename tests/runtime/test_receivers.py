"""The core's events: dispatched after commit to the receivers of one table, which this test pins."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from happydesk.inbox import events
from happydesk.inbox.models import Message
from happydesk.inbox.services import note_add, reply_create
from happydesk.mail import outbound
from happydesk.mail.models import OutboundMail
from happydesk.runtime.jobs import JOBS
from happydesk.runtime.receivers import RECEIVERS
from tests.helpers import customer_conversation

pytestmark = pytest.mark.django_db


PUSH = "happydesk.inbox.live.push"  # the live inbox: open lists and pages hear every change
NOTIFY = "happydesk.inbox.live.notify"  # the agents an event names hear of it on their open pages


def _names(receivers) -> list[str]:  # type: ignore[no-untyped-def]
    return [f"{r.__module__}.{r.__qualname__}" for r in receivers]


def test_every_receiver_is_in_the_one_table_and_the_table_is_this():
    """A new receiver is a deliberate change: it is added here and in runtime/receivers.py together."""
    assert {event.__name__: _names(receivers) for event, receivers in RECEIVERS.items()} == {
        "MessageReceived": ["happydesk.status.arrivals.incident_link_arrival", PUSH, NOTIFY],
        "ReplyCreated": [
            "happydesk.runtime.receivers.reply_to_outbox",
            "happydesk.runtime.receivers.saved_reply_uses",
            PUSH,
        ],
        "NoteAdded": ["happydesk.mail.notices.mentions_notify", PUSH, NOTIFY],
        "StatusChanged": [PUSH],
        "AssigneeChanged": ["happydesk.mail.notices.assignment_notify", PUSH, NOTIFY],
        "TagsChanged": [PUSH],
        "ConversationsMerged": [PUSH],
        "MessageSplit": [PUSH],
        "SecurityFlagged": ["happydesk.status.security.security_escalate"],
    }
    assert set(RECEIVERS) == set(events.EVENT_TYPES)


def test_the_job_registry_is_this():
    assert [(j.name, j.interval()) for j in JOBS] == [
        ("mail-inbound", None),
        ("mail-outbox", None),
        ("mail-outbox-sweep", timedelta(seconds=60)),
        ("imap-poll", timedelta(seconds=JOBS[3].interval().total_seconds())),  # from settings
        ("wake-snoozed", timedelta(seconds=30)),
        ("status-security-sweep", timedelta(minutes=2)),
        ("status-replies", timedelta(seconds=5)),
        ("status-link-sweep", timedelta(minutes=2)),
        ("status-contact-reminders", timedelta(minutes=1)),
        ("status-early-warning", timedelta(minutes=10)),
        ("reports-refresh", timedelta(minutes=5)),
        ("reports-sweep", timedelta(hours=24)),
        ("reports-mail", timedelta(minutes=10)),
        ("privacy-retention", timedelta(hours=1)),
        ("search-days-prune", timedelta(hours=6)),
    ]


def test_a_table_missing_an_event_is_refused_at_install():
    incomplete = {k: v for k, v in RECEIVERS.items() if k is not events.TagsChanged}
    with pytest.raises(ValueError, match="TagsChanged"):
        events.receivers_install(incomplete)


@pytest.fixture
def heard(monkeypatch):  # type: ignore[no-untyped-def]
    """Every event announced, as the receivers saw it (the real receivers still run after it)."""
    seen: list[events.Event] = []
    table = {event: (seen.append, *receivers) for event, receivers in RECEIVERS.items()}
    monkeypatch.setattr(events, "_table", table)
    return seen


def test_a_change_rolled_back_announces_nothing(mailbox, agent, heard):
    conversation = customer_conversation(mailbox, address="a@example.test", name="A", subject="Hi", text="Hi")
    heard.clear()
    with pytest.raises(RuntimeError), transaction.atomic():
        note_add(conversation=conversation, author=agent, text="thinking")
        assert heard == []  # not before the commit
        raise RuntimeError("the request failed after the note")
    assert heard == []
    note = note_add(conversation=conversation, author=agent, text="again")
    assert heard == [events.NoteAdded(conversation.pk, note.pk, agent.pk, ())]


def test_a_failing_receiver_is_logged_and_the_next_one_still_runs(monkeypatch, receiver_errors):
    calls = []

    def broken(event):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    table = {**RECEIVERS, events.TagsChanged: (broken, calls.append)}
    monkeypatch.setattr(events, "_table", table)
    events.dispatch(events.TagsChanged(conversation_id=1, added=("x",)))
    assert calls == [events.TagsChanged(conversation_id=1, added=("x",))]
    assert [r.getMessage() for r in receiver_errors] == [
        "receiver test_a_failing_receiver_is_logged_and_the_next_one_still_runs.<locals>.broken failed for "
        "TagsChanged(conversation_id=1, added=('x',), removed=())"
    ]
    receiver_errors.clear()  # expected here


def test_a_reply_whose_receiver_never_ran_is_queued_by_the_sweep(mailbox, agent, monkeypatch):
    """The process ends between the commit and the dispatch: the reply is stored as queued with no
    outbox row. The sweep queues it; nothing is lost and nothing is queued twice."""
    conversation = customer_conversation(mailbox, address="b@example.test", name="B", subject="Q", text="Q?")
    table = {**RECEIVERS, events.ReplyCreated: ()}
    monkeypatch.setattr(events, "_table", table)  # as if the receivers never ran
    reply = reply_create(conversation=conversation, author=agent, text="Here is the answer.")
    assert reply.delivery == Message.Delivery.QUEUED
    assert not OutboundMail.objects.filter(message=reply).exists()
    assert outbound.replies_unqueued_enqueue() == 0  # too recent: its receiver may still be running
    assert outbound.replies_unqueued_enqueue(older_than=timedelta(0)) == 1
    assert outbound.replies_unqueued_enqueue(older_than=timedelta(0)) == 0
    assert outbound.send_due() == 1
    reply.refresh_from_db()
    assert reply.delivery == Message.Delivery.SENT


def test_a_reply_is_queued_once_after_commit_with_its_rating_question(mailbox, agent, heard):
    from django.core import mail

    mailbox.rating_mode = "every"
    mailbox.save()
    conversation = customer_conversation(mailbox, address="c@example.test", name="C", subject="Q", text="Q?")
    reply = reply_create(conversation=conversation, author=agent, text="Done.", status="closed")
    assert events.ReplyCreated(conversation.pk, reply.pk, agent.pk, closing=True) in heard
    assert events.StatusChanged(conversation.pk, agent.pk, "active", "closed") in heard
    row = OutboundMail.objects.get(message=reply)
    assert "How was this reply?" in row.footer_text
    outbound.send_due()
    (sent,) = [m for m in mail.outbox if m.subject.startswith("Re: Q")]
    assert "How was this reply?" in sent.body and sent.body.index("Done.") < sent.body.index("How was")
