"""A demo schedule: who works which hours, for the staffing page on the demo workspace."""

from __future__ import annotations

from datetime import time

from happydesk.accounts.models import User
from happydesk.scheduling.models import Shift

# (agent's position among the demo agents, weekdays, start, end): a small team on weekday office hours,
# an early and a late shift, and a short Saturday, in the mailboxes' time zone.
DEMO_SHIFTS = (
    (1, range(5), time(8), time(16)),
    (2, range(5), time(9), time(17)),
    (3, range(5), time(11), time(19)),
    (4, range(1, 5), time(9), time(13)),
    (0, (5,), time(10), time(14)),
)


def load_demo_shifts(*, agents: list[User], zone: str) -> list[Shift]:
    """Replace the schedule with the demo one (idempotent)."""
    Shift.objects.filter(agent__in=agents).delete()
    shifts = [
        Shift(agent=agents[index % len(agents)], weekday=day, start=start, end=end, timezone=zone)
        for index, days, start, end in DEMO_SHIFTS
        for day in days
    ]
    return Shift.objects.bulk_create(shifts)
