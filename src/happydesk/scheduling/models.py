"""Who works which hours: a weekly schedule of shifts, each in the agent's own time zone.

People data kept apart from reports: staffing compares it with the hours that need cover, and routing
will later read it to know who is on shift."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.timezone import now


class Shift(models.Model):
    """One weekly shift: an agent works `weekday` from `start` to `end` in `timezone`.

    An end at or before the start runs past midnight into the next day (22:00-06:00)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shifts")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField()
    timezone = models.CharField(max_length=64, default="UTC")
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["weekday", "start", "agent_id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="shift_weekday_0_6"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.agent} {self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M} {self.timezone}"
        )
