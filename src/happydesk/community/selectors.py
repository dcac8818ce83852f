"""Read queries for the community pages, the portal, the widget and the conversation sidebar.

The public sees visible, unmerged topics and visible posts only; an author also sees their own held or
hidden ones (with a note), agents see everything.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from happydesk.accounts.models import User
from happydesk.community.models import (
    IDEA_STATUSES,
    Announcement,
    AnnouncementsSeen,
    Ban,
    ConversationLink,
    Follow,
    ModerationLog,
    Post,
    PostVote,
    Revision,
    State,
    Topic,
    Vote,
)
from happydesk.customers.models import Customer
from happydesk.inbox.access import conversations_for_agent
from happydesk.inbox.models import Conversation, Mailbox

if TYPE_CHECKING:
    from happydesk.search.content import ContentResult

Person = Customer | User

SORTS = {
    "top": ("-vote_count", "-last_activity_at"),
    "new": ("-created_at",),
    "active": ("-last_activity_at",),
}


def public_topics(kind: str | None = None) -> QuerySet[Topic]:
    """Topics everyone may read: visible and not merged into another."""
    qs = Topic.objects.filter(state=State.VISIBLE, merged_into__isnull=True)
    return qs.filter(kind=kind) if kind else qs


def topic_list(*, kind: str, sort: str = "active", status: str = "") -> QuerySet[Topic]:
    """A public list of one kind of topic, optionally of one status, in the chosen order."""
    qs = public_topics(kind).select_related("author_customer", "author_agent")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by(*SORTS.get(sort, SORTS["active"]))


def idea_status_counts() -> dict[str, int]:
    """How many public ideas have each status, for the board's filter."""
    rows = public_topics(Topic.Kind.IDEA).values("status").annotate(n=Count("id"))
    counts = {s.value: 0 for s in IDEA_STATUSES}
    counts.update({r["status"]: r["n"] for r in rows})
    return counts


def topic_for_reader(topic_id: int, *, customer: Customer | None, agent: User | None) -> Topic | None:
    """The topic if this reader may open it: visible ones for all (merged ones too, to redirect), the
    author's own held or hidden ones, and everything for agents."""
    topic = (
        Topic.objects.select_related("author_customer", "author_agent", "merged_into")
        .filter(pk=topic_id)
        .first()
    )
    if topic is None:
        return None
    if agent is not None or topic.state == State.VISIBLE:
        return topic
    if customer is not None and topic.author_customer_id == customer.pk:
        return topic
    return None


def posts_for_reader(topic: Topic, *, customer: Customer | None, agent: User | None) -> list[Post]:
    """The answers or comments this reader may see, accepted answer first, then oldest first."""
    qs = topic.posts.select_related("author_customer", "author_agent", "merged_from", "conversation")
    if agent is None:
        mine = Q(author_customer=customer) if customer is not None else Q(pk__in=[])
        qs = qs.filter(Q(state=State.VISIBLE) | mine)
    posts = list(qs.order_by("created_at", "id"))
    posts.sort(key=lambda p: p.pk != topic.accepted_post_id)
    return posts


def post_for_topic(topic: Topic, post_id: int) -> Post | None:
    return topic.posts.select_related("topic").filter(pk=post_id).first()


def voted(customer: Customer | None, topic_ids: list[int]) -> set[int]:
    """Which of these topics the customer has voted for."""
    if customer is None or not topic_ids:
        return set()
    return set(
        Vote.objects.filter(customer=customer, topic_id__in=topic_ids).values_list("topic_id", flat=True)
    )


def post_votes(customer: Customer | None, post_ids: list[int]) -> set[int]:
    """Which of these posts the customer marked helpful."""
    if customer is None or not post_ids:
        return set()
    return set(
        PostVote.objects.filter(customer=customer, post_id__in=post_ids).values_list("post_id", flat=True)
    )


def is_following(topic: Topic, person: Person | None) -> bool:
    if person is None:
        return False
    key = {"agent": person} if isinstance(person, User) else {"customer": person}
    return Follow.objects.filter(topic=topic, **key).exists()


def follower_count(topic: Topic) -> int:
    return Follow.objects.filter(topic=topic).count()


def ban_for(customer: Customer | None) -> Ban | None:
    """The customer's community ban, if any (shown to agents)."""
    if customer is None:
        return None
    return Ban.objects.select_related("banned_by").filter(customer=customer).first()


def ban_by_customer_id(customer_id: int) -> Ban | None:
    return Ban.objects.select_related("customer").filter(customer_id=customer_id).first()


def bans_for(customer_ids: set[int]) -> dict[int, Ban]:
    return {b.customer_id: b for b in Ban.objects.filter(customer_id__in=customer_ids)}


def revisions(topic: Topic) -> list[Revision]:
    """Every revision of a topic and its posts, grouped by what was edited."""
    return list(
        Revision.objects.filter(topic=topic)
        .select_related("editor_customer", "editor_agent", "post")
        .order_by("post_id", "number")
    )


