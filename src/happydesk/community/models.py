"""Community: forum topics (questions, ideas, known issues) with answers, votes, followers, edit history,
moderation, and company announcements.

One `Topic` model carries all three kinds, so votes, followers, merging, links to conversations and the
"it shipped / it's fixed" notice work the same way for each. A person is a customer signed in to the portal
(votes are customers' only: they measure demand); agents answer, moderate and may follow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

if TYPE_CHECKING:
    from happydesk.customers.models import Customer


class State(models.TextChoices):
    """Whether the public sees a topic or post."""

    VISIBLE = "visible", "Visible"
    HELD = "held", "Held for moderation"
    HIDDEN = "hidden", "Hidden"


def public_name(customer: Customer | None) -> str:
    """How a customer is shown in public: first name and last initial, never an address."""
    if customer is None:
        return "Former member"
    parts = (customer.name or "").split()
    if not parts:
        return "Community member"
    return parts[0] if len(parts) == 1 else f"{parts[0]} {parts[-1][0]}."


class Authored(models.Model):
    """Written by a customer (signed in to the portal) or by an agent (shown as the team)."""

    author_customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.VISIBLE)
    held_reason = models.CharField(max_length=300, blank=True, help_text="Why the spam check held it.")
    hidden_reason = models.CharField(max_length=300, blank=True)
    vote_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def author_name(self) -> str:
        if self.author_agent is not None:  # no query when there is no agent: the id is read first
            return self.author_agent.name
        return public_name(self.author_customer)

    @property
    def by_team(self) -> bool:
        return self.author_agent_id is not None

    @property
    def is_visible(self) -> bool:
        return self.state == State.VISIBLE


class Topic(Authored):
    """A question, an idea or a known issue, with its title and first post."""

    class Kind(models.TextChoices):
        QUESTION = "question", "Question"
        IDEA = "idea", "Idea"
        KNOWN_ISSUE = "known_issue", "Known issue"

    class Status(models.TextChoices):
        NONE = "", "—"
        UNDER_REVIEW = "under_review", "Under review"
        PLANNED = "planned", "Planned"
        IN_PROGRESS = "in_progress", "In progress"
        SHIPPED = "shipped", "Shipped"
        DECLINED = "declined", "Declined"
        OPEN = "open", "Known issue"
        FIXED = "fixed", "Fixed"

    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.QUESTION)
    title = models.CharField(max_length=300)
    slug = models.SlugField(max_length=100, help_text="Only for readable URLs; the id finds the topic.")
    body = models.TextField(help_text="Markdown.")
    status = models.CharField(max_length=20, choices=Status.choices, blank=True, default="")
    locked = models.BooleanField(default=False, help_text="No new answers or edits from customers.")
    accepted_post = models.ForeignKey(
        "Post", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    post_count = models.PositiveIntegerField(default=0, help_text="Visible answers or comments.")
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    merged_at = models.DateTimeField(null=True, blank=True)
    conversation = models.ForeignKey(
        "inbox.Conversation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The private conversation this topic was moved to.",
    )
    last_activity_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_activity_at"]
        indexes = [
            models.Index(fields=["kind", "state", "-last_activity_at"], name="community_topic_list"),
            models.Index(fields=["kind", "state", "-vote_count"], name="community_topic_votes"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~(Q(author_customer__isnull=False) & Q(author_agent__isnull=False)),
                name="community_topic_one_author",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        name = {
            self.Kind.QUESTION: "community_topic",
            self.Kind.IDEA: "community_idea",
            self.Kind.KNOWN_ISSUE: "community_known_issue",
        }[self.Kind(self.kind)]
        return reverse(name, args=[self.pk, self.slug or "topic"])

    @property
    def is_idea(self) -> bool:
        return self.kind == self.Kind.IDEA

    @property
    def is_question(self) -> bool:
        return self.kind == self.Kind.QUESTION

    @property
    def is_known_issue(self) -> bool:
        return self.kind == self.Kind.KNOWN_ISSUE

    @property
    def votes_open(self) -> bool:
        """Shipped, declined and fixed topics take no more votes (nothing left to decide)."""
        return self.status not in CLOSED_STATUSES and self.merged_into_id is None

    @property
    def answers_label(self) -> str:
        return "answer" if self.is_question else "comment"


IDEA_STATUSES = [
    Topic.Status.UNDER_REVIEW,
    Topic.Status.PLANNED,
    Topic.Status.IN_PROGRESS,
    Topic.Status.SHIPPED,
    Topic.Status.DECLINED,
]
KNOWN_ISSUE_STATUSES = [Topic.Status.OPEN, Topic.Status.FIXED]
STATUSES_BY_KIND = {
    Topic.Kind.QUESTION: [Topic.Status.NONE],
    Topic.Kind.IDEA: IDEA_STATUSES,
    Topic.Kind.KNOWN_ISSUE: KNOWN_ISSUE_STATUSES,
}
# Reaching one of these tells everyone who voted, followed or wrote in a linked conversation, once.
RESOLVED_STATUSES = frozenset({Topic.Status.SHIPPED, Topic.Status.FIXED})
CLOSED_STATUSES = frozenset({Topic.Status.SHIPPED, Topic.Status.DECLINED, Topic.Status.FIXED})


class Post(Authored):
    """An answer to a question, or a comment on an idea or known issue."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="posts")
    body = models.TextField(help_text="Markdown.")
    conversation = models.ForeignKey(
        "inbox.Conversation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The private conversation this post was moved to.",
    )
    merged_from = models.ForeignKey(
        Topic,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The duplicate topic whose opening post this was.",
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["topic", "state", "created_at"], name="community_post_thread")]
        constraints = [
            models.CheckConstraint(
                condition=~(Q(author_customer__isnull=False) & Q(author_agent__isnull=False)),
                name="community_post_one_author",
            )
        ]

    def __str__(self) -> str:
        return f"Post {self.pk} on {self.topic_id}"

    def get_absolute_url(self) -> str:
        return f"{self.topic.get_absolute_url()}#post-{self.pk}"


