"""Business hours arithmetic: how much of a wait fell inside the team's working hours. Pure functions, no
database: the hours are a mailbox's `business_hours` ({"0": [["09:00", "17:00"]], ...}, 0 = Monday) read
in its time zone, so daylight saving changes and weekends come out right."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Hours = Mapping[str, Sequence[Sequence[str]]]

# A mailbox without business hours is treated as always open: business time equals calendar time.
ALWAYS_OPEN: dict[str, list[list[str]]] = {str(day): [["00:00", "24:00"]] for day in range(7)}


def zone(name: str | tzinfo | None) -> tzinfo:
    """The time zone by name; UTC when the name is empty or unknown."""
    if isinstance(name, tzinfo):
        return name
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


@lru_cache(maxsize=256)
def _parse(value: str) -> tuple[int, int]:
    hours, minutes = value.strip().split(":")
    return int(hours), int(minutes)


def _at(day: date, value: str, tz: tzinfo) -> datetime:
    """The instant `value` (HH:MM, "24:00" = the next midnight) on `day` in `tz`, in UTC."""
    hours, minutes = _parse(value)
    if hours >= 24:
        day, hours = day + timedelta(days=hours // 24), hours % 24
    return datetime.combine(day, time(hours, minutes), tzinfo=tz).astimezone(UTC)


def open_spans(day: date, hours: Hours, tz: tzinfo) -> list[tuple[datetime, datetime]]:
    """The working spans that start on local `day`, as UTC instants; a span whose end is not after its
    start runs past midnight (["22:00", "06:00"])."""
    spans = []
    for start, end in hours.get(str(day.weekday())) or ():
        opens = _at(day, start, tz)
        closes = _at(day, end, tz)
        if closes <= opens:
            closes = _at(day + timedelta(days=1), end, tz)
        spans.append((opens, closes))
    return spans


def _spans_between(first: date, last: date, hours: Hours, tz: tzinfo) -> list[tuple[datetime, datetime]]:
    """Working spans starting on local days first..last, sorted, overlaps merged (never counted twice)."""
    spans: list[tuple[datetime, datetime]] = []
    day = first
    while day <= last:
        spans.extend(open_spans(day, hours, tz))
        day += timedelta(days=1)
    spans.sort()
    merged: list[tuple[datetime, datetime]] = []
    for opens, closes in spans:
        if merged and opens <= merged[-1][1]:
            if closes > merged[-1][1]:
                merged[-1] = (merged[-1][0], closes)
        else:
            merged.append((opens, closes))
    return merged


def business_seconds_between(start: datetime, end: datetime, hours: Hours, tz: str | tzinfo) -> float:
    """Seconds between two aware instants that fall inside business hours (0 when end <= start)."""
    if end <= start:
        return 0.0
    tz = zone(tz)
    start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
    # A span may run past midnight, so look from one local day early.
    first = start_utc.astimezone(tz).date() - timedelta(days=1)
    last = end_utc.astimezone(tz).date()
    total = 0.0
    for opens, closes in _spans_between(first, last, hours, tz):
        lo, hi = max(opens, start_utc), min(closes, end_utc)
        if hi > lo:
            total += (hi - lo).total_seconds()
    return total


def is_open(at: datetime, hours: Hours, tz: str | tzinfo) -> bool:
    """Is the team working at this instant?"""
    tz = zone(tz)
    at_utc = at.astimezone(UTC)
    local = at_utc.astimezone(tz).date()
    return any(
        opens <= at_utc < closes
        for opens, closes in _spans_between(local - timedelta(days=1), local, hours, tz)
    )


class BusinessClock:
    """business_seconds_between for many waits in one mailbox: the working spans are laid out once with
    running totals, so each wait costs two binary searches (the rollup measures every conversation)."""

    def __init__(self, hours: Hours, tz: str | tzinfo) -> None:
        self.hours, self.tz = hours, zone(tz)
        self.first: date | None = None
        self.last: date | None = None
        self.starts: list[float] = []
        self.ends: list[float] = []
        self.before: list[float] = []  # business seconds in all earlier spans

    def _cover(self, start: datetime, end: datetime) -> None:
        first = start.astimezone(self.tz).date() - timedelta(days=1)
        last = end.astimezone(self.tz).date()
        if self.first is not None and self.last is not None:  # laid out before (the two are set together)
            if self.first <= first and last <= self.last:
                return
            first, last = min(first, self.first), max(last, self.last)
        # Lay out a little more than asked so that neighbouring waits reuse it.
        self.first, self.last = first - timedelta(days=7), last + timedelta(days=7)
        self.starts, self.ends, self.before = [], [], []
        total = 0.0
        for opens, closes in _spans_between(self.first, self.last, self.hours, self.tz):
            self.starts.append(opens.timestamp())
            self.ends.append(closes.timestamp())
            self.before.append(total)
            total += (closes - opens).total_seconds()

    def _upto(self, t: float) -> float:
        i = bisect_right(self.starts, t) - 1
        if i < 0:
            return 0.0
        return self.before[i] + min(t, self.ends[i]) - self.starts[i]

    def seconds(self, start: datetime, end: datetime) -> float:
        """Business seconds between two aware instants, as business_seconds_between."""
        if end <= start:
            return 0.0
        self._cover(start, end)
        # Rounded to the millisecond: float timestamps must not turn exactly one hour into 3600.0000001 s.
        return round(self._upto(end.timestamp()) - self._upto(start.timestamp()), 3)

    def is_open(self, at: datetime) -> bool:
        """Is the team working at this instant?"""
        self._cover(at, at)
        t = at.timestamp()
        i = bisect_right(self.starts, t) - 1
        return i >= 0 and t < self.ends[i]
