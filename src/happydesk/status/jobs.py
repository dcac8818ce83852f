"""The status app's background work, run by every worker pass (`happydesk.worker.run_once`) and done by
exactly one worker per interval (`periodic_due`): the bulk replies of the incident plan at their pace,
linking late matches, minimum-contact reminders, and the early warning check."""

from __future__ import annotations

import logging
import math
from datetime import timedelta

from django.conf import settings

log = logging.getLogger(__name__)

TICK = timedelta(seconds=getattr(settings, "HAPPYDESK_STATUS_TICK_SECONDS", 5))
SWEEP_EVERY = timedelta(minutes=2)
REMIND_EVERY = timedelta(minutes=1)
EARLY_WARNING_EVERY = timedelta(minutes=getattr(settings, "HAPPYDESK_EARLY_WARNING_EVERY_MINUTES", 10))


def replies_per_tick() -> int:
    """The bulk reply's pace (replies per minute in the incident settings) as a batch per tick."""
    from happydesk.status.models import IncidentSettings

    per_minute = IncidentSettings.current().replies_per_minute
    return max(1, math.ceil(per_minute * TICK.total_seconds() / 60))


def run_due() -> int:
    """One tick of status work if it is due; returns how much was done (0 = nothing to do)."""
    from happydesk.status import early_warning, plan, rounds
    from happydesk.worker import periodic_due

    if not periodic_due("status-tick", TICK):  # one cheap read per worker pass in between
        return 0
    jobs = (
        ("status-replies", None, lambda: rounds.notices_send_due(limit=replies_per_tick())),  # every tick
        ("status-link-sweep", SWEEP_EVERY, plan.plans_sweep),
        ("status-contact-reminders", REMIND_EVERY, rounds.contact_reminders_due),
        ("status-early-warning", EARLY_WARNING_EVERY, lambda: len(early_warning.early_warning_check())),
    )
    done = 0
    for name, every, job in jobs:
        if every is None or periodic_due(name, every):
            try:
                done += job()
            except Exception:  # one failing job must not stop the others or the worker
                log.exception("status job %s failed", name)
    return done
