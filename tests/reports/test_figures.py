"""Every figure of the happiness report on the hand-checked week of tests/reports/conftest.py.

The waits, worked out by hand (seconds; New York EST until Sunday 9 March 2:00, EDT after; Tokyo JST):
  first response, calendar: c8 300, c9 600, c5 1200, c1 1800, t1 9000, t2 39600, c2 64800,
                            c3 162900 (Sat 11:00 EST to Mon 9:15 EDT), c4 230400 (Fri 16:30 EST to Mon 9:30 EDT)
  first response, business: c5 0 (before 9:00), c8 300, c9 600, c3 900, c1 1800, t2 1800, c4 3600
                            (Fri 16:30-17:00 + Mon 9:00-9:30), t1 3600 (Tokyo opens at 10:00), c2 7200
  resolution:               c8 600, c5 2400, c1 7200, t1 23400, t2 45000, c2 68400, c3 166500
c6 has no answer yet; c7 is spam. The previous week has p1, p2 and t0.
"""

from __future__ import annotations

from datetime import date

import pytest

from happydesk.reports.buckets import EDGES, bucket_of
from happydesk.reports.filters import Filters
from happydesk.reports.report import build_report
from happydesk.reports.selectors import agent_figures, top_issues, totals
from tests.reports.conftest import WEEK

pytestmark = pytest.mark.django_db


def week(**kw) -> Filters:  # type: ignore[no-untyped-def]
    return Filters(start=WEEK[0], end=WEEK[1], period=None, **kw)


def figures(report) -> dict:  # type: ignore[no-untyped-def]
    return {f.key: (f.value, f.previous) for f in report.headline}


def rows(table) -> dict:  # type: ignore[no-untyped-def]
    return {tuple(r[:2]) if table.key == "goals" else r[0]: r[1:] for r in table.rows}


def test_first_response_within_1_6_24_hours_calendar_and_business(built):
    report = build_report(week())
    goals = rows(report.tables["goals"])
    # (this week, the week before): 9 answered this week, 3 the week before.
    assert goals[("Within 1 h", "calendar")][1:3] == [pytest.approx(4 / 9), pytest.approx(1 / 3)]
    assert goals[("Within 6 h", "calendar")][1:3] == [pytest.approx(5 / 9), pytest.approx(1 / 3)]
    assert goals[("Within 24 h", "calendar")][1:3] == [pytest.approx(7 / 9), pytest.approx(3 / 3)]
    assert goals[("Within 1 h", "business")][1:3] == [pytest.approx(8 / 9), pytest.approx(2 / 3)]
    assert goals[("Within 6 h", "business")][1:3] == [pytest.approx(9 / 9), pytest.approx(2 / 3)]
    assert goals[("Within 24 h", "business")][1:3] == [pytest.approx(1.0), pytest.approx(1.0)]
    assert goals[("Within 1 h", "calendar")][3] == pytest.approx(4 / 9 - 1 / 3)  # the change, in points


def test_percentiles_from_the_buckets(built):
    speed = rows(build_report(week()).tables["speed"])
    # Nearest rank: the 5th of 9 for the median, the 9th of 9 for p90; placed at the middle of its share
    # of the bucket. Each lies in the bucket of the exact value.
    expected = {
        "Median first response, calendar hours": (9000, 9000),  # alone in [2 h, 3 h)
        "90th percentile first response, calendar hours": (216000, 230400),  # alone in [2 d, 3 d)
        "Median first response, business hours": (2025, 1800),  # 1st of 2 in [30 min, 45 min)
        "90th percentile first response, business hours": (9000, 7200),  # alone in [2 h, 3 h)
        "Median resolution time": (25200, 23400),  # 4th of 7: alone in [6 h, 8 h)
        "90th percentile resolution time": (151200, 166500),  # 7th of 7: alone in [36 h, 2 d)
    }
    for label, (reported, exact) in expected.items():
        assert speed[label][0] == pytest.approx(reported), label
        assert bucket_of(reported) == bucket_of(exact), label
        assert EDGES[bucket_of(exact)] <= speed[label][0] < EDGES[bucket_of(exact) + 1]
    # The week before: p1 2700, t0 40200, p2 86400: the median t0, alone in [8 h, 12 h).
    assert speed["Median first response, calendar hours"][1] == pytest.approx(36000)


