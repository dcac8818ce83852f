"""The status page: components and their states, incidents and maintenance with timelines, subscribers.

Every component state change is kept (`ComponentStateChange`), so uptime is computed from what happened,
never stored as a number. An `Incident` is the anchor the incident plan hangs off (plan_models.py: its
steps, linked conversations, the replies sent to customers), with their own foreign keys to it.
Subscriber mail goes through the shared outbox (`mail.OutboundMail`, see mail.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from happydesk import tokens


class ComponentState(models.TextChoices):
    OPERATIONAL = "operational", "Operational"
    DEGRADED = "degraded", "Degraded performance"
    PARTIAL_OUTAGE = "partial_outage", "Partial outage"
    MAJOR_OUTAGE = "major_outage", "Major outage"
    MAINTENANCE = "maintenance", "Under maintenance"


# Worst wins when several incidents touch one component, and for the page's overall line.
SEVERITY: dict[str, int] = {  # keyed by ComponentState; the state columns read back as plain str
    ComponentState.OPERATIONAL: 0,
    ComponentState.MAINTENANCE: 1,
    ComponentState.DEGRADED: 2,
    ComponentState.PARTIAL_OUTAGE: 3,
    ComponentState.MAJOR_OUTAGE: 4,
}


class ComponentGroup(models.Model):
    """A heading on the page ("Product", "Integrations") that components sit under."""

    name = models.CharField(max_length=200, unique=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class Component(models.Model):
    """A part of the service customers recognise (API, Dashboard, Email delivery) with its current state."""

    name = models.CharField(max_length=200)
    description = models.CharField(max_length=300, blank=True)
    group = models.ForeignKey(
        ComponentGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="components"
    )
    order = models.PositiveIntegerField(default=0)
    state = models.CharField(
        max_length=20, choices=ComponentState.choices, default=ComponentState.OPERATIONAL
    )
    state_since = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True, help_text="Hidden from the page; history kept.")

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class ComponentStateChange(models.Model):
    """Append-only: from `at` on, the component was in `state` (until its next change)."""

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="state_changes")
    state = models.CharField(max_length=20, choices=ComponentState.choices)
    at = models.DateTimeField(default=timezone.now)
    incident = models.ForeignKey(
        "Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="state_changes"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["component", "at"])]


class Incident(models.Model):
    """An unplanned incident or a planned maintenance window, with its timeline and affected components."""

    class Kind(models.TextChoices):
        INCIDENT = "incident", "Incident"
        MAINTENANCE = "maintenance", "Scheduled maintenance"

    class Impact(models.TextChoices):
        NONE = "none", "None"
        MINOR = "minor", "Minor"
        MAJOR = "major", "Major"
        CRITICAL = "critical", "Critical"

    class State(models.TextChoices):
        INVESTIGATING = "investigating", "Investigating"
        IDENTIFIED = "identified", "Identified"
        MONITORING = "monitoring", "Monitoring"
        RESOLVED = "resolved", "Resolved"
        SCHEDULED = "scheduled", "Scheduled"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"

    INCIDENT_STATES = (State.INVESTIGATING, State.IDENTIFIED, State.MONITORING, State.RESOLVED)
    MAINTENANCE_STATES = (State.SCHEDULED, State.IN_PROGRESS, State.COMPLETED)
    CLOSED_STATES = (State.RESOLVED, State.COMPLETED)

    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.INCIDENT)
    title = models.CharField(max_length=200)
    impact = models.CharField(max_length=10, choices=Impact.choices, default=Impact.MINOR)
    state = models.CharField(max_length=15, choices=State.choices, default=State.INVESTIGATING)
    scheduled_start = models.DateTimeField(null=True, blank=True)
    scheduled_end = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True, help_text="Declared, or maintenance began.")
    resolved_at = models.DateTimeField(null=True, blank=True, help_text="Resolved, or maintenance completed.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    components = models.ManyToManyField(Component, through="IncidentComponent", related_name="incidents")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["kind", "state"]), models.Index(fields=["resolved_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind="incident", state__in=["investigating", "identified", "monitoring", "resolved"]
                )
                | Q(kind="maintenance", state__in=["scheduled", "in_progress", "completed"]),
                name="status_incident_state_fits_kind",
            ),
            models.CheckConstraint(
                condition=Q(kind="incident")
                | Q(
                    scheduled_start__isnull=False,
                    scheduled_end__isnull=False,
                    scheduled_end__gt=models.F("scheduled_start"),
                ),
                name="status_maintenance_has_window",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_maintenance(self) -> bool:
        return self.kind == self.Kind.MAINTENANCE

    @property
    def is_closed(self) -> bool:
        return self.state in self.CLOSED_STATES

    @property
    def is_active(self) -> bool:
        """Affecting components right now: an unresolved incident or maintenance in progress."""
        if self.is_maintenance:
            return self.state == self.State.IN_PROGRESS
        return self.state != self.State.RESOLVED


class IncidentComponent(models.Model):
    """A component an incident affects, and the state the incident puts it in while active."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="affected")
    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=20, choices=ComponentState.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "component"], name="status_incident_component_unique")
        ]


class IncidentUpdate(models.Model):
    """One entry in an incident's public timeline."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    state = models.CharField(max_length=15, choices=Incident.State.choices)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]


SUBSCRIBER_PURPOSE = "status-subscriber"


def new_subscriber_selector() -> str:
    return tokens.new_selector(16)


class Subscriber(models.Model):
    """Someone who asked for status updates by email; gets them only once confirmed, until unsubscribed."""

    email = models.EmailField(max_length=320, unique=True)
    # The selector of the secret in the confirm and unsubscribe links (happydesk/tokens.py); the token
    # itself is never stored, and one handed out before is kept as a digest.
    selector = models.CharField(max_length=64, unique=True, default=new_subscriber_selector)
    legacy_digest = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    confirm_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.email

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None

    @property
    def token(self) -> str:
        """The secret in this subscriber's confirm and unsubscribe links (not stored; tokens.py)."""
        return tokens.issue(SUBSCRIBER_PURPOSE, self.selector)

    @staticmethod
    def with_token(token: str) -> Q:
        """A filter for the subscriber whose links carry this token."""
        return tokens.matching(
            SUBSCRIBER_PURPOSE, token, selector_field="selector", legacy_field="legacy_digest"
        )


# The incident plan, early warnings and security flags live in their own module; Django finds them here.
from happydesk.status.plan_models import (  # noqa: E402
    EarlyWarning,
    IncidentLink,
    IncidentNotice,
    IncidentPlan,
    IncidentSettings,
    NoticeDelivery,
    PlanStep,
)

__all__ = [
    "Component",
    "ComponentGroup",
    "ComponentState",
    "ComponentStateChange",
    "EarlyWarning",
    "Incident",
    "IncidentComponent",
    "IncidentLink",
    "IncidentNotice",
    "IncidentPlan",
    "IncidentSettings",
    "IncidentUpdate",
    "NoticeDelivery",
    "PlanStep",
    "SEVERITY",
    "Subscriber",
]
