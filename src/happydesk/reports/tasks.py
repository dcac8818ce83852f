"""The report's periodic jobs, run by the worker (happydesk.worker.run_once): keep the rollup fresh, and
send the weekly digest and the conversation of the day when they are due. Each job runs on one worker
per interval (periodic_due), and a send is recorded so it never goes twice."""

from __future__ import annotations

import logging
from datetime import timedelta

log = logging.getLogger(__name__)

REFRESH_EVERY = timedelta(minutes=5)
SWEEP_EVERY = timedelta(hours=24)
MAIL_CHECK_EVERY = timedelta(minutes=10)


def run_periodic() -> int:
    """Do whichever report job is due; returns how many mails were queued (rollup work is not counted:
    the worker should not spin because of it)."""
    from happydesk.reports import digest, rollup
    from happydesk.worker import periodic_due

    queued = 0
    try:
        if periodic_due("reports-refresh", REFRESH_EVERY):
            rollup.rollup_refresh()
        if periodic_due("reports-sweep", SWEEP_EVERY):
            rollup.rollup_recent(days=35)
    except Exception:
        log.exception("report rollup failed")
    try:
        if periodic_due("reports-mail", MAIL_CHECK_EVERY):
            if digest.digest_due():
                queued += digest.digest_send() is not None
            if digest.conversation_of_the_day_due():
                queued += digest.conversation_of_the_day_send() is not None
    except Exception:
        log.exception("report mail failed")
    return queued
