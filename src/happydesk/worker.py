"""The task worker: drains the inbound queue (raw messages), the outbox, scheduled jobs and Django tasks.

Several workers may run at once, on one host or many (PostgreSQL): every queue is claimed per row
(row locks with SKIP LOCKED, or leases), so no job runs twice at the same time.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone

log = logging.getLogger(__name__)


_not_before: dict[str, datetime] = {}  # per process: a job is surely not due before this


def periodic_due(name: str, every: timedelta) -> bool:
    """True for exactly one caller per interval, across all workers (conditional update). Once a run is
    seen, this process does not ask the database again before that run's interval is over: the worker
    calls this for every job on every loop, five times a second when idle."""
    from happydesk.mail.models import PeriodicRun

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


def _imap_poll() -> int:
    from happydesk.mail.transports import imap

    return imap.poll_all()


def _django_tasks(max_tasks: int = 10) -> int:
    """Run ready tasks of Django's tasks API (database backend)."""
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=max_tasks,
        worker_id=f"{socket.gethostname()}-{os.getpid()}",
        excluded_queue_names=[],
    )
    if not DBTaskResult.objects.ready().exists():
        return 0
    worker.run()
    return worker._run_tasks


def run_once() -> int:
    """One pass over every queue; returns how much work was done (0 = idle)."""
    from django.conf import settings

    from happydesk.mail import inbound, outbound

    done = inbound.process_pending(limit=500)
    done += outbound.send_due(limit=50)
    if periodic_due("imap-poll", timedelta(seconds=settings.HAPPYDESK_IMAP_POLL_SECONDS)):
        try:
            _imap_poll()
        except Exception:
            log.exception("IMAP poll failed")
    if periodic_due("wake-snoozed", timedelta(seconds=30)):
        from happydesk.inbox.services import conversations_wake_due

        done += conversations_wake_due()
    from happydesk.reports.tasks import run_periodic as reports_periodic  # rollup refresh, digests

    done += reports_periodic()
    from happydesk.status.jobs import run_due as status_periodic  # incident replies, early warning

    done += status_periodic()
    done += _django_tasks()
    return done


def run_forever(
    *, interval: float = 0.2, stop: threading.Event | None = None, on_idle: Callable[[], None] | None = None
) -> None:
    """Loop until SIGTERM/SIGINT (or `stop` is set), sleeping `interval` seconds when there is nothing to do."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    log.info("worker %s-%s started", socket.gethostname(), os.getpid())
    from happydesk.mail.inbound import release_dead_leases

    release_dead_leases()
    while not stop.is_set():
        close_old_connections()
        try:
            done = run_once()
        except Exception:
            log.exception("worker pass failed; retrying")
            done = 0
            time.sleep(1)
        if not done:
            if on_idle:
                on_idle()
            stop.wait(interval)
    log.info("worker stopped")
