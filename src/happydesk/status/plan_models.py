"""The incident plan's data: who is told, the plan's steps and outcomes, the conversations linked to an
incident, the replies sent to their customers (at most one per customer per round), early warnings and
security flags. Imported by models.py, so Django knows these as models of the `status` app.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

DEFAULT_REPLY_TEMPLATE = (
    "Hi {{ customer.first_name }},\n\n"
    "Thanks for writing in. We know about this problem and we're working on it: {title}.\n\n"
    "{body}\n\n"
    "You can follow it live here: {url}\n\n"
    "We'll write to you here again as soon as it's fixed.\n\n"
    "{{ agent.first_name }}"
)


class IncidentSettings(models.Model):
    """Who hears about incidents and security reports, and how the plan paces itself. One row (pk 1)."""

    early_warning = models.JSONField(
        default=list, blank=True, help_text="Addresses told first: declared incidents, unusual volume."
    )
    on_call = models.JSONField(
        default=list,
        blank=True,
        help_text="Addresses for security reports, at any hour. Empty: every active admin.",
    )
    contact_every_minutes = models.PositiveIntegerField(
        default=60, help_text="Remind the team when customers have heard nothing for this long."
    )
    replies_per_minute = models.PositiveIntegerField(
        default=120, help_text="How fast the bulk reply goes out (the worker sends it in small batches)."
    )
    reply_template = models.TextField(
        default=DEFAULT_REPLY_TEMPLATE,
        help_text="The saved reply the plan makes: {title}, {body} and {url} are the incident's; "
        "{{ customer.first_name }} and {{ agent.first_name }} are filled per conversation.",
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "incident settings"

    @classmethod
    def current(cls) -> IncidentSettings:
        """The settings row, created with the defaults on first use."""
        row, _ = cls.objects.get_or_create(pk=1)
        return row


class EarlyWarning(models.Model):
    """An unusual number of new conversations about one thing (a tag or a cluster of words) in the last
    hour, compared with the same hour of the week in the past weeks. Alerted once; updated while it lasts."""

    label = models.CharField(max_length=100, help_text="The strongest signal: a word or a tag.")
    kind = models.CharField(max_length=10, choices=[("word", "Word"), ("tag", "Tag")])
    keys = models.JSONField(default=list, help_text='Every signal in the cluster: "word:login", "tag:sso".')
    count = models.PositiveIntegerField()
    usual = models.FloatField(help_text="The usual count for this hour of the week.")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    conversation_ids = models.JSONField(default=list)
    reasons = models.JSONField(
        default=dict, blank=True, help_text="Conversation id -> the distinctive words and tags it matched on."
    )
    profile = models.JSONField(
        default=dict,
        blank=True,
        help_text='The burst\'s distinctive terms and their weights ("word:offline": 3.1): conversations '
        "arriving later join an incident declared from it when theirs add up (early_warning.JOIN).",
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now, db_index=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    incident = models.ForeignKey(
        "status.Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="warnings"
    )

    class Meta:
        ordering = ["-last_seen_at", "-id"]

    def __str__(self) -> str:
        return self.sentence

    @property
    def what(self) -> str:
        return f"are tagged '{self.label}'" if self.kind == "tag" else f"are about '{self.label}'"

    @property
    def usual_text(self) -> str:
        if self.usual == 0:
            return "usual is none"
        if self.usual < 1:
            return "usual is under 1"
        return f"usual is {round(self.usual):g}"

    @property
    def sentence(self) -> str:
        """ "12 conversations are about 'login' in the last hour; usual is 1"."""
        hours = max(1, round((self.window_end - self.window_start).total_seconds() / 3600))
        span = "the last hour" if hours == 1 else f"the last {hours} hours"
        noun = "conversation" if self.count == 1 else "conversations"
        return f"{self.count} {noun} {self.what} in {span}; {self.usual_text}"

    @property
    def also(self) -> list[str]:
        """The other words and tags that came with the same conversations."""
        return [k.split(":", 1)[1] for k in self.keys[1:]]

    def reasons_for(self, conversation_id: int) -> list[str]:
        """The words and tags this conversation matched on (empty for one linked before reasons)."""
        return list(self.reasons.get(str(conversation_id), []))


class IncidentPlan(models.Model):
    """The plan that runs when an incident is declared: what it matches and what it made."""

    incident = models.OneToOneField("status.Incident", on_delete=models.CASCADE, related_name="plan")
    tags = models.JSONField(default=list, blank=True)
    keywords = models.JSONField(default=list, blank=True, help_text="Searched like the inbox search box.")
    since = models.DateTimeField(help_text="Match conversations with customer messages since then.")
    auto_link = models.BooleanField(default=True, help_text="Link new matching conversations as they arrive.")
    auto_reply = models.BooleanField(
        default=True, help_text="Once the first reply went out, send it to conversations linked later too."
    )
    saved_reply = models.ForeignKey(
        "replies.SavedReply", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The forum topic, by id and address only: the community app may be absent or change on its own.
    known_issue_id = models.PositiveIntegerField(null=True, blank=True)
    known_issue_url = models.CharField(max_length=500, blank=True)
    warning = models.ForeignKey(
        EarlyWarning, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact_every_minutes = models.PositiveIntegerField(default=60)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)


class PlanStep(models.Model):
    """One step of the plan and what came of it, shown in order on the incident's agent page."""

    class Step(models.IntegerChoices):
        WARN = 1, "Tell the early-warning list"
        FORUM = 2, "Post a known issue in the forum"
        SAVED_REPLY = 3, "Write one answer for everyone"
        MATCH = 4, "Find the conversations it affects"
        SEND = 5, "Reply to everyone affected"
        NOTICE = 6, "Show a notice in the product"

    class Outcome(models.TextChoices):
        PENDING = "pending", "Not yet"
        WAITING = "waiting", "Waiting for you"
        RUNNING = "running", "In progress"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    plan = models.ForeignKey(IncidentPlan, on_delete=models.CASCADE, related_name="steps")
    step = models.PositiveSmallIntegerField(choices=Step.choices)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    detail = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["step"]
        constraints = [models.UniqueConstraint(fields=["plan", "step"], name="status_plan_step_once")]


