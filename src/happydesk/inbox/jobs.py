"""The inbox's periodic work: snoozed conversations wake when their time comes."""

from __future__ import annotations

from datetime import timedelta

from happydesk.jobs import Job


def _wake_snoozed() -> int:
    from happydesk.inbox.services import conversations_wake_due

    return conversations_wake_due()


JOBS = (Job("wake-snoozed", _wake_snoozed, every=timedelta(seconds=30)),)
