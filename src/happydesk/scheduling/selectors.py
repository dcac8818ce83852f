"""Reads of the schedule: the shifts, and how many people cover each hour of the week."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from happydesk.scheduling.models import Shift

HOURS_PER_WEEK = 168


def shifts() -> QuerySet[Shift]:
    return Shift.objects.select_related("agent").order_by("weekday", "start", "agent__name")


def shift_groups() -> list[dict]:
    """Shifts grouped by agent and hours, for a compact schedule: Marcus, Mon-Fri, 08:00-16:00."""
    groups: dict[tuple, dict] = {}
    for shift in shifts().order_by("agent__name", "start", "end", "timezone", "weekday"):
        key = (shift.agent_id, shift.start, shift.end, shift.timezone)
        group = groups.setdefault(
            key,
            {
                "agent": shift.agent,
                "start": shift.start,
                "end": shift.end,
                "timezone": shift.timezone,
                "shifts": [],
            },
        )
        group["shifts"].append(shift)
    return list(groups.values())


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def coverage(*, zone: str, shift_list: list[Shift] | None = None, week_of: date | None = None) -> list[float]:
    """People on shift in each hour of the week (index = weekday * 24 + hour) in the time zone `zone`.

    Shifts are laid on a real week (the week of `week_of`, default this one) so that time zones and
    daylight saving line up as they will; a person counts for the share of the hour they work, at most
    once per hour however their shifts overlap. The week wraps: Sunday night runs into Monday."""
    shown = ZoneInfo(zone)
    week_of = week_of or datetime.now(shown).date()
    monday = _monday(week_of)
    monday_wall = datetime.combine(monday, datetime.min.time())
    per_agent: dict[int, list[float]] = defaultdict(lambda: [0.0] * HOURS_PER_WEEK)
    for shift in shifts() if shift_list is None else shift_list:
        own = ZoneInfo(shift.timezone)
        day = monday + timedelta(days=shift.weekday)
        start = datetime.combine(day, shift.start, tzinfo=own)
        end = datetime.combine(
            day + timedelta(days=1 if shift.end <= shift.start else 0), shift.end, tzinfo=own
        )
        # Wall-clock hours from Monday 00:00 in the shown zone.
        begin = (start.astimezone(shown).replace(tzinfo=None) - monday_wall).total_seconds() / 3600
        length = (end - start).total_seconds() / 3600
        hours = per_agent[shift.agent_id]
        position = begin
        while position < begin + length - 1e-9:
            cell_start = int(position // 1)
            step = min(cell_start + 1, begin + length) - position
            cell = cell_start % HOURS_PER_WEEK
            hours[cell] = min(1.0, hours[cell] + step)
            position += step
    total = [0.0] * HOURS_PER_WEEK
    for hours in per_agent.values():
        for i, share in enumerate(hours):
            total[i] += share
    return [round(value, 2) for value in total]
