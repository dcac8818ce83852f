"""The status app's periodic jobs (the runtime's registry runs them; one worker per interval): the bulk
replies of the incident plan at their pace, linking late matches, minimum-contact reminders, and the
early warning check."""

from __future__ import annotations

import math
from datetime import timedelta

from django.conf import settings

from happydesk.jobs import Job

TICK = timedelta(seconds=getattr(settings, "HAPPYDESK_STATUS_TICK_SECONDS", 5))
SWEEP_EVERY = timedelta(minutes=2)
REMIND_EVERY = timedelta(minutes=1)
EARLY_WARNING_EVERY = timedelta(minutes=getattr(settings, "HAPPYDESK_EARLY_WARNING_EVERY_MINUTES", 10))


def replies_per_tick() -> int:
    """The bulk reply's pace (replies per minute in the incident settings) as a batch per tick."""
    from happydesk.status.models import IncidentSettings

    per_minute = IncidentSettings.current().replies_per_minute
    return max(1, math.ceil(per_minute * TICK.total_seconds() / 60))


def _replies() -> int:
    from happydesk.status import rounds

    return rounds.notices_send_due(limit=replies_per_tick())


def _link_sweep() -> int:
    from happydesk.status import plan

    return plan.plans_sweep()


def _contact_reminders() -> int:
    from happydesk.status import rounds

    return rounds.contact_reminders_due()


def _early_warning() -> int:
    from happydesk.status import early_warning

    return len(early_warning.early_warning_check())


def _security_sweep() -> int:
    from happydesk.status.security import escalations_missing_send

    return escalations_missing_send()


JOBS = (
    Job("status-security-sweep", _security_sweep, every=SWEEP_EVERY),
    Job("status-replies", _replies, every=TICK),
    Job("status-link-sweep", _link_sweep, every=SWEEP_EVERY),
    Job("status-contact-reminders", _contact_reminders, every=REMIND_EVERY),
    Job("status-early-warning", _early_warning, every=EARLY_WARNING_EVERY),
)
