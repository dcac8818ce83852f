"""Erlang C against published worked examples, at scale, and by its properties (no database)."""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from happydesk.reports import erlang

# Hypothesis keeps caches in ./.hypothesis by default; keep the work tree clean.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "happydesk-hypothesis")

PP = 0.005  # half a percentage point


def test_callcentrehelper_example_100_calls_per_half_hour():
    """100 calls per 30 minutes, AHT 180 s, 80% answered within 20 s: 14 agents, service level 88.8%.

    Source: the Call Centre Helper worked example,
    https://www.callcentrehelper.com/erlang-c-formula-example-121281.htm, with its figures as published by
    the R package ErlangC (README, https://rdocumentation.org/packages/ErlangC/versions/0.1.0):
    traffic 10, wait probability 0.1741319, service level 0.88835, ASA 7.83593701177724 s, occupancy
    0.7142857, agents 14; and its search table's first row, 11 agents: wait 0.6821182, service level
    0.3896138. pyworkforce's page (https://pypi.org/project/pyworkforce/0.1.0/) prints the same figures
    (raw_positions 14, service_level 0.8883500191794669, waiting_probability 0.1741319335950498)."""
    r = erlang.agents_needed(
        calls=100, interval_seconds=1800, aht_seconds=180, answer_within_seconds=20, service_level=0.8
    )
    assert r.agents == 14
    assert r.traffic == pytest.approx(10)
    assert r.service_level == pytest.approx(0.88835, abs=PP)
    assert r.wait_probability == pytest.approx(0.1741319, abs=1e-6)
    assert r.asa_seconds == pytest.approx(7.83593701177724, abs=1e-6)
    assert r.occupancy == pytest.approx(0.7142857, abs=1e-6)
    eleven = erlang.performance(
        calls=100, interval_seconds=1800, aht_seconds=180, answer_within_seconds=20, agents=11
    )
    assert eleven.wait_probability == pytest.approx(0.6821182, abs=1e-6)
    assert eleven.service_level == pytest.approx(0.3896138, abs=PP)
    # With the 85% maximum occupancy of the same example nothing changes: 14 agents are 71% busy.
    capped = erlang.agents_needed(
        calls=100,
        interval_seconds=1800,
        aht_seconds=180,
        answer_within_seconds=20,
        service_level=0.8,
        max_occupancy=0.85,
    )
    assert capped.agents == 14


def test_jonesthenet_average_hour_250_calls():
    """250 calls in an hour, AHT 330 s, 80% of calls answered in 30 s: "Erlang ... thinks we need 28
    advisors" (the accountant's 22.9 is the traffic in erlangs).

    Source: http://www.jonesthenet.com/budgeting/service-levels-erlang/erlang-uplift/"""
    r = erlang.agents_needed(
        calls=250, interval_seconds=3600, aht_seconds=330, answer_within_seconds=30, service_level=0.8
    )
    assert r.traffic == pytest.approx(22.9, abs=0.05)
    assert r.agents == 28
    assert r.service_level >= 0.8
    below = erlang.performance(
        calls=250, interval_seconds=3600, aht_seconds=330, answer_within_seconds=30, agents=27
    )
    assert below.service_level < 0.8


def test_phubers_erlang_vignette_200_calls_per_half_hour():
    """200 calls per half hour, AHT 180 s (a workload of 20 erlangs); 80% within 60 seconds needs 23
    agents, "we get an occupancy of 20/23 or 87%".

    Source: Patrick Hubers, "Erlang: Queuing and Staffing Functions for Contact Centers" (vignette),
    https://rdrr.io/github/phubers/erlang/f/vignettes/vignette.Rmd"""
    r = erlang.agents_needed(
        calls=200, interval_seconds=1800, aht_seconds=180, answer_within_seconds=60, service_level=0.8
    )
    assert r.traffic == pytest.approx(20)
    assert r.agents == 23
    assert round(r.occupancy, 2) == 0.87


