"""`happydesk staffing erlang-c ...`: the Erlang C calculator on the command line, printing JSON."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from happydesk.reports import erlang


class Command(BaseCommand):
    help = "Staffing calculators. erlang-c: agents needed for a service goal, or how K agents perform."
    requires_system_checks: list[str] = []  # a pure calculator: no database, URLs or settings checks

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{erlang-c}")
        calc = actions.add_parser(
            "erlang-c",
            help="Erlang C for one interval",
            description="Either --service-level (the fewest agents that meet the goal) or --agents "
            "(how that many agents perform). Prints agents, service_level, wait_probability, "
            "asa_seconds (null when the queue is unstable) and occupancy as JSON.",
        )
        calc.add_argument("--calls", type=float, required=True, help="arrivals in the interval")
        calc.add_argument("--interval-minutes", type=float, required=True)
        calc.add_argument("--aht-seconds", type=float, required=True, help="average handle time")
        calc.add_argument("--answer-within-seconds", type=float, required=True, help="the target time")
        goal = calc.add_mutually_exclusive_group(required=True)
        goal.add_argument("--service-level", type=float, help="goal, e.g. 0.8 for 80%%")
        goal.add_argument("--agents", type=int, help="evaluate this many agents")
        calc.add_argument("--max-occupancy", type=float, help="with --service-level, e.g. 0.85")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["max_occupancy"] is not None and options["agents"] is not None:
            raise CommandError("--max-occupancy only applies with --service-level")
        common = {
            "calls": options["calls"],
            "interval_seconds": options["interval_minutes"] * 60,
            "aht_seconds": options["aht_seconds"],
            "answer_within_seconds": options["answer_within_seconds"],
        }
        try:
            if options["agents"] is not None:
                result = erlang.performance(**common, agents=options["agents"])
            else:
                result = erlang.agents_needed(
                    **common, service_level=options["service_level"], max_occupancy=options["max_occupancy"]
                )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(_as_json(result), indent=2))


def _as_json(result: erlang.Staffing) -> dict[str, Any]:
    """The figures, rounded to what a person can read; an infinite wait is null, never a number."""

    def r(value: float | None, digits: int) -> float | None:
        return None if value is None else round(value, digits)

    return {
        "agents": result.agents,
        "service_level": r(result.service_level, 6),
        "wait_probability": r(result.wait_probability, 6),
        "asa_seconds": r(result.asa_seconds, 3),
        "occupancy": r(result.occupancy, 6),
        "traffic_erlangs": r(result.traffic, 6),
        "stable": result.stable,
    }
