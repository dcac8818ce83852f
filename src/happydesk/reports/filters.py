"""The report's filters: a date range (a rolling "last N days" or fixed dates), mailbox, channel and tag,
read leniently from query parameters (a bad value falls back to the default, never an error page)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from urllib.parse import urlencode

from happydesk.inbox.models import Conversation

PERIODS = (7, 30, 90, 365)
DEFAULT_PERIOD = 30
MAX_DAYS = 731


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    mailbox_id: int | None = None
    channel: str = ""
    tag: str = ""
    period: int | None = DEFAULT_PERIOD  # a rolling "last N days" range; None for fixed dates

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Filters:
        """The period of equal length just before this one."""
        return replace(self, start=self.start - timedelta(days=self.days), end=self.start - timedelta(days=1))

    @property
    def filtered(self) -> bool:
        """Narrowed to part of the team's work (a mailbox, channel or tag)?"""
        return bool(self.mailbox_id or self.channel or self.tag)

    def params(self) -> dict[str, str]:
        """The query parameters that give this report again (a rolling period stays rolling)."""
        out = (
            {"period": str(self.period)}
            if self.period
            else {"start": self.start.isoformat(), "end": self.end.isoformat()}
        )
        if self.mailbox_id:
            out["mailbox"] = str(self.mailbox_id)
        if self.channel:
            out["channel"] = self.channel
        if self.tag:
            out["tag"] = self.tag
        return out

    def query(self) -> str:
        return urlencode(self.params())


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def filters_from(params: Mapping[str, str], *, today: date) -> Filters:
    """Filters from query parameters: `period` (days back from today) or else `start`/`end` (ISO dates),
    `mailbox` (id), `channel`, `tag` (name). Defaults to the last 30 days."""
    start, end = _date(params.get("start")), _date(params.get("end"))
    period = _int(params.get("period"))
    if (start or end) and not period:  # a chosen period wins over dates left in the form
        end = end or today
        start = start or end - timedelta(days=DEFAULT_PERIOD - 1)
        if start > end:
            start, end = end, start
        start = max(start, end - timedelta(days=MAX_DAYS - 1))
        period = None
    else:
        period = period if period and 0 < period <= MAX_DAYS else DEFAULT_PERIOD
        end, start = today, today - timedelta(days=period - 1)
    channel = params.get("channel") or ""
    return Filters(
        start=start,
        end=end,
        mailbox_id=_int(params.get("mailbox")),
        channel=channel if channel in Conversation.Channel.values else "",
        tag=(params.get("tag") or "").strip().lower()[:100],
        period=period,
    )