def status_history(topic: Topic) -> list:
    return list(topic.status_changes.select_related("agent"))


def linked_conversations(topic: Topic, *, agent: User) -> list[ConversationLink]:
    """Conversations linked to an idea (for agents only: they name customers), those this agent may
    see (inbox.access: never a security report for a light agent)."""
    return list(
        ConversationLink.objects.filter(
            topic=topic, conversation__in=conversations_for_agent(agent).values("pk")
        )
        .select_related("conversation__customer", "linked_by")
        .order_by("-created_at")
    )


def links_for_conversation(conversation: Conversation) -> list[ConversationLink]:
    """Ideas and known issues a conversation is linked to, for the conversation's sidebar."""
    return list(
        ConversationLink.objects.filter(conversation=conversation)
        .select_related("topic")
        .order_by("-created_at")
    )


def linkable_topics(*, limit: int = 300) -> list[Topic]:
    """Ideas and known issues an agent may link a conversation to, most voted first."""
    return list(
        Topic.objects.filter(kind__in=[Topic.Kind.IDEA, Topic.Kind.KNOWN_ISSUE], merged_into__isnull=True)
        .exclude(state=State.HIDDEN)
        .only("id", "title", "kind", "status")
        .order_by("-vote_count", "-id")[:limit]
    )


def mailboxes() -> QuerySet[Mailbox]:
    """Where a forum post can become a private conversation."""
    return Mailbox.objects.order_by("name")


# --- moderation ------------------------------------------------------------------------------------


def held_topics() -> list[Topic]:
    return list(
        Topic.objects.filter(state=State.HELD, merged_into__isnull=True)
        .select_related("author_customer", "author_agent")
        .order_by("created_at")
    )


def held_posts() -> list[Post]:
    return list(
        Post.objects.filter(state=State.HELD)
        .select_related("topic", "author_customer", "author_agent")
        .order_by("created_at")
    )


def hidden_recently(*, limit: int = 20) -> list[Topic | Post]:
    """The latest hidden topics and posts, newest first."""
    topics = list(
        Topic.objects.filter(state=State.HIDDEN)
        .select_related("author_customer", "conversation")
        .order_by("-id")[:limit]
    )
    posts = list(
        Post.objects.filter(state=State.HIDDEN)
        .select_related("topic", "author_customer", "conversation")
        .order_by("-id")[:limit]
    )
    hidden: list[Topic | Post] = [*topics, *posts]
    return sorted(hidden, key=lambda x: x.created_at, reverse=True)[:limit]


def bans() -> list[Ban]:
    """Every ban, newest first; the queue shows each customer's address (prefetched: no query per row)."""
    return list(
        Ban.objects.select_related("customer", "banned_by")
        .prefetch_related("customer__emails")
        .order_by("-created_at")
    )


def moderation_log(*, limit: int = 30) -> list[ModerationLog]:
    return list(ModerationLog.objects.select_related("topic", "agent")[:limit])


# --- announcements ---------------------------------------------------------------------------------


def live_announcements(*, now: datetime | None = None) -> QuerySet[Announcement]:
    """Published announcements whose date has come, newest first."""
    return Announcement.objects.filter(published_at__lte=now or timezone.now()).order_by(
        "-published_at", "-id"
    )


def announcement_for_reader(announcement_id: int, *, agent: User | None) -> Announcement | None:
    """A live announcement; agents also open drafts and scheduled ones."""
    qs = Announcement.objects.all() if agent is not None else live_announcements()
    return qs.filter(pk=announcement_id).first()


def all_announcements() -> QuerySet[Announcement]:
    """Every announcement for the team's list: drafts first, then scheduled, then live."""
    return Announcement.objects.select_related("author").order_by("-published_at", "-id")


def announcements_last_seen(customer: Customer | None) -> datetime | None:
    """When the customer last looked at the announcements (None: never, or not signed in)."""
    if customer is None:
        return None
    return AnnouncementsSeen.objects.filter(customer=customer).values_list("seen_at", flat=True).first()


def announcements_since(
    customer: Customer | None, since: datetime | None = None, *, limit: int = 10
) -> list[Announcement]:
    """Live announcements newer than `since`; without `since`, newer than the customer's last look
    (all of them if they never looked or nobody is signed in). For the portal and the widget."""
    if since is None:
        since = announcements_last_seen(customer)
    qs = live_announcements()
    if since is not None:
        qs = qs.filter(published_at__gt=since)
    return list(qs[:limit])


# --- search ----------------------------------------------------------------------------------------


def search(q: str, *, limit: int = 20) -> list[ContentResult]:
    """Public questions (with their answers), known issues, ideas and announcements matching `q`, best
    first: the one content search (search/content.py) limited to the community's kinds."""
    from happydesk.search.content import content_search

    return content_search(q, kinds=["topic", "idea", "announcement"], limit=limit).results
