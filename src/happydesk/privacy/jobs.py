"""The privacy app's periodic work: closed conversations past the retention period are erased."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from happydesk.jobs import Job


def _retention() -> int:
    from happydesk.privacy.erasure import retention_erase

    return retention_erase(days=settings.HAPPYDESK_RETENTION_DAYS).get("conversations", 0)


JOBS = (Job("privacy-retention", _retention, every=timedelta(hours=1)),)
