"""Reading the audit log: the admins' filters (the page and its CSV export read the same rows), the CSV
form of an entry, and a line of text for its details."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Max, Q, QuerySet

from happydesk.audit.models import Action, AuditEntry

CSV_COLUMNS = [
    "seq",
    "at",
    "actor_email",
    "actor_id",
    "action",
    "target_type",
    "target_id",
    "target_label",
    "ip",
    "details",
    "hash",
]


@dataclass(frozen=True)
class EntryFilter:
    """What an admin asked to see: one action, an actor's email (or part of it), a range of days (UTC,
    both ends included) and text found in the target's label, id or kind. Empty means any."""

    action: str = ""
    actor: str = ""
    since: date | None = None
    until: date | None = None
    text: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> EntryFilter:
        """The filter from a query string; anything unreadable is left out rather than refused."""
        action = params.get("action", "").strip()
        return cls(
            action=action if action in Action.values else "",
            actor=params.get("actor", "").strip()[:254],
            since=_day(params.get("since")),
            until=_day(params.get("until")),
            text=params.get("q", "").strip()[:300],
        )

    def params(self) -> dict[str, str]:
        """The query string's fields that give this filter again (for pages and the export)."""
        out = {"action": self.action, "actor": self.actor, "q": self.text}
        out["since"] = self.since.isoformat() if self.since else ""
        out["until"] = self.until.isoformat() if self.until else ""
        return {k: v for k, v in out.items() if v}


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "").strip()) if value else None
    except ValueError:
        return None


def entries_matching(f: EntryFilter) -> QuerySet[AuditEntry]:
    """The entries the filter lets through, newest first."""
    rows = AuditEntry.objects.order_by("-seq")
    if f.action:
        rows = rows.filter(action=f.action)
    if f.actor:
        rows = rows.filter(actor_email__icontains=f.actor)
    if f.since:
        rows = rows.filter(at__gte=datetime.combine(f.since, time.min, tzinfo=UTC))
    if f.until:
        rows = rows.filter(at__lt=datetime.combine(f.until + timedelta(days=1), time.min, tzinfo=UTC))
    if f.text:
        rows = rows.filter(
            Q(target_label__icontains=f.text) | Q(target_id=f.text) | Q(target_type__iexact=f.text)
        )
    return rows


def newest_seq(rows: QuerySet[AuditEntry]) -> int:
    """The highest entry number among these rows (0 if none): an export reads up to it, so its own
    entry, added meanwhile, is not in the file it describes."""
    return rows.aggregate(top=Max("seq"))["top"] or 0


def csv_row(entry: AuditEntry) -> list[str]:
    """An entry as CSV cells (CSV_COLUMNS); text a spreadsheet would run as a formula gets a quote first."""
    cells: list[Any] = [
        entry.seq,
        entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
        entry.actor_email,
        entry.actor_id or "",
        entry.action,
        entry.target_type,
        entry.target_id,
        entry.target_label,
        entry.ip,
        json.dumps(entry.details, sort_keys=True, ensure_ascii=False),
        entry.hash,
    ]
    return [_safe(str(c)) for c in cells]


def _safe(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def details_text(details: Mapping[str, Any]) -> str:
    """The details as one line for the page: `name: value` pairs, field names in words, a note as it is,
    old and new values as `name: old → new`."""
    parts = []
    if "from" in details and "to" in details:  # a role change: from → to
        parts.append(_value_text({"from": details["from"], "to": details["to"]}))
        details = {k: v for k, v in details.items() if k not in ("from", "to")}
    for key, value in details.items():
        if key == "note":
            parts.append(str(value))
        elif key == "values" and isinstance(value, Mapping):
            parts.extend(f"{_words(k)}: {_value_text(v)}" for k, v in value.items())
        else:
            parts.append(f"{_words(key)}: {_value_text(value)}")
    return " · ".join(parts)


def _words(name: str) -> str:
    return name.replace("_", " ") if name.replace("_", "").isalpha() and name.islower() else name


def _value_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_words(v) if isinstance(v, str) else _value_text(v) for v in value) or "none"
    if isinstance(value, Mapping):
        if set(value) == {"from", "to"}:
            return f"{_value_text(value['from'])} → {_value_text(value['to'])}"
        return ", ".join(f"{_words(k)} {_value_text(v)}" for k, v in value.items())
    if value in ("", None):
        return "(empty)"
    return str(value)


def csv_lines(rows: Iterator[AuditEntry]) -> Iterator[list[str]]:
    """The header, then each entry's cells."""
    yield CSV_COLUMNS
    for entry in rows:
        yield csv_row(entry)
