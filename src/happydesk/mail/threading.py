"""Which conversation an inbound message belongs to: ordered, named rules, each with its reason.

Threading trusts secrets, not numbers or From headers (docs/adr/0004-threading-trusts-secrets.md):
- the conversation's secret reply address, or In-Reply-To/References naming one of OUR Message-IDs (they
  carry a random part), joins when the sender is a participant and authentication did not fail;
- a subject `[#number]` (numbers are sequential, no secret) or a customer's own Message-ID (everyone on
  their To and Cc has it) joins only when the sender is verified (a DMARC-aligned pass) and a participant;
- anything else opens a new conversation; when it pointed at an existing one, the new conversation is
  marked unverified and "possibly the same as #N", for an agent to merge in one click.
The participant check (the sender is the conversation's customer or already on the thread) keeps a
stranger's mail out of someone else's conversation even with a secret (the "Ticket Trick").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from happydesk.customers.models import CustomerEmail
from happydesk.inbox.models import Conversation, Mailbox, Message
from happydesk.mail.store import split_plus

SUBJECT_REF = re.compile(r"\[#(\d{1,12})\]")


@dataclass(frozen=True)
class ThreadDecision:
    conversation: Conversation | None
    rule: str
    reason: str
    # A rule pointed at this conversation, but the sender could not be trusted (authentication failed,
    # or no secret and not verified): shown to the agent as "possibly the same as", merged in one click.
    pointed_at: Conversation | None = None


@dataclass(frozen=True)
class InboundFacts:
    """What threading needs to know about a message, independent of how it was parsed."""

    sender: str
    verified: bool  # a DMARC-aligned pass (our own check, or a trusted server's Authentication-Results)
    failed: bool  # authentication failed outright (DMARC fail) or the From header is defective
    untrusted_reason: str  # why the sender is not verified, in words an agent understands
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


OUR_KINDS = {Message.Kind.REPLY, Message.Kind.AUTO_REPLY}


def _by_message_ids(ids: Iterable[str]) -> list[tuple[Conversation, bool]]:
    """The conversations these Message-IDs belong to, each with whether the id is one of ours (replies,
    auto-replies: 64 random bits, a secret). A customer's own Message-ID is no secret: everyone on the
    To and Cc of their mail has it, so it counts only for a verified sender."""
    ids = [i for i in ids if i]
    if not ids:
        return []
    rows = (
        Message.objects.filter(message_id__in=ids)
        .select_related("conversation")
        .order_by("-created_at")
        .only("message_id", "kind", "conversation")
    )
    by_id: dict[str, tuple[Conversation, bool]] = {}
    for row in rows:
        ours = row.kind in OUR_KINDS
        if row.message_id not in by_id or (ours and not by_id[row.message_id][1]):
            by_id[row.message_id] = (row.conversation, ours)
    return [by_id[i] for i in ids if i in by_id]


def _follow_merges(conversation: Conversation) -> Conversation:
    """A merged conversation's mail belongs to the one it was merged into."""
    seen = set()
    while conversation.merged_into is not None and conversation.pk not in seen:
        seen.add(conversation.pk)
        conversation = conversation.merged_into
    return conversation


def _check(
    conversation: Conversation, facts: InboundFacts, rule: str, via: str, *, secret: bool
) -> ThreadDecision:
    conversation = _follow_merges(conversation)
    n = conversation.number
    if facts.failed:
        return ThreadDecision(
            None,
            "new:untrusted",
            f"{via} matched #{n}, but sender authentication failed ({facts.untrusted_reason}): "
            "opened a new, unverified conversation",
            conversation,
        )
    if not secret and not facts.verified:
        return ThreadDecision(
            None,
            "new:unverified",
            f"{via} pointed at #{n}, but that is no secret and the sender is not verified "
            f"({facts.untrusted_reason}): opened a new, unverified conversation",
            conversation,
        )
    if not is_participant(conversation, facts.sender):
        return ThreadDecision(
            None,
            "new:not-participant",
            f"{via} matched #{n}, but {facts.sender} is not on that conversation: opened a new conversation",
        )
    how = "sender verified" if facts.verified else "sender not verified, but the reference is our secret"
    return ThreadDecision(conversation, rule, f"{via} matched #{n}; sender is on the thread; {how}")


def decide(facts: InboundFacts, mailbox: Mailbox) -> ThreadDecision:
    """Apply the rules in order; the first rule that finds a conversation decides."""
    rejected: ThreadDecision | None = None

    tokens = [tag for tag in (split_plus(r)[1] for r in facts.recipients) if tag]
    if tokens:
        found = Q(pk__in=[])
        for token in tokens:
            found |= Conversation.with_reply_token(token)
        conversation = Conversation.objects.filter(found).first()
        if conversation is not None:
            decision = _check(conversation, facts, "reply-token", "the reply address", secret=True)
            if decision.conversation is not None:
                return decision
            rejected = rejected or decision

    for rule, ids, via in (
        ("in-reply-to", facts.in_reply_to, "In-Reply-To"),
        ("references", tuple(reversed(facts.references)), "References"),
    ):
        for conversation, ours in _by_message_ids(ids):
            decision = _check(conversation, facts, rule, via, secret=ours)
            if decision.conversation is not None:
                return decision
            rejected = rejected or decision

    match = SUBJECT_REF.search(facts.subject or "")
    if match:
        conversation = Conversation.objects.filter(pk=int(match.group(1))).first()
        if conversation is not None:
            decision = _check(
                conversation, facts, "subject", f"the subject reference [#{match.group(1)}]", secret=False
            )
            if decision.conversation is not None:
                return decision
            rejected = rejected or decision

    if rejected is not None:
        return rejected
    if not facts.verified:
        return ThreadDecision(
            None, "new:unverified", f"new conversation, sender not verified: {facts.untrusted_reason}"
        )
    return ThreadDecision(
        None, "new", "no reply address, In-Reply-To, References or subject reference matched; sender verified"
    )
