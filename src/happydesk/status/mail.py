"""Subscriber mail: what a confirmation and an incident update say, and their keys in the shared outbox.

Mails are composed when the update is posted (what was announced is kept as sent) and queued with
`mail.outbound.notice_enqueue`, so they are sent, retried and failed by the same worker and rules as
every other email. Update mails carry RFC 2369/8058 list headers, so mail programs offer their own
one-click unsubscribe. Every key starts with the subscriber (`status-sub:<id>:`), so unsubscribing
cancels whatever is still queued for them with one prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from happydesk.status.models import Incident, IncidentUpdate, Subscriber

KIND_UPDATE = "status-update"
KIND_CONFIRM = "status-confirm"


def subscriber_prefix(subscriber: Subscriber) -> str:
    """The start of every outbox key of this subscriber's mail (cancel them all with it)."""
    return f"status-sub:{subscriber.pk}:"


def update_key(subscriber: Subscriber, update: IncidentUpdate) -> str:
    """Exactly one mail per subscriber per update."""
    return f"{subscriber_prefix(subscriber)}update:{update.pk}"


def confirm_key(subscriber: Subscriber, at: datetime) -> str:
    """One confirmation per request (requests are throttled by subscriber_add)."""
    return f"{subscriber_prefix(subscriber)}confirm:{at:%Y%m%d%H%M%S%f}"


def absolute(path: str) -> str:
    return settings.BASE_URL + path


def unsubscribe_url(subscriber: Subscriber) -> str:
    return absolute(reverse("status_unsubscribe", args=[subscriber.token]))


def confirm_url(subscriber: Subscriber) -> str:
    return absolute(reverse("status_confirm", args=[subscriber.token]))


def incident_url(incident: Incident) -> str:
    return absolute(reverse("status_incident", args=[incident.pk]))


def when(moment: datetime, *, weekday: bool = False, zone: bool = True) -> str:
    """A time as people read it in a mail: "Tue Nov 3, 14:05 UTC" (the site's time zone)."""
    local = timezone.localtime(moment)
    text = f"{local:%a} " if weekday else ""
    text += f"{local:%b} {local.day}, {local:%H:%M}"
    return text + (f" {local:%Z}" if zone else "")


def _domain() -> str:
    return settings.HAPPYDESK_MESSAGE_ID_DOMAIN


@dataclass(frozen=True)
class UpdateParts:
    """The parts of an update mail that are the same for every subscriber."""

    subject: str
    body: str
    thread: str


def update_parts(update: IncidentUpdate) -> UpdateParts:
    incident = update.incident
    state = update.get_state_display()
    lines = [incident.title, f"{state} · {when(update.created_at)}", "", update.body]
    if incident.is_maintenance and incident.scheduled_start and incident.scheduled_end:
        start = when(incident.scheduled_start, weekday=True, zone=False)
        lines += ["", f"Planned window: {start} to {when(incident.scheduled_end, weekday=True)}"]
    names = list(incident.affected.select_related("component").values_list("component__name", flat=True))
    if names:
        lines += ["", "Affected: " + ", ".join(sorted(names))]
    lines += ["", f"Full timeline: {incident_url(incident)}"]
    label = "Maintenance" if incident.is_maintenance else state
    return UpdateParts(
        subject=f"[{label}] {incident.title}",
        body="\n".join(lines),
        thread=f"<status-incident-{incident.pk}@{_domain()}>",
    )


def update_for(parts: UpdateParts, subscriber: Subscriber) -> dict:
    """Subject, body and headers of one subscriber's copy (their own unsubscribe link)."""
    link = unsubscribe_url(subscriber)
    body = (
        parts.body
        + "\n\n--\nYou get this because you subscribed to status updates.\n"
        + f"Unsubscribe with one click: {link}\n"
    )
    headers = {
        "List-Id": f"Status updates <status.{_domain()}>",
        "List-Unsubscribe": f"<{link}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Auto-Submitted": "auto-generated",
        "Precedence": "bulk",
        "References": parts.thread,
    }
    return {"subject": parts.subject, "body": body, "headers": headers}


def confirm_for(subscriber: Subscriber) -> dict:
    """The double opt-in mail: nothing else is sent until its link is followed."""
    body = (
        "Someone, hopefully you, asked to get status updates by email at this address.\n\n"
        f"Confirm here:\n{confirm_url(subscriber)}\n\n"
        "If it wasn't you, ignore this email: without confirmation you will get nothing else from us.\n"
    )
    return {
        "subject": "Confirm your subscription to status updates",
        "body": body,
        "headers": {"Auto-Submitted": "auto-generated"},
    }
