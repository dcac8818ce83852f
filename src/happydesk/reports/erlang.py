"""Erlang C: how many agents a queue needs to answer a share of arrivals within a time (M/M/N model).

Pure functions, no Django. The wait probability comes from the Erlang B recursion
B(0) = 1, B(n) = A*B(n-1) / (n + A*B(n-1)), then C = N*B / (N - A*(1-B)): every step stays between 0 and
1, so there is no factorial or power to overflow and thousands of agents compute in microseconds.
When N <= A the queue grows without bound: every arrival waits, no one is answered within any target
(service level 0) and the average wait is infinite, reported as None rather than a made-up number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_AGENTS = 1_000_000  # a guard against a runaway search, far beyond any real team


@dataclass(frozen=True)
class Staffing:
    """How a queue performs with a given number of agents."""

    agents: int
    traffic: float  # offered load in erlangs (A)
    service_level: float  # share answered within the target time, 0..1
    wait_probability: float  # share that waits at all (Erlang C), 0..1
    asa_seconds: float | None  # average speed of answer over all arrivals; None when unstable
    occupancy: float | None  # A / N; None with no agents
    stable: bool  # N > A (or nothing arrives)


def traffic_intensity(*, calls: float, interval_seconds: float, aht_seconds: float) -> float:
    """Offered load in erlangs: arrivals per second times the average handle time."""
    if calls < 0 or interval_seconds <= 0 or aht_seconds <= 0:
        raise ValueError("calls must be >= 0, interval and handle time > 0")
    return calls * aht_seconds / interval_seconds


def erlang_b(agents: int, traffic: float) -> float:
    """Blocking probability with `agents` servers and no queue, by the stable recursion."""
    if agents < 0 or traffic < 0:
        raise ValueError("agents and traffic must be >= 0")
    b = 1.0
    for n in range(1, agents + 1):
        b = traffic * b / (n + traffic * b)
    return b


def _erlang_c_from_b(agents: int, traffic: float, b: float) -> float:
    if traffic == 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    return min(1.0, agents * b / (agents - traffic * (1.0 - b)))


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that an arrival has to wait (1.0 when the queue is unstable)."""
    return _erlang_c_from_b(agents, traffic, erlang_b(agents, traffic))


def _staffing(agents: int, traffic: float, b: float, aht_seconds: float, answer_within: float) -> Staffing:
    if traffic == 0:
        return Staffing(agents, 0.0, 1.0, 0.0, 0.0, 0.0 if agents else None, True)
    occupancy = traffic / agents if agents else None
    if agents <= traffic:
        return Staffing(agents, traffic, 0.0, 1.0, None, occupancy, False)
    c = _erlang_c_from_b(agents, traffic, b)
    # exp() of a large negative number underflows to 0.0 quietly, which is the right limit.
    level = 1.0 - c * math.exp(-(agents - traffic) * answer_within / aht_seconds)
    asa = c * aht_seconds / (agents - traffic)
    return Staffing(agents, traffic, max(0.0, min(1.0, level)), c, asa, occupancy, True)


def _check(aht_seconds: float, answer_within_seconds: float) -> None:
    if aht_seconds <= 0:
        raise ValueError("the average handle time must be > 0")
    if answer_within_seconds < 0:
        raise ValueError("the answer-within time must be >= 0")


def performance(
    *, calls: float, interval_seconds: float, aht_seconds: float, answer_within_seconds: float, agents: int
) -> Staffing:
    """How `agents` people perform against this arrival rate: service level, wait, ASA, occupancy."""
    _check(aht_seconds, answer_within_seconds)
    if agents < 0:
        raise ValueError("agents must be >= 0")
    traffic = traffic_intensity(calls=calls, interval_seconds=interval_seconds, aht_seconds=aht_seconds)
    return _staffing(agents, traffic, erlang_b(agents, traffic), aht_seconds, answer_within_seconds)


def agents_needed(
    *,
    calls: float,
    interval_seconds: float,
    aht_seconds: float,
    answer_within_seconds: float,
    service_level: float,
    max_occupancy: float | None = None,
) -> Staffing:
    """The fewest agents that answer `service_level` of arrivals within the target time, and keep
    occupancy at or under `max_occupancy` if given. One pass: Erlang B is carried from n-1 to n."""
    _check(aht_seconds, answer_within_seconds)
    if not 0 < service_level < 1:
        raise ValueError("the service level goal must be between 0 and 1 (exclusive)")
    if max_occupancy is not None and not 0 < max_occupancy <= 1:
        raise ValueError("the maximum occupancy must be in (0, 1]")
    traffic = traffic_intensity(calls=calls, interval_seconds=interval_seconds, aht_seconds=aht_seconds)
    if traffic == 0:
        return _staffing(0, 0.0, 1.0, aht_seconds, answer_within_seconds)
    floor = math.floor(traffic) + 1  # the fewest agents for a stable queue
    if max_occupancy is not None:
        floor = max(floor, math.ceil(traffic / max_occupancy - 1e-9))
    b = 1.0
    for n in range(1, MAX_AGENTS + 1):
        b = traffic * b / (n + traffic * b)
        if n < floor:
            continue
        result = _staffing(n, traffic, b, aht_seconds, answer_within_seconds)
        if result.service_level >= service_level:
            return result
    raise ValueError(f"more than {MAX_AGENTS} agents would be needed")