class IncidentLink(models.Model):
    """A conversation affected by an incident. Removing keeps the row (removed=True), so the matcher
    never links it again and the record shows who took it out."""

    class How(models.TextChoices):
        MATCHED = "matched", "Matched when declared"
        MANUAL = "manual", "Added by an agent"
        AUTO = "auto", "Linked as it arrived"

    incident = models.ForeignKey("status.Incident", on_delete=models.CASCADE, related_name="links")
    conversation = models.ForeignKey(
        "inbox.Conversation", on_delete=models.CASCADE, related_name="incident_links"
    )
    how = models.CharField(max_length=10, choices=How.choices)
    reason = models.CharField(max_length=200, blank=True, help_text="Why it matched: tag, words, warning.")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    removed = models.BooleanField(default=False)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["incident", "conversation"], name="status_link_once")]


class IncidentNotice(models.Model):
    """One round of replies to every linked customer: the first answer, an update, or "fixed".
    The first and the final round exist at most once per incident."""

    class Kind(models.TextChoices):
        FIRST = "first", "First reply"
        UPDATE = "update", "Update"
        FINAL = "final", "Fixed"

    class State(models.TextChoices):
        SENDING = "sending", "Sending"
        DONE = "done", "Sent"

    incident = models.ForeignKey("status.Incident", on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    update = models.ForeignKey(
        "status.IncidentUpdate", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(help_text="With {{ customer.first_name }}-style placeholders, filled per reply.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.SENDING)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["state"])]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "kind"],
                condition=~Q(kind="update"),
                name="status_notice_first_final_once",
            )
        ]


class NoticeDelivery(models.Model):
    """A customer got (or could not get) one round's reply: the unique constraint is the rule that no
    customer ever gets the same notice twice, whatever number of linked conversations they have."""

    class State(models.TextChoices):
        SENT = "sent", "Queued as a reply"
        FAILED = "failed", "Not sent"

    notice = models.ForeignKey(IncidentNotice, on_delete=models.CASCADE, related_name="deliveries")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey("inbox.Conversation", on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(
        "inbox.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.SENT)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notice", "customer"], name="status_notice_once_per_customer")
        ]