class Vote(models.Model):
    """One customer's vote on a topic. The unique constraint is what makes it one per person."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="votes")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["topic", "customer"], name="community_one_vote")]

    def __str__(self) -> str:
        return f"{self.customer_id} → topic {self.topic_id}"


class PostVote(models.Model):
    """One customer's "helpful" vote on an answer, one per person."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="votes")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "customer"], name="community_one_post_vote")]

    def __str__(self) -> str:
        return f"{self.customer_id} → post {self.post_id}"


class Follow(models.Model):
    """Someone who hears about new answers and about the topic shipping or being fixed."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="follows")
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(customer__isnull=False, agent__isnull=True)
                | Q(customer__isnull=True, agent__isnull=False),
                name="community_follow_one_person",
            ),
            models.UniqueConstraint(
                fields=["topic", "customer"],
                condition=Q(customer__isnull=False),
                name="community_one_follow_customer",
            ),
            models.UniqueConstraint(
                fields=["topic", "agent"], condition=Q(agent__isnull=False), name="community_one_follow_agent"
            ),
        ]

    def __str__(self) -> str:
        return f"follow {self.topic_id}"


class Revision(models.Model):
    """A topic's or post's text as one save left it; the first revision is the original."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="revisions")
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    editor_customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    editor_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["topic", "post", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["topic", "number"], condition=Q(post__isnull=True), name="community_topic_revision"
            ),
            models.UniqueConstraint(
                fields=["post", "number"], condition=Q(post__isnull=False), name="community_post_revision"
            ),
        ]

    def __str__(self) -> str:
        return f"r{self.number} of {'post ' + str(self.post_id) if self.post_id else 'topic ' + str(self.topic_id)}"

    @property
    def editor_name(self) -> str:
        if self.editor_agent is not None:  # no query when there is no agent: the id is read first
            return self.editor_agent.name
        return public_name(self.editor_customer) if self.editor_customer_id else "—"


class StatusChange(models.Model):
    """An agent moved an idea or known issue to a new status, with a note shown on the topic."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=Topic.Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Topic.Status.choices)
    note = models.TextField(blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notified = models.PositiveIntegerField(default=0, help_text="People emailed because of this change.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.topic_id}: {self.from_status} → {self.to_status}"


class ConversationLink(models.Model):
    """A conversation about an idea or known issue; its customer hears when it ships or is fixed."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="conversation_links")
    conversation = models.ForeignKey("inbox.Conversation", on_delete=models.CASCADE, related_name="+")
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["topic", "conversation"], name="community_one_link")]

    def __str__(self) -> str:
        return f"#{self.conversation_id} ↔ {self.topic_id}"


class Notified(models.Model):
    """Who was told that a topic shipped or was fixed: the record that makes it exactly once."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="notified")
    address = models.CharField(max_length=320)
    event = models.CharField(max_length=20, help_text="shipped or fixed")
    reasons = models.CharField(max_length=100, help_text="voted, followed, conversation")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "notified"
        constraints = [
            models.UniqueConstraint(fields=["topic", "address", "event"], name="community_notify_once")
        ]

    def __str__(self) -> str:
        return f"{self.address} told {self.event} for {self.topic_id}"


class Ban(models.Model):
    """One strike: a customer who may no longer post or vote, with the reason agents see."""

    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=500)
    banned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"ban {self.customer_id}: {self.reason}"


class ModerationLog(models.Model):
    """What an agent did to a topic or post (hide, lock, merge, move, approve, ban), for the queue page."""

    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=30)
    detail = models.CharField(max_length=500, blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    LABELS = {
        "hide": "hid",
        "unhide": "showed again",
        "approve": "approved",
        "lock": "locked",
        "unlock": "unlocked",
        "ban": "banned",
        "unban": "lifted the ban on",
        "merge": "merged",
        "move": "moved to a conversation",
        "status": "changed the status of",
    }

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.topic_id or ''}{self.post_id or ''}"

    @property
    def action_label(self) -> str:
        return self.LABELS.get(self.action, self.action)


class Announcement(models.Model):
    """A company announcement in Markdown; the public sees it from its publish date on."""

    title = models.CharField(max_length=300)
    slug = models.SlugField(max_length=100)
    body = models.TextField(help_text="Markdown.")
    published_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="Empty: a draft. In the future: scheduled."
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("community_announcement", args=[self.pk, self.slug or "news"])

    @property
    def is_live(self) -> bool:
        return self.published_at is not None and self.published_at <= timezone.now()


class AnnouncementsSeen(models.Model):
    """When a customer last looked at the announcements: "new since your last visit" starts here."""

    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "announcements seen"

    def __str__(self) -> str:
        return f"{self.customer_id} saw announcements at {self.seen_at:%Y-%m-%d %H:%M}"
