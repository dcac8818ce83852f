"""business_seconds_between and friends: pure, no database. Hand-checked cases across weekends, time zones,
daylight saving changes, overnight spans and odd hours; BusinessClock agrees with it everywhere."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from happydesk.reports.buckets import EDGES, SIZE, bucket_of, histogram, percentile
from happydesk.reports.hours import ALWAYS_OPEN, BusinessClock, business_seconds_between, is_open, zone
from happydesk.reports.masking import mask_text

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
NINE_TO_FIVE = {str(d): [["09:00", "17:00"]] for d in range(5)}
H = 3600


def at(tz, *args):  # type: ignore[no-untyped-def]
    return datetime(*args, tzinfo=tz)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (at(NY, 2025, 3, 3, 10), at(NY, 2025, 3, 3, 10, 30), 0.5 * H),  # inside one day
        (at(NY, 2025, 3, 3, 7), at(NY, 2025, 3, 3, 8), 0),  # before opening
        (at(NY, 2025, 3, 3, 8), at(NY, 2025, 3, 3, 10), 1 * H),  # opens at 9
        (at(NY, 2025, 3, 3, 16), at(NY, 2025, 3, 4, 10), 2 * H),  # overnight: 16-17 and 9-10
        (at(NY, 2025, 3, 7, 16, 30), at(NY, 2025, 3, 10, 9, 30), 1 * H),  # over a weekend and DST start
        (at(NY, 2025, 3, 8, 11), at(NY, 2025, 3, 9, 20), 0),  # all weekend
        (at(NY, 2025, 3, 3, 9), at(NY, 2025, 3, 10, 9), 40 * H),  # a whole week
        (at(NY, 2025, 10, 31, 16), at(NY, 2025, 11, 3, 10), 2 * H),  # over DST end
        (at(NY, 2025, 3, 3, 12), at(NY, 2025, 3, 3, 11), 0),  # end before start
        (at(UTC, 2025, 3, 3, 14), at(UTC, 2025, 3, 3, 15), 1 * H),  # 9-10 in New York, given in UTC
    ],
)
def test_business_seconds_new_york_nine_to_five(start, end, expected):
    assert business_seconds_between(start, end, NINE_TO_FIVE, "America/New_York") == expected
    assert BusinessClock(NINE_TO_FIVE, NY).seconds(start, end) == expected


def test_the_same_instants_in_another_time_zone_give_other_business_time():
    start, end = at(UTC, 2025, 3, 3, 8), at(UTC, 2025, 3, 3, 18)  # Monday 08:00-18:00 UTC
    assert business_seconds_between(start, end, NINE_TO_FIVE, "Europe/Berlin") == 8 * H  # CET: 8-16 UTC
    assert business_seconds_between(start, end, NINE_TO_FIVE, "America/New_York") == 4 * H  # 14-18 UTC
    assert business_seconds_between(start, end, NINE_TO_FIVE, "Asia/Tokyo") == 0  # 17:00 JST onwards


def test_dst_day_is_short_and_hours_are_local():
    # Sunday 30 March 2025 Berlin springs forward at 2:00: a 00:00-06:00 span is only 5 hours long.
    night = {"6": [["00:00", "06:00"]]}
    day = at(BERLIN, 2025, 3, 30)
    assert business_seconds_between(day, day + timedelta(days=1), night, BERLIN) == 5 * H
    # Sunday 26 October it falls back: 6 hours and one more.
    day = at(BERLIN, 2025, 10, 26)
    assert business_seconds_between(day, day + timedelta(days=1), night, BERLIN) == 7 * H


def test_spans_past_midnight_split_shifts_and_24_hours():
    night_shift = {str(d): [["22:00", "06:00"]] for d in range(7)}
    assert (
        business_seconds_between(at(UTC, 2025, 3, 3, 23), at(UTC, 2025, 3, 4, 7), night_shift, "UTC") == 7 * H
    )
    split = {"0": [["09:00", "12:00"], ["13:00", "17:00"]]}
    assert business_seconds_between(at(UTC, 2025, 3, 3, 11), at(UTC, 2025, 3, 3, 14), split, "UTC") == 2 * H
    overlapping = {"0": [["09:00", "12:00"], ["11:00", "13:00"]]}  # counted once
    assert business_seconds_between(at(UTC, 2025, 3, 3), at(UTC, 2025, 3, 4), overlapping, "UTC") == 4 * H
    start = at(NY, 2025, 3, 8, 11).astimezone(UTC)  # 50 real hours over the DST change
    assert business_seconds_between(start, start + timedelta(hours=50), ALWAYS_OPEN, NY) == 50 * H


def test_is_open_and_unknown_zone():
    assert is_open(at(NY, 2025, 3, 3, 9), NINE_TO_FIVE, NY)
    assert not is_open(at(NY, 2025, 3, 3, 17), NINE_TO_FIVE, NY)  # closes at 17:00
    assert not is_open(at(NY, 2025, 3, 8, 12), NINE_TO_FIVE, NY)  # Saturday
    assert zone("Not/AZone") == UTC and zone("") == UTC


def test_business_clock_agrees_with_the_function():
    rnd = random.Random(5)
    hours = {
        "0": [["08:30", "12:00"], ["13:00", "18:00"]],
        "2": [["22:00", "04:00"]],
        "4": [["10:00", "24:00"]],
        "5": [["10:00", "14:00"]],
    }
    for tz in (NY, BERLIN, ZoneInfo("Asia/Kolkata")):
        clock = BusinessClock(hours, tz)
        for _ in range(300):
            start = at(UTC, 2025, 1, 1) + timedelta(minutes=rnd.randrange(0, 400 * 24 * 60))
            end = start + timedelta(minutes=rnd.choice([1, 30, 600, 3000, 20000, 60000]) * rnd.random())
            assert clock.seconds(start, end) == pytest.approx(
                business_seconds_between(start, end, hours, tz), abs=0.01
            )
            assert clock.is_open(start) == is_open(start, hours, tz)


def test_buckets_have_the_goals_as_edges_and_percentiles_stay_in_the_bucket():
    assert {H, 6 * H, 24 * H} <= set(EDGES)
    assert bucket_of(-5) == 0 and bucket_of(0) == 0 and bucket_of(H - 1) == bucket_of(H) - 1
    assert bucket_of(10**9) == SIZE - 1
    assert percentile([], 0.5) is None and percentile([0, 0], 0.5) is None
    assert percentile(histogram([100 * 86400]), 0.5) == 60 * 86400  # the open-ended bucket: its floor
    rnd = random.Random(1)
    for _ in range(200):
        values = sorted(rnd.lognormvariate(8, 2) for _ in range(rnd.randint(1, 60)))
        counts = histogram(values)
        for p in (0.5, 0.9):
            exact = values[max(1, -(-int(p * 1000) * len(values) // 1000)) - 1]  # nearest rank
            assert bucket_of(percentile(counts, p)) == bucket_of(exact)


def test_masking_customer_details():
    text = "Hi, I'm Casey Customer (casey.c@example.test), call +1 (555) 010-2030 or see https://x.test/t/abc"
    masked = mask_text(text, names=["Casey Customer"])
    assert masked == "Hi, I'm [customer] ([email]), call [number] or see [link]"
    assert mask_text("Order A-12345 shipped on 2025-03-03, casey said thanks", ["Casey"]) == (
        "Order A-12345 shipped on 2025-03-03, [customer] said thanks"
    )
