"""Triage order: does the inbox put the right people first?

Builds the labelled conversations of tests/fixtures/quality/triage.json through our real services (the
customer writes, an agent answers between two of their messages, all at times in the past), reads the
open view in the order the inbox list sorts it (`inbox.selectors.triage_ids`, the database's score), and
counts the pairs in different tiers that come out in the expected order. Aim: 90%.
`--fixture PATH` measures another labelled file (triage_holdout.json: phrasing written after the word
lists, to see they were not fitted to the main fixture); `-v` prints the order and the pairs out of it.
"""

from __future__ import annotations

import json
import secrets
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from happydesk.inbox.models import Mailbox

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "quality" / "triage.json"
AIM = 0.90


@dataclass
class Result:
    in_order: int
    pairs: int
    order: list[dict]  # the fixture's conversations as the inbox lists them
    wrong: list[tuple[dict, dict]]  # (listed first, expected first)

    @property
    def share(self) -> float:
        return self.in_order / self.pairs if self.pairs else 0.0


def build(cases: list[dict], *, now: datetime) -> dict[int, dict]:
    """Each case as a real conversation; returns conversation id -> case."""
    from happydesk.accounts.services import agent_create
    from happydesk.customers.services import customer_for_address
    from happydesk.inbox.services import (
        conversation_feeling_set,
        conversation_open,
        customer_attributes_set,
        mailbox_create,
        message_receive,
        reply_create,
    )

    agent = agent_create(email="lead@quality.test", name="Lead", password=secrets.token_urlsafe(), admin=True)
    mailboxes: dict[int, Mailbox] = {}
    built = {}
    for i, case in enumerate(cases):
        goal = case["goal_minutes"]
        if goal not in mailboxes:
            mailboxes[goal] = mailbox_create(
                address=f"goal{goal}@quality.test",
                name=f"Goal {goal} min",
                response_goal_minutes=goal,
                auto_reply_enabled=False,
            )
        customer = customer_for_address(address=f"c{i}@customer.test", name=f"Customer {i}")
        if case.get("attributes"):
            customer_attributes_set(customer=customer, attributes=case["attributes"])
        texts = case["messages"]
        last = now - timedelta(minutes=case["waited_minutes"])
        times = [last - timedelta(hours=3 * (len(texts) - 1 - n)) for n in range(len(texts))]
        conversation = conversation_open(
            mailbox=mailboxes[goal], customer=customer, subject=case["subject"], at=times[0]
        )
        for n, (text, at) in enumerate(zip(texts, times, strict=True)):
            if n:
                reply_create(
                    conversation=conversation,
                    author=agent,
                    text="Thanks for writing! Here is what to try.",
                    at=at - timedelta(hours=2),
                )
            message_receive(
                conversation=conversation,
                customer=customer,
                from_name=customer.name,
                from_address=customer.primary_email,
                subject=case["subject"] if not n else f"Re: {case['subject']}",
                text=text,
                sender_verified=True,
                at=at,
            )
        if case.get("feeling"):
            conversation_feeling_set(conversation=conversation, feeling=case["feeling"])
        built[conversation.pk] = case
    return built


def measure(*, now: datetime | None = None, fixture: Path = FIXTURE) -> Result:
    """Build the fixture in the current database and compare the inbox order with the labels."""
    from django.utils import timezone

    from happydesk.accounts.models import User
    from happydesk.inbox import selectors

    now = now or timezone.now()
    cases = json.loads(fixture.read_text(encoding="utf-8"))["conversations"]
    built = build(cases, now=now)
    agent = User.objects.get(email="lead@quality.test")
    qs = selectors.conversation_list(agent=agent, status="active")
    order = [built[pk] for pk in selectors.triage_ids(qs, now=now) if pk in built]
    assert len(order) == len(cases), f"{len(cases) - len(order)} conversations missing from the open view"
    in_order, pairs, wrong = 0, 0, []
    for first, second in combinations(order, 2):
        if first["tier"] == second["tier"]:
            continue
        pairs += 1
        if first["tier"] < second["tier"]:
            in_order += 1
        else:
            wrong.append((first, second))
    return Result(in_order, pairs, order, wrong)


def main() -> int:
    from quality._django import setup

    setup()
    args = sys.argv[1:]
    fixture = Path(args[args.index("--fixture") + 1]) if "--fixture" in args else FIXTURE
    result = measure(fixture=fixture)
    if "-v" in args:
        for n, case in enumerate(result.order, 1):
            print(f"{n:3} tier {case['tier']}  {case['id']}")
        for first, second in result.wrong:
            print(f"    out of order: {first['id']} (tier {first['tier']}) before {second['id']}")
    print(
        f"triage: {result.in_order} of {result.pairs} pairs in the expected order "
        f"({result.share:.0%}) — aim {AIM:.0%}"
    )
    return 0 if result.share >= AIM else 1


if __name__ == "__main__":
    sys.exit(main())
