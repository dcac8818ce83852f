"""Figures and tables of the report, and how their numbers read: on the page (42 min, 64%, +3 pts) and in
CSV (plain numbers: percentages as 64.0, durations in minutes)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

# Value kinds: int, num (one decimal), pct (a share 0..1), dur (seconds), score (-100..100), money, text,
# and the changes: dpts (percentage points), dint (a count), drel (relative, 0.1 = +10%).


def duration(seconds: float | None) -> str:
    """A wait as people say it: 40 s, 42 min, 1.5 h, 2.1 d."""
    if seconds is None:
        return "–"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    if minutes < 59.5:
        return f"{minutes:.0f} min"
    hours = minutes / 60
    if hours < 36:
        return f"{hours:.1f} h".replace(".0 h", " h")
    return f"{hours / 24:.1f} d".replace(".0 d", " d")


def show(value: Any, kind: str, currency: str = "") -> str:
    """A value as the page shows it."""
    if value is None or value == "":
        return "–"
    if kind == "pct":
        return f"{100 * value:.0f}%"
    if kind == "dur":
        return duration(value)
    if kind == "num":
        return f"{value:,.1f}"
    if kind in ("int", "score"):
        return f"{value:,.0f}"
    if kind == "money":
        return f"{value:,.2f} {currency}".strip()
    if kind == "dpts":
        return "±0 pts" if round(100 * value) == 0 else f"{100 * value:+.0f} pts"
    if kind == "dint":
        return "±0" if value == 0 else f"{value:+,.0f}"
    if kind == "drel":
        return "±0%" if round(100 * value) == 0 else f"{100 * value:+.0f}%"
    return str(value)


def raw(value: Any, kind: str) -> Any:
    """A value as CSV has it: percentages and points as numbers of percent, durations in minutes."""
    if value is None:
        return ""
    if kind in ("pct", "dpts", "drel"):
        return round(100 * value, 1)
    if kind == "dur":
        return round(value / 60, 1)
    if kind in ("num", "money"):
        return round(value, 2)
    return value


def change(current: float | None, previous: float | None, kind: str) -> tuple[float | None, str]:
    """The change from the previous period and how it reads: points for shares and scores, the
    difference for counts, a relative change for times and money."""
    if current is None or previous is None:
        return None, ""
    if kind in ("pct",):
        return current - previous, "dpts"
    if kind == "score":
        return current - previous, "dint"
    if kind == "int":
        return current - previous, "dint"
    if not previous:
        return None, ""
    return (current - previous) / previous, "drel"


@dataclass
class Figure:
    """One number with the previous period beside it; `better` says which way is good news."""

    key: str
    label: str
    value: float | None
    previous: float | None
    kind: str
    better: str = "higher"  # or "lower", or "" for figures to know, not to move
    hint: str = ""
    currency: str = ""

    @property
    def shown(self) -> str:
        return show(self.value, self.kind, self.currency)

    @property
    def shown_previous(self) -> str:
        return show(self.previous, self.kind, self.currency)

    @property
    def delta(self) -> tuple[float | None, str]:
        return change(self.value, self.previous, self.kind)

    @property
    def shown_change(self) -> str:
        value, kind = self.delta
        return show(value, kind) if value is not None else ""

    @property
    def mood(self) -> str:
        """good, bad or flat: for the colour of the change (never the only signal: the sign is shown)."""
        value, kind = self.delta
        if value is None or not self.better or show(value, kind).startswith("±"):
            return "flat"
        up = value > 0
        return "good" if up == (self.better == "higher") else "bad"


@dataclass
class Table:
    """A table of the report: shown on the page and exported as CSV under its key."""

    key: str
    title: str
    columns: list[tuple[str, str]]  # (label, kind)
    rows: list[list[Any]] = field(default_factory=list)
    note: str = ""
    currency: str = ""
    # For tables whose rows are figures of different kinds: each row's own kinds, else the columns'.
    row_kinds: list[list[str]] | None = None
    export_url: str = ""

    def _kinds(self, i: int) -> list[str]:
        if self.row_kinds is not None:
            return self.row_kinds[i]
        return [kind for _, kind in self.columns]

    def add(self, row: list[Any], kinds: list[str] | None = None) -> None:
        self.rows.append(row)
        if kinds is not None:
            self.row_kinds = (self.row_kinds or []) + [kinds]

    def shown_rows(self) -> list[list[tuple[str, str]]]:
        """Each cell as (text, kind), for the template."""
        return [
            [(show(v, kind, self.currency), kind) for v, kind in zip(row, self._kinds(i), strict=True)]
            for i, row in enumerate(self.rows)
        ]

    def csv(self) -> str:
        """The table as CSV: plain numbers (percent, minutes), text safe from spreadsheet formulas."""
        out = io.StringIO()
        writer = csv.writer(out)
        mixed = self.row_kinds is not None
        writer.writerow(
            [label + (" (minutes)" if kind == "dur" and not mixed else "") for label, kind in self.columns]
        )
        for i, row in enumerate(self.rows):
            writer.writerow([_safe(raw(v, kind)) for v, kind in zip(row, self._kinds(i), strict=True)])
        return out.getvalue()


def _safe(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is prefixed with a quote (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
