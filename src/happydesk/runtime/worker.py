"""The worker: passes over the job registry (runtime/jobs.py): the inbound queue, the outbox, scheduled jobs.

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
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from django.db import close_old_connections

if TYPE_CHECKING:
    from happydesk.jobs import Job

log = logging.getLogger(__name__)


def run_once(jobs: Sequence[Job] | None = None) -> int:
    """One pass over the registry's jobs: the queues (jobs without an interval), then each interval
    job that is due; returns how much work was done (0 = idle). A job that fails is logged and the
    others still run."""
    from happydesk.runtime.jobs import JOBS, periodic_due

    jobs = JOBS if jobs is None else jobs
    queues = [job for job in jobs if job.interval() is None]

    def run(job: Job) -> int:
        try:
            return job.run()
        except Exception as exc:
            _log_failure(f"job {job.name} failed", exc)
            return 0

    done = sum(run(job) for job in queues)
    for job in jobs:
        every = job.interval()
        if every is not None and periodic_due(job.name, every):
            done += run(job)
            # A periodic job can take a while (a rollup): the queues get a turn after each one, so a
            # customer's message waits behind one job at most.
            done += sum(run(queue) for queue in queues)
    return done


def _log_failure(what: str, exc: Exception) -> None:
    """A passing fault (full disk, database away) is one warning line per pass, not a traceback each
    second; anything else keeps its traceback."""
    from happydesk.mail.faults import passing_fault

    reason = passing_fault(exc)
    if reason is not None:
        log.warning("%s: %s", what, reason)
    else:
        log.exception(what)


def run_forever(
    *, interval: float = 0.2, stop: threading.Event | None = None, on_idle: Callable[[], None] | None = None
) -> None:
    """Loop until SIGTERM/SIGINT (or `stop` is set), sleeping `interval` seconds when there is nothing to do."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    log.info("worker %s-%s started", socket.gethostname(), os.getpid())
    from happydesk.mail.inbound import release_dead_leases, warm_up

    try:
        release_dead_leases()
    except Exception as exc:  # a full disk at start must not stop the worker: the leases run out anyway
        _log_failure("releasing dead leases failed", exc)
    warm_up()
    while not stop.is_set():
        close_old_connections()
        try:
            done = run_once()
        except Exception as exc:
            _log_failure("worker pass failed; retrying", exc)
            done = 0
            time.sleep(1)
        if not done:
            if on_idle:
                on_idle()
            stop.wait(interval)
    log.info("worker stopped")