def test_mitan_example_360_calls_per_half_hour_55_agents():
    """360 calls per half hour, 4 minute calls, 55 agents, target 15 s: probability of waiting 0.2387,
    average speed of answer 8.184 s, 84.59% answered within 15 s; 55 is also the fewest agents for
    80% within 15 s (traffic 48 erlangs, occupancy 0.873).

    Source: "The Erlang-C formula", http://www.mitan.co.uk/erlang/elgcmath.htm (archived at
    https://web.archive.org/web/20181209042241/http://www.mitan.co.uk/erlang/elgcmath.htm); the
    figures as reproduced step by step in the Maxima worked example of the same page
    (E_c = 0.2387, T_w = 8.184 s/call, P(wait <= 15 s) = 0.8459)."""
    r = erlang.performance(
        calls=360, interval_seconds=1800, aht_seconds=240, answer_within_seconds=15, agents=55
    )
    assert r.traffic == pytest.approx(48)
    assert r.wait_probability == pytest.approx(0.2387, abs=5e-5)
    assert r.asa_seconds == pytest.approx(8.184, abs=5e-4)
    assert r.service_level == pytest.approx(0.8459, abs=PP)
    assert round(r.occupancy, 3) == 0.873
    needed = erlang.agents_needed(
        calls=360, interval_seconds=1800, aht_seconds=240, answer_within_seconds=15, service_level=0.8
    )
    assert needed.agents == 55


def test_pyworkforce_example_with_shrinkage_figures():
    """The same 100-call example as a library documents it with max occupancy 85% and shrinkage 30%:
    raw_positions 14 (positions 20 after shrinkage, 14 / 0.7), service_level 0.8883500191794669,
    occupancy 0.7142857142857143, waiting_probability 0.1741319335950498.

    Source: https://pypi.org/project/pyworkforce/0.1.0/ (example in the project description). Our
    module has no shrinkage: the rostered head count is agents / (1 - shrinkage), as the docs say."""
    r = erlang.agents_needed(
        calls=100,
        interval_seconds=1800,
        aht_seconds=180,
        answer_within_seconds=20,
        service_level=0.8,
        max_occupancy=0.85,
    )
    assert r.agents == 14
    assert math.ceil(r.agents / (1 - 0.3)) == 20
    assert r.service_level == pytest.approx(0.8883500191794669, abs=1e-9)
    assert r.wait_probability == pytest.approx(0.1741319335950498, abs=1e-9)


def test_max_occupancy_can_decide():
    """At high volume the service goal is met at high occupancy; a cap adds people."""
    free = erlang.agents_needed(
        calls=2000, interval_seconds=1800, aht_seconds=300, answer_within_seconds=60, service_level=0.8
    )
    capped = erlang.agents_needed(
        calls=2000,
        interval_seconds=1800,
        aht_seconds=300,
        answer_within_seconds=60,
        service_level=0.8,
        max_occupancy=0.85,
    )
    assert free.occupancy > 0.85
    assert capped.occupancy <= 0.85
    assert capped.agents == math.ceil(free.traffic / 0.85)


def test_hundreds_and_thousands_of_agents_without_overflow_and_fast():
    # ~333 erlangs (factorials and powers overflow a float past ~170 agents).
    started = time.perf_counter()
    mid = erlang.agents_needed(
        calls=2000, interval_seconds=1800, aht_seconds=300, answer_within_seconds=20, service_level=0.8
    )
    big = erlang.agents_needed(
        calls=15000, interval_seconds=1800, aht_seconds=300, answer_within_seconds=20, service_level=0.9
    )
    perf = erlang.performance(
        calls=15000, interval_seconds=1800, aht_seconds=300, answer_within_seconds=20, agents=big.agents + 50
    )
    elapsed = time.perf_counter() - started
    assert 300 < mid.agents < 400 and mid.service_level >= 0.8
    assert big.agents > 1000 and big.traffic == pytest.approx(2500)
    for r in (mid, big, perf):
        assert all(
            math.isfinite(v) for v in (r.service_level, r.wait_probability, r.asa_seconds, r.occupancy)
        )
    below = erlang.performance(
        calls=15000, interval_seconds=1800, aht_seconds=300, answer_within_seconds=20, agents=big.agents - 1
    )
    assert below.service_level < 0.9 <= big.service_level
    assert elapsed < 0.5, elapsed


