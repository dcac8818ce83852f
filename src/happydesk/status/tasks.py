"""Background work of the status page: sending its outbox (run by `happydesk worker` like every task)."""

from __future__ import annotations

from django_tasks import task

from happydesk.status.mail import send_due

MAX_PER_RUN = 10_000


@task()
def status_mail_send() -> int:
    """Send every due confirmation and update mail; a large subscriber list is sent in batches."""
    total = 0
    while total < MAX_PER_RUN:
        handled = send_due(limit=200)
        if not handled:
            break
        total += handled
    return total
