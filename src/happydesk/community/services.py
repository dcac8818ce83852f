"""Community actions: posting (with spam holds and rate limits), votes, follows, edits with history,
moderation (hide, lock, ban, approve), merging duplicates, moving a post to a private conversation,
linking conversations, status changes with the one-time "shipped / fixed" notice, and announcements.

Every function is one transaction. A person is a `Customer` (signed in to the portal) or an agent (`User`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import chain

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from happydesk.accounts.models import User
from happydesk.community import notifications
from happydesk.community.models import (
    RESOLVED_STATUSES,
    STATUSES_BY_KIND,
    Announcement,
    AnnouncementsSeen,
    Ban,
    ConversationLink,
    Follow,
    ModerationLog,
    Notified,
    Post,
    PostVote,
    Revision,
    State,
    StatusChange,
    Topic,
    Vote,
)
from happydesk.community.moderation import hold_reasons, normalise, posts_per_hour
from happydesk.community.search_documents import announcement_search_refresh, topic_search_refresh
from happydesk.customers.models import Customer
from happydesk.inbox.models import Conversation, Mailbox
from happydesk.ratelimit import over_limit

Person = Customer | User
MAX_TITLE = 300
MAX_BODY = 20_000
MOVED_REASON = "Moved to a private conversation with the support team."


class CommunityError(Exception):
    """A request the community refuses, with a message fit to show the person who made it."""


class PostRefused(CommunityError):
    """The person may not post or vote here now: banned, over the hourly limit, or the topic is locked."""


class NotAllowed(CommunityError):
    """The person may not do this at all (edit someone else's post, post a known issue as a customer)."""


def _now(at: datetime | None) -> datetime:
    return at or timezone.now()


def _author(person: Person) -> dict:
    if isinstance(person, User):
        return {"author_agent": person, "author_customer": None}
    return {"author_customer": person, "author_agent": None}


def _editor(person: Person) -> dict:
    if isinstance(person, User):
        return {"editor_agent": person}
    return {"editor_customer": person}


def _clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if len(title) < 5:
        raise CommunityError("Give it a title of at least a few words.")
    return title[:MAX_TITLE]


def _clean_body(body: str, *, required: bool = True) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    if required and not body:
        raise CommunityError("Write a few words first.")
    if len(body) > MAX_BODY:
        raise CommunityError(f"That's longer than {MAX_BODY:,} characters; please shorten it.")
    return body


def _when(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local:%b} {local.day}, {local:%Y %H:%M}"


def _slug(title: str) -> str:
    return slugify(title)[:100].strip("-") or "topic"


def _banned(customer: Customer) -> bool:
    return Ban.objects.filter(customer=customer).exists()


def _check_may_post(customer: Customer, at: datetime) -> None:
    """Banned customers never post; everyone else at most posts_per_hour() times an hour."""
    if _banned(customer):
        raise PostRefused(
            "Your account can't post in the community. If you think this is a mistake, write to support."
        )
    window = Q(author_customer=customer, created_at__gt=at - timedelta(hours=1), created_at__lte=at)
    recent = Topic.objects.filter(window).count() + Post.objects.filter(window).count()
    limit = posts_per_hour()
    if recent >= limit:
        raise PostRefused(
            f"You've posted {recent} times in the last hour, which is our limit. Please try again a little later."
        )


def _hold_reasons(customer: Customer, *, title: str = "", body: str, at: datetime) -> list[str]:
    """Heuristics from moderation.py, plus the same text posted twice in a day by this customer."""
    first = not (
        Topic.objects.filter(author_customer=customer).exists()
        or Post.objects.filter(author_customer=customer).exists()
    )
    reasons = hold_reasons(f"{title}\n{body}" if title else body, first_post=first)
    since = Q(author_customer=customer, created_at__gte=at - timedelta(days=1))
    bodies = chain(
        Topic.objects.filter(since).values_list("body", flat=True),
        Post.objects.filter(since).values_list("body", flat=True),
    )
    folded = normalise(body)
    if len(folded) >= 20 and any(normalise(b) == folded for b in bodies):  # "Thanks!" twice is fine
        reasons.append("the same text was posted in the last day")
    return reasons


def _revision_add(
    *, topic: Topic, post: Post | None, title: str, body: str, editor: Person, at: datetime
) -> Revision:
    rows = Revision.objects.filter(topic=topic, post=post) if post else topic.revisions.filter(post=None)
    last = rows.order_by("-number").values_list("number", flat=True).first() or 0
    return Revision.objects.create(
        topic=topic, post=post, number=last + 1, title=title, body=body, created_at=at, **_editor(editor)
    )


def _log(
    *,
    action: str,
    agent: User | None,
    topic: Topic | None = None,
    post: Post | None = None,
    detail: str = "",
    at: datetime | None = None,
) -> None:
    ModerationLog.objects.create(
        topic=topic, post=post, action=action, agent=agent, detail=detail[:500], created_at=_now(at)
    )


def _recount(topic_id: int) -> None:
    """Store the visible answers and the votes again (after a post, a vote, a hide or a merge)."""
    Topic.objects.filter(pk=topic_id).update(
        post_count=Post.objects.filter(topic_id=topic_id, state=State.VISIBLE).count(),
        vote_count=Vote.objects.filter(topic_id=topic_id).count(),
    )


def _locked_topic(topic: Topic) -> Topic:
    """The topic's row, locked for this transaction, so counters and notices never race."""
    return Topic.objects.select_for_update().get(pk=topic.pk)


# --- posting ---------------------------------------------------------------------------------------


@transaction.atomic
def topic_create(*, kind: str, title: str, body: str, author: Person, at: datetime | None = None) -> Topic:
    """Start a question or suggest an idea (customers or agents), or post a known issue (agents only).

    A customer's post may be held for a moderator (reason kept for agents) or refused (ban, hourly limit).
    The author follows it; a customer's own idea starts with their vote.
    """
    at = _now(at)
    if kind not in Topic.Kind.values:
        raise ValueError(f"unknown topic kind {kind!r}")
    title, body = _clean_title(title), _clean_body(body)
    customer = author if isinstance(author, Customer) else None
    if kind == Topic.Kind.KNOWN_ISSUE and customer is not None:
        raise NotAllowed("Only the team posts known issues.")
    state, held = State.VISIBLE, ""
    if customer is not None:
        _check_may_post(customer, at)
        reasons = _hold_reasons(customer, title=title, body=body, at=at)
        if reasons:
            state, held = State.HELD, "; ".join(reasons)[:300]
    status = {Topic.Kind.IDEA: Topic.Status.UNDER_REVIEW, Topic.Kind.KNOWN_ISSUE: Topic.Status.OPEN}.get(
        Topic.Kind(kind), Topic.Status.NONE
    )
    topic = Topic.objects.create(
        kind=kind,
        title=title,
        slug=_slug(title),
        body=body,
        status=status,
        state=state,
        held_reason=held,
        created_at=at,
        last_activity_at=at,
        status_changed_at=at if status else None,
        **_author(author),
    )
    _revision_add(topic=topic, post=None, title=title, body=body, editor=author, at=at)
    if customer is not None:
        Follow.objects.create(topic=topic, customer=customer, created_at=at)
        if kind == Topic.Kind.IDEA:
            Vote.objects.create(topic=topic, customer=customer, created_at=at)
            topic.vote_count = 1
            Topic.objects.filter(pk=topic.pk).update(vote_count=1)
    topic_search_refresh(topic.pk)
    return topic


def known_issue_post(*, title: str, body: str, author: User, at: datetime | None = None) -> Topic:
    """Post a known issue for customers to follow; the incident plan calls this too. Mark it fixed
    with topic_set_status(status="fixed") to tell everyone affected, once."""
    return topic_create(kind=Topic.Kind.KNOWN_ISSUE, title=title, body=body, author=author, at=at)


@transaction.atomic
def post_create(
    *, topic: Topic, body: str, author: Person, at: datetime | None = None, notify: bool = True
) -> Post:
    """Answer a question or comment on an idea or known issue; followers hear about it once it is live."""
    at = _now(at)
    body = _clean_body(body)
    topic = _locked_topic(topic)
    if topic.merged_into_id:
        raise PostRefused("This topic was merged into another one; answer there.")
    customer = author if isinstance(author, Customer) else None
    state, held = State.VISIBLE, ""
    if customer is not None:
        own = topic.author_customer_id == customer.pk
        if topic.state != State.VISIBLE and not own:
            raise PostRefused("This topic isn't open for answers.")
        if topic.locked:
            raise PostRefused("This topic is locked, so it takes no new answers.")
        _check_may_post(customer, at)
        reasons = _hold_reasons(customer, body=body, at=at)
        if reasons:
            state, held = State.HELD, "; ".join(reasons)[:300]
    post = Post.objects.create(
        topic=topic, body=body, state=state, held_reason=held, created_at=at, **_author(author)
    )
    _revision_add(topic=topic, post=post, title="", body=body, editor=author, at=at)
    if customer is not None:
        Follow.objects.get_or_create(topic=topic, customer=customer, defaults={"created_at": at})
    if state == State.VISIBLE:
        _post_live(topic=topic, post=post, notify=notify)
    topic_search_refresh(post.topic_id)
    return post


def _post_live(*, topic: Topic, post: Post, notify: bool) -> None:
    _recount(topic.pk)
    Topic.objects.filter(pk=topic.pk, last_activity_at__lt=post.created_at).update(
        last_activity_at=post.created_at
    )
    if notify:
        notifications.post_notify(post=post)


# --- editing ---------------------------------------------------------------------------------------


def _check_may_edit(*, author_customer_id: int | None, topic: Topic, editor: Person) -> None:
    if isinstance(editor, User):
        return
    if author_customer_id != editor.pk:
        raise NotAllowed("You can only edit what you wrote.")
    if topic.locked or topic.merged_into_id:
        raise NotAllowed("This topic is locked, so it can't be edited.")
    if _banned(editor):
        raise PostRefused("Your account can't post in the community.")


@transaction.atomic
def topic_edit(*, topic: Topic, title: str, body: str, editor: Person, at: datetime | None = None) -> Topic:
    """Change a topic's title and text (its author or an agent); every change keeps a revision."""
    at = _now(at)
    topic = _locked_topic(topic)
    _check_may_edit(author_customer_id=topic.author_customer_id, topic=topic, editor=editor)
    title, body = _clean_title(title), _clean_body(body)
    if (title, body) == (topic.title, topic.body):
        return topic
    fields = {"title": title, "slug": _slug(title), "body": body, "edited_at": at}
    if isinstance(editor, Customer) and topic.state == State.VISIBLE:
        reasons = hold_reasons(f"{title}\n{body}")
        if reasons:  # an edit can't sneak spam past the check the first post went through
            fields.update(state=State.HELD, held_reason=("edited: " + "; ".join(reasons))[:300])
    Topic.objects.filter(pk=topic.pk).update(**fields)
    _revision_add(topic=topic, post=None, title=title, body=body, editor=editor, at=at)
    topic.refresh_from_db()
    topic_search_refresh(topic.pk)
    return topic


@transaction.atomic
def post_edit(*, post: Post, body: str, editor: Person, at: datetime | None = None) -> Post:
    """Change an answer or comment (its author or an agent); every change keeps a revision."""
    at = _now(at)
    topic = _locked_topic(post.topic)
    _check_may_edit(author_customer_id=post.author_customer_id, topic=topic, editor=editor)
    body = _clean_body(body)
    post.refresh_from_db()
    if body == post.body:
        return post
    fields: dict = {"body": body, "edited_at": at}
    if isinstance(editor, Customer) and post.state == State.VISIBLE:
        reasons = hold_reasons(body)
        if reasons:
            fields.update(state=State.HELD, held_reason=("edited: " + "; ".join(reasons))[:300])
    Post.objects.filter(pk=post.pk).update(**fields)
    _revision_add(topic=topic, post=post, title="", body=body, editor=editor, at=at)
    _recount(topic.pk)
    post.refresh_from_db()
    topic_search_refresh(post.topic_id)
    return post


# --- votes, follows, accepted answers --------------------------------------------------------------


@transaction.atomic
def vote_add(*, topic: Topic, customer: Customer, at: datetime | None = None) -> bool:
    """Vote for a topic. True if the vote counted; False if this customer had already voted (the unique
    constraint makes a second vote impossible, whichever way it arrives)."""
    topic = Topic.objects.get(pk=topic.pk)  # the status as stored now, not as the caller last saw it
    if topic.merged_into_id or topic.state != State.VISIBLE:
        raise PostRefused("This topic takes no votes.")
    if not topic.votes_open:
        raise PostRefused(f"Voting is closed: this is {topic.get_status_display().lower()}.")
    if _banned(customer):
        raise PostRefused("Your account can't vote in the community.")
    _, created = Vote.objects.get_or_create(topic=topic, customer=customer, defaults={"created_at": _now(at)})
    if created:
        _recount(topic.pk)
        topic_search_refresh(topic.pk)  # votes weigh in the search's helpfulness
    return created


@transaction.atomic
def vote_remove(*, topic: Topic, customer: Customer) -> bool:
    """Take back a vote; True if there was one."""
    deleted, _ = Vote.objects.filter(topic=topic, customer=customer).delete()
    if deleted:
        _recount(topic.pk)
        topic_search_refresh(topic.pk)
    return bool(deleted)


@transaction.atomic
def post_vote_add(*, post: Post, customer: Customer) -> bool:
    """Mark an answer helpful, once per person; True if the vote counted."""
    if post.state != State.VISIBLE or post.topic.state != State.VISIBLE:
        raise PostRefused("This answer takes no votes.")
    if post.author_customer_id == customer.pk:
        raise NotAllowed("You can't vote for your own answer.")
    if _banned(customer):
        raise PostRefused("Your account can't vote in the community.")
    _, created = PostVote.objects.get_or_create(post=post, customer=customer)
    if created:
        Post.objects.filter(pk=post.pk).update(vote_count=PostVote.objects.filter(post=post).count())
    return created


@transaction.atomic
def post_vote_remove(*, post: Post, customer: Customer) -> bool:
    """Take back a helpful vote; True if there was one."""
    deleted, _ = PostVote.objects.filter(post=post, customer=customer).delete()
    if deleted:
        Post.objects.filter(pk=post.pk).update(vote_count=PostVote.objects.filter(post=post).count())
    return bool(deleted)


def _person_filter(person: Person) -> dict:
    return {"agent": person} if isinstance(person, User) else {"customer": person}


@transaction.atomic
def follow_add(*, topic: Topic, person: Person) -> bool:
    """Follow a topic: new answers, and the day it ships or is fixed, come by email. True if new."""
    if topic.merged_into_id:
        raise PostRefused("This topic was merged into another one; follow that one.")
    _, created = Follow.objects.get_or_create(topic=topic, **_person_filter(person))
    return created


@transaction.atomic
def follow_remove(*, topic: Topic, person: Person) -> bool:
    """Stop following; True if the person was following."""
    deleted, _ = Follow.objects.filter(topic=topic, **_person_filter(person)).delete()
    return bool(deleted)


@transaction.atomic
def answer_accept(*, topic: Topic, post: Post | None, actor: Person) -> Topic:
    """Mark the answer that solved a question (the asker or an agent); None clears it."""
    if not topic.is_question:
        raise CommunityError("Only questions have an accepted answer.")
    if isinstance(actor, Customer) and topic.author_customer_id != actor.pk:
        raise NotAllowed("Only the person who asked, or the team, can accept an answer.")
    if post is not None and (post.topic_id != topic.pk or post.state != State.VISIBLE):
        raise CommunityError("That answer isn't on this question.")
    Topic.objects.filter(pk=topic.pk).update(accepted_post=post)
    topic.accepted_post = post
    topic_search_refresh(topic.pk)
    return topic


# --- moderation ------------------------------------------------------------------------------------


@transaction.atomic
def topic_hide(*, topic: Topic, agent: User, reason: str = "") -> Topic:
    """Take a topic out of public view (it stays for agents and its author)."""
    Topic.objects.filter(pk=topic.pk).update(state=State.HIDDEN, hidden_reason=reason.strip()[:300])
    _log(action="hide", agent=agent, topic=topic, detail=reason)
    topic.refresh_from_db()
    topic_search_refresh(topic.pk)
    return topic


@transaction.atomic
def topic_show(*, topic: Topic, agent: User) -> Topic:
    """Approve a held topic, or bring back a hidden one."""
    action = "approve" if topic.state == State.HELD else "unhide"
    Topic.objects.filter(pk=topic.pk).update(state=State.VISIBLE, held_reason="", hidden_reason="")
    _log(action=action, agent=agent, topic=topic)
    topic.refresh_from_db()
    topic_search_refresh(topic.pk)
    return topic


@transaction.atomic
def post_hide(*, post: Post, agent: User, reason: str = "") -> Post:
    """Take an answer or comment out of public view."""
    Post.objects.filter(pk=post.pk).update(state=State.HIDDEN, hidden_reason=reason.strip()[:300])
    Topic.objects.filter(pk=post.topic_id, accepted_post=post).update(accepted_post=None)
    _recount(post.topic_id)
    _log(action="hide", agent=agent, topic=post.topic, post=post, detail=reason)
    post.refresh_from_db()
    topic_search_refresh(post.topic_id)
    return post


@transaction.atomic
def post_show(*, post: Post, agent: User) -> Post:
    """Approve a held answer (its followers hear about it now) or bring back a hidden one."""
    was_held = post.state == State.HELD
    Post.objects.filter(pk=post.pk).update(state=State.VISIBLE, held_reason="", hidden_reason="")
    post.refresh_from_db()
    _post_live(topic=post.topic, post=post, notify=was_held)
    _log(action="approve" if was_held else "unhide", agent=agent, topic=post.topic, post=post)
    topic_search_refresh(post.topic_id)
    return post


@transaction.atomic
def topic_lock(*, topic: Topic, agent: User, locked: bool = True) -> Topic:
    """Lock a topic (no new answers or customer edits) or unlock it."""
    Topic.objects.filter(pk=topic.pk).update(locked=locked)
    _log(action="lock" if locked else "unlock", agent=agent, topic=topic)
    topic.locked = locked
    return topic


@transaction.atomic
def customer_ban(*, customer: Customer, reason: str, agent: User) -> Ban:
    """One strike: the customer may no longer post or vote; agents see the reason. Their posts still
    waiting for moderation are hidden with it."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise CommunityError("Give the reason for the ban; agents see it later.")
    ban, created = Ban.objects.get_or_create(
        customer=customer, defaults={"reason": reason[:500], "banned_by": agent}
    )
    if not created:
        return ban
    hidden = f"Author banned: {reason}"[:300]
    Topic.objects.filter(author_customer=customer, state=State.HELD).update(
        state=State.HIDDEN, hidden_reason=hidden
    )
    Post.objects.filter(author_customer=customer, state=State.HELD).update(
        state=State.HIDDEN, hidden_reason=hidden
    )
    _log(action="ban", agent=agent, detail=f"{customer} — {reason}")
    return ban


@transaction.atomic
def ban_lift(*, customer: Customer, agent: User) -> bool:
    """Let a banned customer post again; True if there was a ban."""
    deleted, _ = Ban.objects.filter(customer=customer).delete()
    if deleted:
        _log(action="unban", agent=agent, detail=str(customer))
    return bool(deleted)


# --- merging ---------------------------------------------------------------------------------------


def _move_unique(
    model: type[Vote] | type[Follow] | type[ConversationLink], *, source: Topic, target: Topic, key: str
) -> None:
    """Move rows of `model` from source to target, dropping those whose `key` the target already has."""
    have = list(model.objects.filter(topic=target, **{f"{key}__isnull": False}).values_list(key, flat=True))
    rows = model.objects.filter(topic=source, **{f"{key}__isnull": False})
    rows.filter(**{f"{key}__in": have}).delete()
    rows.update(topic=target)


@transaction.atomic
def topic_merge(*, source: Topic, target: Topic, agent: User, at: datetime | None = None) -> Topic:
    """Merge a duplicate into another topic of the same kind.

    Votes, followers, linked conversations and the "already told" record move to the target; a person who
    voted on both keeps one vote. Answers move over, and the duplicate's own text becomes a post on the
    target, so nothing anyone wrote is lost. The duplicate's URL redirects to the target from now on.
    """
    if source.pk == target.pk:
        raise CommunityError("A topic can't be merged into itself.")
    first, second = sorted([source.pk, target.pk])
    rows = {t.pk: t for t in Topic.objects.select_for_update().filter(pk__in=[first, second]).order_by("pk")}
    source, target = rows[source.pk], rows[target.pk]
    if source.kind != target.kind:
        raise CommunityError(
            f"Merge a {source.get_kind_display().lower()} only into another {source.get_kind_display().lower()}."
        )
    if source.merged_into_id or target.merged_into_id:
        raise CommunityError("One of these was already merged; merge into the topic it points to.")
    _move_unique(Vote, source=source, target=target, key="customer")
    _move_unique(Follow, source=source, target=target, key="customer")
    _move_unique(Follow, source=source, target=target, key="agent")
    _move_unique(ConversationLink, source=source, target=target, key="conversation")
    have = set(Notified.objects.filter(topic=target).values_list("address", "event"))
    for row in Notified.objects.filter(topic=source):
        if (row.address, row.event) in have:
            row.delete()
        else:
            Notified.objects.filter(pk=row.pk).update(topic=target)
    opening = Post.objects.create(
        topic=target,
        body=source.body,
        state=source.state,
        held_reason=source.held_reason,
        hidden_reason=source.hidden_reason,
        author_customer=source.author_customer,
        author_agent=source.author_agent,
        created_at=source.created_at,
        merged_from=source,
    )
    Revision.objects.filter(topic=source, post__isnull=True).update(topic=target, post=opening)
    Revision.objects.filter(topic=source).update(topic=target)
    Post.objects.filter(topic=source).update(topic=target)
    Topic.objects.filter(merged_into=source).update(merged_into=target)  # earlier duplicates follow along
    if target.accepted_post_id is None and source.accepted_post_id is not None:
        Topic.objects.filter(pk=target.pk).update(accepted_post_id=source.accepted_post_id)
    now = _now(at)
    Topic.objects.filter(pk=source.pk).update(
        merged_into=target, merged_at=now, accepted_post=None, post_count=0, vote_count=0
    )
    Topic.objects.filter(pk=target.pk, last_activity_at__lt=source.last_activity_at).update(
        last_activity_at=source.last_activity_at
    )
    _recount(target.pk)
    _log(
        action="merge",
        agent=agent,
        topic=target,
        detail=f"(#{source.pk} “{source.title}” was merged into it)",
        at=now,
    )
    target.refresh_from_db()
    topic_search_refresh(source.pk)
    topic_search_refresh(target.pk)
    return target


# --- conversations ---------------------------------------------------------------------------------


def move_default_text(customer: Customer, agent: User) -> str:
    """What the author reads by default when their post becomes a private conversation."""
    return (
        f"Hi {customer.first_name or 'there'},\n\n"
        "Thanks for posting in our community. I've moved your post here, to a private conversation between "
        "you and our support team, so we can look at the details of your account safely. Only you and our "
        "team can see it.\n\nWe'll continue here: just reply to this email.\n\n"
        f"{agent.first_name}"
    )


@transaction.atomic
def post_to_conversation(
    *, topic: Topic, mailbox: Mailbox, agent: User, post: Post | None = None, text: str = ""
) -> Conversation:
    """Turn a customer's topic (or one of their answers) into a private conversation in `mailbox`.

    The post's text becomes the customer's first message; the agent's reply (sent through the outbox
    like any reply, so it threads and links to the portal) tells the author. The post is hidden, and a
    moved topic is locked, so nothing private stays in public.
    """
    from happydesk.inbox import services as inbox

    topic = _locked_topic(topic)
    item: Topic | Post = topic
    if post is not None:
        post = Post.objects.select_for_update().get(pk=post.pk, topic=topic)
        item = post
    customer = item.author_customer
    if customer is None:
        raise CommunityError("Only a customer's post can become a private conversation.")
    if item.conversation_id:
        raise CommunityError(f"This was already moved to conversation #{item.conversation_id}.")
    address = customer.primary_email
    if not address:
        raise CommunityError("The author has no email address to write to.")
    conversation = inbox.conversation_open(
        mailbox=mailbox, customer=customer, subject=topic.title, channel=Conversation.Channel.FORM
    )
    inbox.message_receive(
        conversation=conversation,
        customer=customer,
        from_name=customer.name,
        from_address=address,
        subject=topic.title,
        text=item.body if post is not None else f"{topic.title}\n\n{topic.body}",
        threading_rule="community",
        threading_reason=f"moved from community topic #{topic.pk} by {agent.name}",
    )
    inbox.conversation_tag(conversation=conversation, names=["community"])
    inbox.note_add(
        conversation=conversation,
        author=agent,
        text=(
            f"Moved from the community ({'an answer on ' if post else ''}“{topic.title}”, "
            f"posted {_when(item.created_at)}): "
            f"{notifications.absolute(topic.get_absolute_url())}"
        ),
    )
    inbox.reply_create(
        conversation=conversation, author=agent, text=text.strip() or move_default_text(customer, agent)
    )
    if post is not None:
        Post.objects.filter(pk=post.pk).update(
            state=State.HIDDEN, hidden_reason=MOVED_REASON, conversation=conversation
        )
        Topic.objects.filter(pk=topic.pk, accepted_post=post).update(accepted_post=None)
        _recount(topic.pk)
    else:
        Topic.objects.filter(pk=topic.pk).update(
            state=State.HIDDEN, hidden_reason=MOVED_REASON, locked=True, conversation=conversation
        )
    _log(action="move", agent=agent, topic=topic, post=post, detail=f"to conversation #{conversation.pk}")
    return conversation


@transaction.atomic
def conversation_link(*, topic: Topic, conversation: Conversation, agent: User | None) -> bool:
    """Link a conversation to an idea or known issue; its customer hears when it ships or is fixed.
    True if the link is new."""
    if topic.is_question:
        raise CommunityError("Conversations link to ideas and known issues.")
    if topic.merged_into is not None:  # None without a query when merged_into_id is unset
        topic = topic.merged_into
    _, created = ConversationLink.objects.get_or_create(
        topic=topic, conversation=conversation, defaults={"linked_by": agent}
    )
    return created


@transaction.atomic
def conversation_unlink(*, topic: Topic, conversation: Conversation) -> bool:
    """Remove a link between a conversation and an idea; True if there was one."""
    deleted, _ = ConversationLink.objects.filter(topic=topic, conversation=conversation).delete()
    return bool(deleted)


# --- statuses --------------------------------------------------------------------------------------


@transaction.atomic
def topic_set_status(
    *,
    topic: Topic,
    status: str,
    agent: User,
    note: str = "",
    notify: bool = True,
    at: datetime | None = None,
) -> StatusChange:
    """Move an idea or known issue to a new status, with a note shown on it. Declining needs a reason.

    Reaching shipped (ideas) or fixed (known issues) tells everyone who voted, followed, or wrote in a
    linked conversation, one email per address, never twice for the same topic (see notifications.py).
    """
    at = _now(at)
    topic = _locked_topic(topic)
    if topic.merged_into_id:
        raise CommunityError("This topic was merged; change the status of the one it was merged into.")
    allowed = STATUSES_BY_KIND[Topic.Kind(topic.kind)]
    if topic.is_question or status not in allowed:
        raise CommunityError(
            f"{status or 'No status'} isn't a status for a {topic.get_kind_display().lower()}."
        )
    note = (note or "").replace("\r\n", "\n").strip()
    if status == Topic.Status.DECLINED and not note:
        raise CommunityError("Say why it's declined: the reason is shown on the idea.")
    if status == topic.status and not note:
        raise CommunityError("That's already its status; add a note to post an update.")
    change = StatusChange.objects.create(
        topic=topic, from_status=topic.status, to_status=status, note=note, agent=agent, created_at=at
    )
    Topic.objects.filter(pk=topic.pk).update(status=status, status_changed_at=at, last_activity_at=at)
    topic.status = status
    if notify and status in RESOLVED_STATUSES:
        change.notified = notifications.resolved_notify(topic=topic, change=change)
        change.save(update_fields=["notified"])
    labels = dict(Topic.Status.choices)
    _log(
        action="status",
        agent=agent,
        topic=topic,
        detail=f"{labels.get(change.from_status, '—')} → {labels[status]}",
        at=at,
    )
    topic_search_refresh(topic.pk)
    return change


# --- signing in ------------------------------------------------------------------------------------


SIGN_INS_PER_IP, SIGN_IN_WINDOW = 5, timedelta(minutes=10)


class TooManySignIns(CommunityError):
    """More sign-in requests from one client address than SIGN_INS_PER_IP in SIGN_IN_WINDOW."""


def sign_in_link_send(*, address: str, client_ip: str) -> bool:
    """Email the portal's one-time sign-in link so a visitor can post and vote. Unlike the portal's own
    form, an address we don't know yet becomes a customer: anyone may join the community. At most
    SIGN_INS_PER_IP requests per client IP per SIGN_IN_WINDOW (TooManySignIns), and the portal's own
    limit per address. Nothing the requester typed but the address is stored or mailed: the link is for
    whoever owns the address, and until they follow it we don't know that this is them. Returns whether
    a link went out (the page says the same either way)."""
    from happydesk.customers.services import customer_for_address
    from happydesk.portal.services import portal_link_send

    if over_limit(f"community-sign-in:ip:{client_ip}", limit=SIGN_INS_PER_IP, window=SIGN_IN_WINDOW):
        raise TooManySignIns("Too many sign-in requests from here: please try again in a few minutes.")
    address = address.strip().lower()
    if not address or "@" not in address:
        return False
    customer_for_address(address=address)
    return portal_link_send(address=address)  # rate-limited there per address, for the portal's form too


def display_name_claim(*, customer: Customer, name: str) -> bool:
    """A signed-in customer's name from the sign-in form, kept in their browser until they had shown they
    own the address; it fills in a missing name only. True if it was set."""
    name = " ".join(name.split())[:200]
    if not name:
        return False
    return bool(Customer.objects.filter(pk=customer.pk, name="").update(name=name))


# --- announcements ---------------------------------------------------------------------------------


@transaction.atomic
def announcement_save(
    *,
    title: str,
    body: str,
    published_at: datetime | None,
    author: User,
    announcement: Announcement | None = None,
) -> Announcement:
    """Create or change an announcement. No date keeps it a draft; a future date schedules it."""
    title, body = _clean_title(title), _clean_body(body)
    row = announcement or Announcement(author=author)
    row.title, row.slug, row.body, row.published_at = title, _slug(title), body, published_at
    row.updated_at = timezone.now()
    row.save()
    announcement_search_refresh(row.pk)
    return row


@transaction.atomic
def announcement_delete(*, announcement: Announcement) -> None:
    """Remove an announcement for good."""
    pk = announcement.pk
    announcement.delete()
    announcement_search_refresh(pk)


@transaction.atomic
def announcements_seen(*, customer: Customer, at: datetime | None = None) -> AnnouncementsSeen:
    """Record that the customer has looked at the announcements now; "new" starts after this moment."""
    at = _now(at)
    row, created = AnnouncementsSeen.objects.select_for_update().get_or_create(
        customer=customer, defaults={"seen_at": at}
    )
    if not created and row.seen_at < at:
        row.seen_at = at
        row.save(update_fields=["seen_at"])
    return row
