"""The report's periodic jobs (the runtime's registry runs them; one worker per interval): keep the
rollup fresh, and send the weekly digest and the conversation of the day when they are due; a send is
recorded so it never goes twice."""

from __future__ import annotations

from datetime import timedelta

from happydesk.jobs import Job

REFRESH_EVERY = timedelta(minutes=5)
SWEEP_EVERY = timedelta(hours=24)
MAIL_CHECK_EVERY = timedelta(minutes=10)


def _refresh() -> int:
    from happydesk.reports import rollup

    rollup.rollup_refresh()
    return 0  # rollup work is not counted: the worker should not spin because of it


def _sweep() -> int:
    from happydesk.reports import rollup

    rollup.rollup_recent(days=35)
    return 0


def _mail() -> int:
    """The weekly digest and the conversation of the day, when due; returns how many were queued."""
    from happydesk.reports import digest

    queued = 0
    if digest.digest_due():
        queued += digest.digest_send() is not None
    if digest.conversation_of_the_day_due():
        queued += digest.conversation_of_the_day_send() is not None
    return queued


JOBS = (
    Job("reports-refresh", _refresh, every=REFRESH_EVERY),
    Job("reports-sweep", _sweep, every=SWEEP_EVERY),
    Job("reports-mail", _mail, every=MAIL_CHECK_EVERY),
)
