"""Subscriber mail: what a confirmation and an incident update say, and sending the status outbox.

Rows are composed when the update is posted (what was announced is kept as sent) and sent by the
`status_mail_send` task with the same rules as the reply outbox: a short lease per row, backoff on
failure, permanent SMTP errors fail at once. Update mails carry RFC 2369/8058 list headers, so mail
programs offer their own one-click unsubscribe.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from happydesk.mail.outbound import BACKOFF, LEASE
from happydesk.status.models import Incident, IncidentUpdate, StatusMail, Subscriber

log = logging.getLogger(__name__)


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


# --- sending ------------------------------------------------------------------------------------------


def kick(run_after: datetime | None = None) -> None:
    """Ask a worker to send the status outbox (now, or at `run_after` for a retry)."""
    from happydesk.status.tasks import status_mail_send

    task = status_mail_send.using(run_after=run_after) if run_after else status_mail_send
    task.enqueue()


def compose(row: StatusMail) -> EmailMessage:
    return EmailMessage(
        subject=row.subject,
        body=row.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.to],
        headers=row.headers,
    )


def _claim(row_id: int) -> bool:
    now = timezone.now()
    with transaction.atomic():
        return bool(
            StatusMail.objects.filter(
                pk=row_id,
                state__in=[StatusMail.State.QUEUED, StatusMail.State.RETRY],
                next_attempt_at__lte=now,
            ).update(next_attempt_at=now + LEASE)
        )


def _due() -> Q:
    return Q(state__in=[StatusMail.State.QUEUED, StatusMail.State.RETRY], next_attempt_at__lte=timezone.now())


def send_due(*, limit: int = 100) -> int:
    """Send due rows; returns how many were handled. Rows of a subscriber who left are cancelled."""
    ids = list(
        StatusMail.objects.filter(_due())
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    handled = 0
    connection = None
    for row_id in ids:
        if not _claim(row_id):
            continue
        handled += 1
        row = StatusMail.objects.select_related("subscriber").get(pk=row_id)
        if row.kind == StatusMail.Kind.UPDATE and not row.subscriber.is_active:
            StatusMail.objects.filter(pk=row.pk).update(state=StatusMail.State.CANCELLED)
            continue
        try:
            if connection is None:
                connection = get_connection()
            email = compose(row)
            email.connection = connection
            email.send()
        except Exception as exc:  # every failure is recorded on the row, none is lost
            connection = None
            _record_failure(row, exc)
        else:
            StatusMail.objects.filter(pk=row.pk).update(
                state=StatusMail.State.SENT, attempts=row.attempts + 1, sent_at=timezone.now(), last_error=""
            )
    if connection is not None:
        with contextlib.suppress(Exception):
            connection.close()
    return handled


def _permanent(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


@transaction.atomic
def _record_failure(row: StatusMail, exc: Exception) -> None:
    row.attempts += 1
    row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if _permanent(exc) or row.attempts > len(BACKOFF):
        row.state = StatusMail.State.FAILED
    else:
        row.state = StatusMail.State.RETRY
        row.next_attempt_at = timezone.now() + timedelta(seconds=BACKOFF[row.attempts - 1])
        retry_at = row.next_attempt_at
        transaction.on_commit(lambda: kick(run_after=retry_at))
    row.save(update_fields=["state", "attempts", "last_error", "next_attempt_at"])
    log.warning("status mail %s attempt %s failed: %s", row.pk, row.attempts, row.last_error)
