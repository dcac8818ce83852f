"""The scheduler's table: when each periodic job last ran (runtime/jobs.py)."""

from __future__ import annotations

from django.db import models


class PeriodicRun(models.Model):
    """Last run of a scheduled job; a conditional update makes exactly one worker run it per interval."""

    name = models.CharField(max_length=100, primary_key=True)
    last_run_at = models.DateTimeField(null=True)

    class Meta:
        db_table = "mail_periodicrun"  # created by the mail app before the runtime app owned it
