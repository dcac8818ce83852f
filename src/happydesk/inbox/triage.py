"""Triage: which open conversation needs a person first, and why. Pure: no database access.

score = waiting points (time since the customer's last message against the mailbox's response goal,
        40 per goal-length waited, at most 120)
      + feeling points (frustrated 30, worried 20, confused 10)
      + blocked points (35 when the subject or latest message says the customer is stuck: cannot log
        in, charged twice, data lost, security...)
      + customer points (VIP 25; enterprise or pro plan 10)
Every part that counts adds a reason, shown beside the conversation. The parts that do not move with
the clock are stored on the conversation (`priority_points`, `priority_reasons`) so the inbox sorts by
the whole score in one indexed database query; see `inbox.selectors.triage_score`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

WAITING_WEIGHT, WAITING_CAP, BLOCKED_POINTS = 40, 3.0, 35
FEELING_POINTS = {"frustrated": 30, "worried": 20, "confused": 10}
BLOCKED = re.compile(
    r"can'?t log ?in|cannot log ?in|unable to log ?in|locked out|charged twice|double charge|"
    r"data (?:is )?(?:lost|gone|deleted)|lost (?:all )?(?:my )?data|security|hacked|breach|"
    r"not working at all|is down|outage",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Priority:
    score: float
    reasons: list[str] = field(default_factory=list)


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours >= 48:
        return f"{hours / 24:.0f} days"
    return f"{hours:.0f} h" if hours >= 1 else f"{delta.total_seconds() / 60:.0f} min"


def waiting_points(waited: timedelta, goal_minutes: int) -> float:
    """Points for time waited against the goal; the database computes the same in `inbox.selectors`."""
    return min(waited / timedelta(minutes=max(goal_minutes, 1)), WAITING_CAP) * WAITING_WEIGHT


def standing(*, feeling: str = "", text: str = "", attributes: dict | None = None) -> Priority:
    """The part of the score that does not change with the clock (feeling, blocked words, customer).
    Stored on the conversation when any of these change, so the database can sort by it."""
    score, reasons = 0, []
    if feeling in FEELING_POINTS:
        score += FEELING_POINTS[feeling]
        reasons.append(f"feels {feeling}")
    match = BLOCKED.search(text or "")
    if match:
        score += BLOCKED_POINTS
        reasons.append(f"says “{match.group(0).lower()}”")
    attributes = attributes or {}
    if attributes.get("vip"):
        score += 25
        reasons.append("VIP")
    elif str(attributes.get("plan", "")).lower() in {"enterprise", "pro"}:
        score += 10
        reasons.append(f"{attributes['plan']} plan")
    return Priority(score, reasons)


def combine(*, now: datetime, waiting_since: datetime | None, goal_minutes: int, fixed: Priority) -> Priority:
    """The full priority: the stored standing plus the waiting points as of `now`."""
    score, reasons = float(fixed.score), []
    if waiting_since is not None:
        waited = now - waiting_since
        ratio = waited / timedelta(minutes=max(goal_minutes, 1))
        score += waiting_points(waited, goal_minutes)
        goal = _hours(timedelta(minutes=goal_minutes))
        if ratio >= 1:
            reasons.append(f"waiting {_hours(waited)}, over the {goal} goal")
        elif ratio >= 0.5:
            reasons.append(f"waiting {_hours(waited)} of a {goal} goal")
    return Priority(round(score, 1), reasons + list(fixed.reasons))


def priority(
    *,
    now: datetime,
    waiting_since: datetime | None,
    goal_minutes: int,
    feeling: str = "",
    text: str = "",
    attributes: dict | None = None,
) -> Priority:
    """The whole score in one call (tests and one-off use); the inbox sorts by it in the database."""
    fixed = standing(feeling=feeling, text=text, attributes=attributes)
    return combine(now=now, waiting_since=waiting_since, goal_minutes=goal_minutes, fixed=fixed)
