"""The mail app's work for the worker: the inbound queue and the outbox on every pass, IMAP polling and
the outbox sweep on their intervals."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from happydesk.jobs import Job


def _inbound() -> int:
    from happydesk.mail.inbound import process_pending

    return process_pending(limit=500)


def _outbox() -> int:
    from happydesk.mail.outbound import send_due

    return send_due(limit=50)


def _outbox_sweep() -> int:
    from happydesk.mail.outbound import replies_unqueued_enqueue

    return replies_unqueued_enqueue()


def _imap_poll() -> int:
    from happydesk.mail.transports import imap

    imap.poll_all()
    return 0  # new mail is counted when the inbound queue processes it


JOBS = (
    Job("mail-inbound", _inbound),
    Job("mail-outbox", _outbox),
    Job("mail-outbox-sweep", _outbox_sweep, every=timedelta(seconds=60)),
    Job("imap-poll", _imap_poll, every=lambda: timedelta(seconds=settings.HAPPYDESK_IMAP_POLL_SECONDS)),
)
