"""The rollup kept up to date incrementally equals one rebuilt from scratch, whatever happened in between:
replies, closes, reopens, ratings and their changes, tags, saved replies, moves between mailboxes, new
conversations. And the worker runs the refresh."""

from __future__ import annotations

import pytest

from happydesk.feedback.models import Rating, RatingRequest
from happydesk.feedback.services import rating_record
from happydesk.inbox.models import Message
from happydesk.inbox.services import (
    conversation_move,
    conversation_open,
    conversation_set_status,
    conversation_tag,
    message_receive,
    reply_create,
)
from happydesk.replies.models import SavedReply
from happydesk.replies.services import saved_reply_use
from happydesk.reports.models import AgentDailyFact, DailyFact, RollupState
from happydesk.reports.rollup import rollup_rebuild, rollup_recent, rollup_refresh
from tests.reports.conftest import NY

pytestmark = pytest.mark.django_db


def snapshot() -> list[tuple]:
    facts = sorted(
        tuple(sorted((k, str(v)) for k, v in row.items() if k != "id")) for row in DailyFact.objects.values()
    )
    agents = sorted(
        tuple(sorted((k, str(v)) for k, v in row.items() if k != "id"))
        for row in AgentDailyFact.objects.values()
    )
    return facts + [("agents",)] + agents


def test_incremental_refresh_equals_a_full_rebuild(world):
    assert rollup_refresh() > 0  # the first refresh is a rebuild
    first = snapshot()
    assert rollup_refresh() > 0 and snapshot() == first  # nothing changed: same rows
    c = world.c
    customer = c["c1"].customer
    # What a day in the inbox does to old and new conversations:
    reply_create(conversation=c["c6"], author=world.alice, text="Sorry for the wait!")  # first response
    conversation_set_status(conversation=c["c4"], actor=world.bob, status="closed")  # resolved
    message_receive(  # c1's customer writes back after it was closed: a reopen
        conversation=c["c1"], customer=customer, from_name="Casey", from_address="casey@example.test",
        subject="Re: help", text="It happened again.",
    )  # fmt: skip
    conversation_tag(conversation=c["c5"], names=["refund"])
    rating_record(request=RatingRequest.objects.get(conversation=c["c9"]), value="great", comment="Thanks")
    rating_record(request=RatingRequest.objects.get(conversation=c["c2"]), value="okay")  # changed mind
    saved_reply_use(
        saved_reply=SavedReply.objects.get(name="Refund issued"), conversation=c["c5"], agent=world.bob
    )
    conversation_move(conversation=c["c8"], mailbox=world.tokyo, actor=world.alice)
    fresh = conversation_open(mailbox=world.ny, customer=customer, subject="New today", channel="chat")
    message_receive(
        conversation=fresh, customer=customer, from_name="Casey", from_address="casey@example.test",
        subject="New today", text="Hello?",
    )  # fmt: skip
    reply_create(conversation=fresh, author=world.bob, text="Hi!", status="closed")

    assert rollup_refresh() > 0
    incremental = snapshot()
    assert incremental != first
    rollup_rebuild()
    assert snapshot() == incremental
    # The changes show up where they belong.
    day_c4 = c["c4"].created_at.astimezone(NY).date()
    row = DailyFact.objects.get(day=day_c4, mailbox=world.ny, channel="email", tag=0)
    assert row.resolved == 1
    assert Rating.objects.get(conversation=c["c2"]).value == "okay"


def test_sweep_and_refresh_record_their_marks(world):
    rollup_rebuild()
    state = RollupState.objects.get()
    assert state.last_message_id == Message.objects.order_by("-pk").first().pk
    assert rollup_recent(days=3) == 2 * 3  # two mailboxes, three days each


def test_the_worker_keeps_the_rollup_fresh(world):
    from happydesk.runtime.worker import run_once

    assert not RollupState.objects.exists()
    run_once()
    assert RollupState.objects.get().refreshed_at is not None
    assert DailyFact.objects.filter(tag=0).exists()
