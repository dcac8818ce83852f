"""Changing the schedule: add and remove shifts."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction

from happydesk.accounts.models import User
from happydesk.scheduling.models import Shift


class BadShift(ValueError):
    """The shift cannot be saved as given (unknown time zone, no length, bad weekday)."""


def valid_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@transaction.atomic
def shift_add(*, agent: User, weekday: int, start: time, end: time, timezone: str) -> Shift:
    """Add a weekly shift; an end at or before the start means it runs past midnight."""
    if not 0 <= weekday <= 6:
        raise BadShift("weekday must be 0 (Monday) to 6 (Sunday)")
    if start == end:
        raise BadShift("a shift needs a length: start and end are the same")
    if not valid_timezone(timezone):
        raise BadShift(f"unknown time zone {timezone!r}")
    return Shift.objects.create(agent=agent, weekday=weekday, start=start, end=end, timezone=timezone)


@transaction.atomic
def shift_remove(*, shift: Shift) -> None:
    """Remove a shift from the weekly schedule."""
    shift.delete()
