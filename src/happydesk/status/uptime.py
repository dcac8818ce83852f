"""Uptime from state history, as pure functions (no ORM): a day's share of time up, and its worst state.

A component is up while operational, under maintenance or degraded (degraded marks the day yellow);
a partial outage counts half down, a major outage fully down. Time before the component existed, and
time after `now`, is not counted at all: such a day has no data rather than a made-up 100%.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from happydesk.status.models import SEVERITY, ComponentState

UP_WEIGHT: dict[str, float] = {
    ComponentState.OPERATIONAL: 1.0,
    ComponentState.MAINTENANCE: 1.0,
    ComponentState.DEGRADED: 1.0,
    ComponentState.PARTIAL_OUTAGE: 0.5,
    ComponentState.MAJOR_OUTAGE: 0.0,
}


@dataclass(frozen=True)
class Segment:
    """The component was in `state` from `start` to `end`."""

    start: datetime
    end: datetime
    state: str


@dataclass
class DayUptime:
    """One bar: how much of the day the component was up, and what went on."""

    day: date
    covered: float = 0.0  # seconds of the day we have history for
    up: float = 0.0  # of those, seconds counted as up (partial outage counts half)
    worst: str | None = None
    incidents: int = 0
    maintenances: int = 0

    @property
    def share(self) -> float | None:
        return self.up / self.covered if self.covered else None

    @property
    def level(self) -> str:
        """The bar's colour: the worst state seen that day, or `none` without data."""
        if self.worst is None:
            return "none"
        return str(self.worst)

    @property
    def label(self) -> str:
        """What the bar says on hover and to the uptime summary, e.g. "Nov 3: 99.2% up, 1 incident"."""
        when = f"{self.day:%b} {self.day.day}"
        if self.share is None:
            return f"{when}: no data"
        parts = [f"{when}: {percent(self.share, digits=1)} up"]
        if self.incidents:
            parts.append(f"{self.incidents} incident{'s' if self.incidents != 1 else ''}")
        if self.maintenances:
            parts.append(f"{self.maintenances} maintenance window{'s' if self.maintenances != 1 else ''}")
        if not self.incidents and not self.maintenances:
            parts.append(
                "no incidents" if self.worst == ComponentState.OPERATIONAL else str(_NAMES[self.worst])
            )
        return ", ".join(parts)


_NAMES = dict(ComponentState.choices)


def percent(share: float, *, digits: int = 2) -> str:
    """A share as a percentage rounded down, so any downtime never shows as 100%."""
    if share >= 1:
        return "100%"
    scale = 10**digits
    value = math.floor(share * 100 * scale) / scale
    return f"{value:.{digits}f}%"


def segments(
    *, initial: str | None, changes: Sequence[tuple[datetime, str]], start: datetime, end: datetime
) -> list[Segment]:
    """The history between `start` and `end` as consecutive segments.

    `initial` is the state in force at `start` (None: the component did not exist yet); `changes` are
    (at, state) pairs after `start`, in time order.
    """
    out: list[Segment] = []
    current_start, current = start, initial
    for at, state in changes:
        if at <= start:
            current = state
            continue
        if at >= end:
            break
        if current is not None and at > current_start:
            out.append(Segment(current_start, at, current))
        current_start, current = at, state
    if current is not None and end > current_start:
        out.append(Segment(current_start, end, current))
    return out


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """Local midnight to the next local midnight (23 or 25 hours on daylight-saving days)."""
    return (
        datetime.combine(day, time.min, tzinfo=tz),
        datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz),
    )


def daily(
    *,
    segs: Iterable[Segment],
    days: Sequence[date],
    tz: tzinfo,
    windows: Iterable[tuple[datetime, datetime | None, bool]] = (),
    now: datetime,
) -> list[DayUptime]:
    """Per day: covered and up seconds, worst state, and the incidents (False) / maintenance windows (True)
    given as (start, end or None while open, is_maintenance) that overlap it."""
    out = [DayUptime(day=d) for d in days]
    bounds = [day_bounds(d, tz) for d in days]
    seg_list = list(segs)
    for result, (lo, hi) in zip(out, bounds, strict=True):
        for seg in seg_list:
            start, end = max(seg.start, lo), min(seg.end, hi)
            if end <= start:
                continue
            seconds = (end - start).total_seconds()
            result.covered += seconds
            result.up += seconds * UP_WEIGHT[seg.state]
            if result.worst is None or SEVERITY[seg.state] > SEVERITY[result.worst]:
                result.worst = seg.state
    for w_start, w_end, is_maintenance in windows:
        w_end = w_end or now
        for result, (lo, hi) in zip(out, bounds, strict=True):
            if w_start < hi and w_end >= lo:
                if is_maintenance:
                    result.maintenances += 1
                else:
                    result.incidents += 1
    return out


def overall_share(days: Iterable[DayUptime]) -> float | None:
    """Up time over covered time across the days (None when there is no history at all)."""
    covered = up = 0.0
    for d in days:
        covered += d.covered
        up += d.up
    return up / covered if covered else None
