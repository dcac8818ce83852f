"""Community email: new answers to a topic's followers, and the one-time "shipped" / "fixed" notice.

Everything is queued with mail.outbound.notice_enqueue, the outbox every email that is not a
conversation reply goes through, inside the caller's transaction: a notice exists exactly when the change
that caused it was committed, and the worker sends it with the usual retries.

Customers of linked conversations get the shipped/fixed notice as a notice too, not as a reply in their
conversation. One channel makes "exactly one email per person across voters, followers and linked
conversations" a single dedupe by address; a reply would also reopen or re-pend the conversation, count in
response-time reports and could ask for a rating. A private note in each linked conversation records
that its customer was told.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.conf import settings
from django.template.loader import render_to_string

from happydesk.community.models import (
    ConversationLink,
    Follow,
    Notified,
    Post,
    State,
    StatusChange,
    Topic,
    Vote,
)
from happydesk.customers.models import CustomerEmail
from happydesk.inbox.models import Conversation, Mailbox
from happydesk.mail.outbound import notice_enqueue
from happydesk.web.markdown import plain_text

EXCERPT = 600
REASON_WORDS = {"voted": "voted for it", "followed": "followed it", "conversation": "wrote to us about it"}


def _key(kind: str, pk: int, address: str) -> str:
    """The outbox's dedupe key: a second queueing of the same notice returns the first row."""
    return f"community-{kind}:{pk}:{hashlib.sha256(address.encode()).hexdigest()[:24]}"


def absolute(path: str) -> str:
    """A full link for an email."""
    return settings.BASE_URL + path


@dataclass
class Recipient:
    address: str
    name: str = ""
    reasons: list[str] = field(default_factory=list)
    mailbox_id: int | None = None  # the mailbox of their linked conversation: the notice comes from it

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else ""


class Recipients(dict[str, Recipient]):
    """People to email, one entry per address (lowercased), each with why they are on the list."""

    def add(self, address: str, name: str, reason: str, *, mailbox_id: int | None = None) -> None:
        """Add a person (once per address) and why; the first mailbox given is the one mail comes from."""
        key = (address or "").strip().lower()
        if not key:
            return
        row = self.setdefault(key, Recipient(key, name))
        row.name = row.name or name
        row.mailbox_id = row.mailbox_id or mailbox_id
        if reason not in row.reasons:
            row.reasons.append(reason)


def customer_addresses(customer_ids: set[int]) -> dict[int, tuple[str, str]]:
    """Each customer's primary address (the first one they had) and name."""
    found: dict[int, tuple[str, str]] = {}
    rows = (
        CustomerEmail.objects.filter(customer_id__in=customer_ids)
        .order_by("customer_id", "id")
        .values_list("customer_id", "address", "customer__name")
    )
    for customer_id, address, name in rows:
        found.setdefault(customer_id, (address, name))
    return found


def _add_followers(
    out: Recipients, topic: Topic, *, skip_customer: int | None, skip_agent: int | None
) -> None:
    follows = list(Follow.objects.filter(topic=topic).select_related("agent"))
    addresses = customer_addresses({f.customer_id for f in follows if f.customer_id})
    for f in follows:
        if f.customer_id and f.customer_id != skip_customer and f.customer_id in addresses:
            out.add(*addresses[f.customer_id], "followed")
        elif f.agent is not None and f.agent_id != skip_agent and f.agent.is_active:
            out.add(f.agent.email, f.agent.name, "followed")


def resolved_recipients(topic: Topic) -> Recipients:
    """Everyone who voted, followed, or is the customer of a linked conversation, one per address."""
    out = Recipients()
    voters = set(Vote.objects.filter(topic=topic).values_list("customer_id", flat=True))
    linked = list(
        ConversationLink.objects.filter(topic=topic)
        .exclude(conversation__status=Conversation.Status.SPAM)
        .order_by("created_at", "id")
        .values_list("conversation__customer_id", "conversation__mailbox_id")
    )
    addresses = customer_addresses(voters | {customer_id for customer_id, _ in linked})
    for customer_id in sorted(voters):
        if customer_id in addresses:
            out.add(*addresses[customer_id], "voted")
    _add_followers(out, topic, skip_customer=None, skip_agent=None)
    for customer_id, mailbox_id in linked:
        if customer_id in addresses:
            out.add(*addresses[customer_id], "conversation", mailbox_id=mailbox_id)
    return out


def resolved_notify(*, topic: Topic, change: StatusChange) -> int:
    """Tell everyone concerned that the topic shipped or was fixed, with the agent's note; addresses told
    before for this topic and event are skipped, and each one told now is recorded. Returns how many."""
    from happydesk.inbox.services import note_add

    event = change.to_status
    already = set(Notified.objects.filter(topic=topic, event=event).values_list("address", flat=True))
    recipients = [r for r in resolved_recipients(topic).values() if r.address not in already]
    url = absolute(topic.get_absolute_url())
    agent_name = change.agent.first_name if change.agent else ""
    mailboxes = Mailbox.objects.in_bulk({r.mailbox_id for r in recipients if r.mailbox_id})
    for r in recipients:
        Notified.objects.create(topic=topic, address=r.address, event=event, reasons=",".join(r.reasons))
        context = {
            "topic": topic,
            "recipient": r,
            "event": event,
            "note": change.note,
            "agent_name": agent_name,
            "url": url,
            "why": " and ".join(REASON_WORDS[w] for w in r.reasons),
        }
        subject = ("Shipped: " if event == Topic.Status.SHIPPED else "Fixed: ") + topic.title
        notice_enqueue(
            to=[r.address],
            subject=subject,
            text=render_to_string("community/email/resolved.txt", context),
            kind=f"community_{event}",
            mailbox=mailboxes.get(r.mailbox_id),  # None: the default sender
            dedupe_key=_key(event, topic.pk, r.address),
        )
    told = {r.address for r in recipients}
    if told and change.agent is not None:
        links = (
            ConversationLink.objects.filter(topic=topic)
            .select_related("conversation__customer")
            .prefetch_related("conversation__customer__emails")  # primary_email without a query each
        )
        for link in links:
            conversation = link.conversation
            if conversation.customer.primary_email.lower() in told:
                note_add(
                    conversation=conversation,
                    author=change.agent,
                    text=f"Community: told the customer by email that “{topic.title}” is {event}. {url}",
                )
    return len(recipients)


def post_notify(*, post: Post) -> int:
    """Tell a topic's followers (except whoever wrote it) about a new visible answer or comment."""
    topic = post.topic
    if post.state != State.VISIBLE or topic.state != State.VISIBLE:
        return 0
    out = Recipients()
    _add_followers(out, topic, skip_customer=post.author_customer_id, skip_agent=post.author_agent_id)
    if not out:
        return 0
    excerpt = plain_text(post.body)
    if len(excerpt) > EXCERPT:
        excerpt = excerpt[: EXCERPT - 1].rsplit(" ", 1)[0] + "…"
    url = absolute(post.get_absolute_url())
    noun = topic.answers_label
    for r in out.values():
        context = {"topic": topic, "post": post, "recipient": r, "excerpt": excerpt, "url": url, "noun": noun}
        notice_enqueue(
            to=[r.address],
            subject=f"New {noun} on “{topic.title}”",
            text=render_to_string("community/email/new_post.txt", context),
            kind="community_post",
            dedupe_key=_key("post", post.pk, r.address),
        )
    return len(out)