def test_unstable_queue_is_reported_honestly():
    r = erlang.performance(
        calls=100, interval_seconds=1800, aht_seconds=180, answer_within_seconds=20, agents=10
    )
    assert (r.stable, r.service_level, r.wait_probability, r.asa_seconds) == (False, 0.0, 1.0, None)
    assert r.occupancy == pytest.approx(1.0)
    over = erlang.performance(
        calls=100, interval_seconds=1800, aht_seconds=180, answer_within_seconds=20, agents=4
    )
    assert over.asa_seconds is None and over.occupancy == pytest.approx(2.5)


def test_no_arrivals_needs_nobody():
    r = erlang.agents_needed(
        calls=0, interval_seconds=3600, aht_seconds=300, answer_within_seconds=60, service_level=0.8
    )
    assert (r.agents, r.service_level, r.wait_probability, r.asa_seconds) == (0, 1.0, 0.0, 0.0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"service_level": 1.0},
        {"service_level": 0.0},
        {"service_level": 0.8, "max_occupancy": 0},
        {"service_level": 0.8, "aht_seconds": 0},
        {"service_level": 0.8, "calls": -1},
    ],
)
def test_bad_inputs_are_refused(kwargs):
    args = {"calls": 10, "interval_seconds": 3600, "aht_seconds": 300, "answer_within_seconds": 20}
    with pytest.raises(ValueError):
        erlang.agents_needed(**{**args, **kwargs})


def test_erlang_b_matches_the_textbook_sum_where_that_still_fits_a_float():
    for agents, traffic in [(1, 0.5), (5, 3.2), (20, 14.0), (60, 48.0)]:
        terms = [traffic**k / math.factorial(k) for k in range(agents + 1)]
        assert erlang.erlang_b(agents, traffic) == pytest.approx(terms[-1] / sum(terms), rel=1e-12)


loads = st.floats(min_value=0.01, max_value=800, allow_nan=False)


@settings(max_examples=200, deadline=None, database=None)
@given(traffic=loads, extra=st.integers(min_value=0, max_value=60), t=st.floats(min_value=0, max_value=600))
def test_service_level_rises_with_agents(traffic, extra, t):
    agents = math.floor(traffic) + 1 + extra
    calls = traffic * 3600 / 300
    levels = [
        erlang.performance(
            calls=calls, interval_seconds=3600, aht_seconds=300, answer_within_seconds=t, agents=n
        ).service_level
        for n in (agents, agents + 1, agents + 5)
    ]
    assert levels[0] <= levels[1] + 1e-12 <= levels[2] + 2e-12


@settings(max_examples=300, deadline=None, database=None)
@given(traffic=st.floats(min_value=0, max_value=2000, allow_nan=False), agents=st.integers(0, 2500))
def test_wait_probability_is_a_probability(traffic, agents):
    c = erlang.erlang_c(agents, traffic)
    assert 0.0 <= c <= 1.0
    if agents > traffic > 0:
        assert erlang.erlang_c(agents + 1, traffic) <= c + 1e-12


@settings(max_examples=100, deadline=None, database=None)
@given(
    traffic=st.floats(min_value=0.05, max_value=500),
    level=st.floats(min_value=0.05, max_value=0.99),
    t=st.floats(min_value=0, max_value=300),
)
def test_agents_needed_is_the_fewest(traffic, level, t):
    calls = traffic * 3600 / 240
    args = {"calls": calls, "interval_seconds": 3600, "aht_seconds": 240, "answer_within_seconds": t}
    r = erlang.agents_needed(**args, service_level=level)
    assert r.service_level >= level and r.agents > traffic
    fewer = erlang.performance(**args, agents=r.agents - 1)
    assert fewer.service_level < level