def test_happiness_score_ratings_and_response_rate(built):
    report = build_report(week())
    happiness = rows(report.tables["happiness"])
    # Ratings count on the day they were given: c1, c8, t1 great; c2 not good; p2 okay (given this week
    # on last week's conversation). c3's okay came after the week.
    assert happiness["Happiness score"][:2] == [40, 100]  # (3 - 1) / 5; the week before p1's great
    assert happiness["Ratings"][:2] == [5, 1]
    assert [happiness[k][0] for k in ("Great", "Okay", "Not good")] == [3, 1, 1]
    assert happiness["Rating requests"][:2] == [6, 2]
    assert happiness["Response rate"][:2] == [pytest.approx(5 / 6), pytest.approx(1 / 2)]
    assert figures(report)["score"] == (40, 100)
    comments = report.comments
    assert [c["comment"][:5] for c in comments] == ["Quick", "Took "]  # newest first


def test_conversations_reopens_and_replies_per_resolved(built):
    report = build_report(week())
    conv = rows(report.tables["conversations"])
    assert conv["Conversations"][:2] == [10, 3]  # c7 is spam
    assert conv["Answered"][0] == 9 and conv["Not answered yet"][0] == 1
    assert conv["Resolved"][0] == 7
    assert conv["Replies per resolved conversation"][0] == pytest.approx(11 / 7)
    # Resolved at some point: the 7 resolved and c9 (reopened by an agent). Reopened: c3 and c9; c8's
    # customer answering while it was pending is not a reopen.
    assert conv["Reopen rate"][0] == pytest.approx(2 / 8)
    assert conv["Arrived outside business hours"][0] == pytest.approx(4 / 10)  # c3, c5, t1, t2
    assert figures(report)["replies_per_resolved"][0] == pytest.approx(11 / 7)


def test_days_weekends_hours_and_time_zones(built):
    report = build_report(week())
    daily = {r[0]: r[2] for r in report.tables["daily"].rows}
    # t1 arrived on Monday in Tokyo (still Sunday in UTC); t2 on Sunday night in Tokyo.
    assert daily == {
        "2025-03-03": 3, "2025-03-04": 1, "2025-03-05": 1, "2025-03-06": 2,
        "2025-03-07": 1, "2025-03-08": 1, "2025-03-09": 1,
    }  # fmt: skip
    weekdays = rows(report.tables["weekdays"])
    assert weekdays["Weekdays (Mon–Fri)"][0] == 8 and weekdays["Weekend (Sat–Sun)"][0] == 2
    assert weekdays["Weekend (Sat–Sun)"][1] == pytest.approx(1.0)  # per weekend day
    assert weekdays["Monday"][:3] == [3, 3.0, pytest.approx(1 / 3)]  # c1 within the hour; c2, t1 not
    heat = {r[0]: r[1:] for r in report.tables["heatmap"].rows}
    cells = {(day, hour) for day, counts in heat.items() for hour, n in enumerate(counts) if n}
    assert cells == {
        ("Monday", 10), ("Monday", 16), ("Monday", 8), ("Tuesday", 13), ("Wednesday", 8),
        ("Thursday", 12), ("Thursday", 10), ("Friday", 16), ("Saturday", 11), ("Sunday", 23),
    }  # fmt: skip
    zones = {r[0]: r for r in report.tables["timezones"].rows}
    assert set(zones) == {"America/New_York", "Asia/Tokyo"}
    assert zones["Asia/Tokyo"][2:6] == [2, 1.0, 1, 1.0]  # both Tokyo arrivals outside its hours; t0
    assert zones["Asia/Tokyo"][6 + 8] == 1 and zones["Asia/Tokyo"][6 + 23] == 1
    assert zones["America/New_York"][2:6] == [8, pytest.approx(2 / 8), 2, 0.0]


