"""The job registry: every app's periodic jobs, in the order a worker pass runs them, and the
scheduler that lets exactly one worker run each interval job (ADR 0006).

Background work has one mechanism: the worker's passes over this list. The durable queues (raw
inbound mail, the outbox) are tables that the jobs drain; there is no separate task queue.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from happydesk.inbox import jobs as inbox_jobs
from happydesk.jobs import Job
from happydesk.mail import jobs as mail_jobs
from happydesk.privacy import jobs as privacy_jobs
from happydesk.reports import jobs as reports_jobs
from happydesk.search import jobs as search_jobs
from happydesk.status import jobs as status_jobs

JOBS: tuple[Job, ...] = (
    *mail_jobs.JOBS,  # inbound first: a customer's message is never behind a report
    *inbox_jobs.JOBS,
    *status_jobs.JOBS,
    *reports_jobs.JOBS,
    *privacy_jobs.JOBS,
    *search_jobs.JOBS,
)

_not_before: dict[str, datetime] = {}  # per process: a job is surely not due before this


def periodic_due(name: str, every: timedelta) -> bool:
    """True for exactly one caller per interval, across all workers (conditional update). Once a run is
    seen, this process does not ask the database again before that run's interval is over: the worker
    asks for every job on every pass, five times a second when idle."""
    from happydesk.runtime.models import PeriodicRun

    now = timezone.now()
    if now < _not_before.get(name, now):
        return False
    last = PeriodicRun.objects.filter(name=name).values_list("last_run_at", flat=True).first()
    if last is not None and last > now - every:
        _not_before[name] = last + every
        return False  # answered without taking the write lock
    with transaction.atomic():
        PeriodicRun.objects.get_or_create(name=name, defaults={"last_run_at": None})
        due = bool(
            PeriodicRun.objects.filter(name=name)
            .filter(Q(last_run_at__isnull=True) | Q(last_run_at__lte=now - every))
            .update(last_run_at=now)
        )
    if due:
        _not_before[name] = now + every
    return due


def periodic_forget() -> None:
    """Forget what this process knows of past runs (tests that move PeriodicRun rows back in time)."""
    _not_before.clear()
