"""Which conversation an inbound message belongs to: ordered, named rules, each with its reason.

Order: reply-token address -> In-Reply-To -> References -> subject `[#number]` -> new conversation.
Every rule that finds a conversation must also pass the participant check: the sender is the
conversation's customer (any of their addresses) or already on the thread. That check keeps a
stranger's mail (a newsletter sharing an In-Reply-To, a sign-up verification sent to a reply address:
the "Ticket Trick") out of someone else's conversation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from happydesk.customers.models import CustomerEmail
from happydesk.inbox.models import Conversation, Mailbox, Message
from happydesk.mail.store import split_plus

SUBJECT_REF = re.compile(r"\[#(\d{1,12})\]")


@dataclass(frozen=True)
class ThreadDecision:
    conversation: Conversation | None
    rule: str
    reason: str


@dataclass(frozen=True)
class InboundFacts:
    """What threading needs to know about a message, independent of how it was parsed."""

    sender: str
    trusted: bool
    untrusted_reason: str
    recipients: tuple[str, ...]
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str


def is_participant(conversation: Conversation, address: str) -> bool:
    """The sender is this conversation's customer (any address of theirs) or already on the thread
    (copied, or the customer of a conversation merged into it)."""
    address = address.lower()
    if address in {a.lower() for a in conversation.cc}:
        return True
    return CustomerEmail.objects.filter(customer_id=conversation.customer_id, address=address).exists()


def _by_message_ids(ids: Iterable[str]) -> list[Conversation]:
    ids = [i for i in ids if i]
    if not ids:
        return []
    rows = (
        Message.objects.filter(message_id__in=ids)
        .select_related("conversation")
        .order_by("-created_at")
        .only("message_id", "conversation")
    )
    by_id: dict[str, Conversation] = {}
    for row in rows:
        by_id.setdefault(row.message_id, row.conversation)
    return [by_id[i] for i in ids if i in by_id]


def _follow_merges(conversation: Conversation) -> Conversation:
    """A merged conversation's mail belongs to the one it was merged into."""
    seen = set()
    while conversation.merged_into_id and conversation.pk not in seen:
        seen.add(conversation.pk)
        conversation = conversation.merged_into
    return conversation


def _check(conversation: Conversation, facts: InboundFacts, rule: str, via: str) -> ThreadDecision:
    conversation = _follow_merges(conversation)
    if not facts.trusted:
        return ThreadDecision(
            None,
            "new:untrusted",
            f"{via} matched #{conversation.number}, but the sender is not trusted ({facts.untrusted_reason}): "
            "opened a new, unverified conversation",
        )
    if not is_participant(conversation, facts.sender):
        return ThreadDecision(
            None,
            "new:not-participant",
            f"{via} matched #{conversation.number}, but {facts.sender} is not on that conversation: "
            "opened a new conversation",
        )
    return ThreadDecision(
        conversation, rule, f"{via} matched #{conversation.number}; sender is on the thread"
    )


def decide(facts: InboundFacts, mailbox: Mailbox) -> ThreadDecision:
    """Apply the rules in order; the first rule that finds a conversation decides."""
    rejected: ThreadDecision | None = None

    tokens = [tag for tag in (split_plus(r)[1] for r in facts.recipients) if tag]
    if tokens:
        conversation = Conversation.objects.filter(reply_token__in=tokens).first()
        if conversation is not None:
            decision = _check(conversation, facts, "reply-token", "the reply address")
            if decision.conversation is not None:
                return decision
            rejected = rejected or decision

    for rule, ids, via in (
        ("in-reply-to", facts.in_reply_to, "In-Reply-To"),
        ("references", tuple(reversed(facts.references)), "References"),
    ):
        for conversation in _by_message_ids(ids):
            decision = _check(conversation, facts, rule, via)
            if decision.conversation is not None:
                return decision
            rejected = rejected or decision

    match = SUBJECT_REF.search(facts.subject or "")
    if match:
        conversation = Conversation.objects.filter(pk=int(match.group(1))).first()
        if conversation is not None:
            decision = _check(conversation, facts, "subject", f"the subject reference [#{match.group(1)}]")
            if decision.conversation is not None:
                return decision
            rejected = rejected or decision

    if rejected is not None:
        return rejected
    if not facts.trusted:
        return ThreadDecision(
            None, "new:untrusted", f"new conversation, marked unverified: {facts.untrusted_reason}"
        )
    return ThreadDecision(
        None, "new", "no reply address, In-Reply-To, References or subject reference matched"
    )