def test_filters_by_tag_mailbox_and_channel(built, world):
    billing = build_report(week(tag="billing"))
    assert figures(billing)["conversations"] == (3, 1)  # c1, c2, t1; p1
    assert figures(billing)["score"][0] == 33  # c1 great, c2 not good, t1 great
    assert figures(build_report(week(mailbox_id=world.ny.pk)))["conversations"] == (8, 2)
    assert figures(build_report(week(channel="chat")))["conversations"] == (1, 0)
    assert figures(build_report(week(tag="no-such-tag")))["conversations"] == (0, 0)


def test_top_issues_saved_replies_and_baselines(built):
    issues = [(i.tag, i.current, i.previous, i.week, i.week_before) for i in top_issues(week())]
    assert issues == [("billing", 3, 1, 3, 1), ("refund", 2, 0, 2, 0), ("bug", 2, 0, 2, 0)]
    report = build_report(week())
    assert [r[:3] for r in report.tables["saved_replies"].rows] == [
        ["Refund issued", 2, 0],
        ["Password reset link", 1, 0],
    ]
    base = {r[0]: r for r in report.tables["baselines"].rows}  # no chosen tags: the three biggest
    assert set(base) == {"billing", "refund", "bug"}
    assert base["billing"][1] == 0 and base["billing"][4] == 3  # mostly zero days; 3 on Monday
    from happydesk.reports.selectors import report_settings

    row = report_settings()
    row.baseline_tags = ["refund"]
    row.save()
    assert [r[0] for r in build_report(week()).tables["baselines"].rows] == ["refund"]


def test_contacts_per_transaction_and_cost_per_conversation(built):
    report = build_report(week())
    (orders,) = report.tables["business"].rows
    assert orders[:4] == ["orders", 600, 9, pytest.approx(15.0)]  # Mar 3-8 posted; 9 conversations then
    cost = {r[0]: r[1:] for r in report.tables["cost"].rows}
    assert cost["This period"] == [pytest.approx(700.0), 10, pytest.approx(70.0)]  # 3100 / 31 a day
    assert cost["Previous period"] == [pytest.approx(700.0), 3, pytest.approx(700 / 3)]
    assert build_report(week(tag="billing")).tables["cost"].rows == []  # the team's cost: unfiltered only


def test_each_agent_alphabetical_not_ranked(built, world):
    pairs = agent_figures(week())
    assert [cur.agent for cur, _ in pairs] == ["Alice Agent", "Bob Agent"]
    (alice, alice_before), (bob, _) = pairs
    assert (alice.first_responses, alice.frt_1h, alice.bfrt_1h, alice.replies) == (5, 3, 4, 7)
    assert (bob.first_responses, bob.frt_1h, bob.bfrt_1h, bob.replies) == (4, 1, 4, 6)
    assert (alice.score, bob.score, alice_before.score) == (100, -50, 100)
    table = build_report(week(), with_agents=True).tables["agents"]
    # Within 1 h: 3 of 5, the week before 1 of 2 (p1 yes, t0 no); within 1 business hour: 4 of 5.
    assert table.rows[0][:5] == ["Alice Agent", 5, pytest.approx(0.6), pytest.approx(0.5), pytest.approx(0.8)]
    assert table.rows[0][5] == pytest.approx(2250)  # 3rd of 5: c1's 1800 s, alone in [30, 45 min)


def test_totals_read_rollup_rows_not_conversations(built, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        current, previous = totals(week())
    assert (current.ints["conversations"], previous.ints["conversations"]) == (10, 3)


def test_rolling_period_and_previous():
    f = Filters(start=date(2025, 3, 1), end=date(2025, 3, 30))
    assert f.days == 30 and f.previous().start == date(2025, 1, 30) and f.previous().end == date(2025, 2, 28)
