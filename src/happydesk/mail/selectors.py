"""Reads about the mail pipeline that pages, the CLI and the API share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Min, Q
from django.utils import timezone

from happydesk.mail.models import RawMessage

# Mail normally reaches the inbox within a second or two; pending longer than this, it is held up.
HELD_AFTER = timedelta(minutes=1)


@dataclass(frozen=True)
class InboundHeld:
    """Mail that was acknowledged to its sender but is not in the inbox yet, and why."""

    count: int
    since: datetime  # when the oldest of them arrived
    reason: str  # the passing fault last met; "" if none was recorded (no worker took them)
    retry_at: datetime | None  # the next try, when deferred

    def sentence(self) -> str:
        """One line for admins, e.g. "3 messages waiting: database or disk is full; retrying"."""
        noun = "message" if self.count == 1 else "messages"
        if self.reason:
            return f"{self.count} {noun} waiting: {self.reason}; retrying"
        return f"{self.count} {noun} waiting: not processed yet (is a worker running?)"


def inbound_held(*, now: datetime | None = None) -> InboundHeld | None:
    """All pending mail, once any of it was deferred by a passing fault or has waited longer than
    HELD_AFTER (no worker running, or the fault could not even be written down); None while mail flows.
    One query when all is well, two when something waits."""
    now = now or timezone.now()
    pending = RawMessage.objects.filter(state=RawMessage.State.PENDING)
    totals = pending.aggregate(
        count=Count("id"),
        since=Min("received_at"),
        deferred=Count("id", filter=Q(deferrals__gt=0)),
        late=Count("id", filter=Q(received_at__lt=now - HELD_AFTER)),
    )
    if not totals["deferred"] and not totals["late"]:
        return None
    last = (
        pending.filter(deferrals__gt=0)
        .exclude(last_error="")
        .order_by("-retry_at")
        .values_list("last_error", "retry_at")
        .first()
    )
    reason, retry_at = last if last is not None else ("", None)
    return InboundHeld(count=totals["count"], since=totals["since"], reason=reason, retry_at=retry_at)
