"""What a periodic job is. Each app lists its own in `<app>/jobs.py`; the runtime's registry
(`happydesk.runtime.jobs`) collects them and every worker pass runs the ones that are due (ADR 0006)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Job:
    """`run` returns how much work it did (0 lets an idle worker sleep). `every` None runs it on every
    worker pass (the queues); otherwise exactly one worker runs it per interval, across all hosts. A
    callable `every` is read at each pass (an interval taken from settings that tests change)."""

    name: str
    run: Callable[[], int]
    every: timedelta | Callable[[], timedelta] | None = None

    def interval(self) -> timedelta | None:
        return self.every() if callable(self.every) else self.every
