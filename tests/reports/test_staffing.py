"""Staffing: the `happydesk staffing erlang-c` command, arrivals per hour of the week, the handle-time
estimate, schedule coverage across time zones, and the /staffing/ page."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from happydesk.accounts.services import agent_create
from happydesk.customers.services import customer_for_address
from happydesk.inbox.models import Conversation, Message
from happydesk.inbox.services import conversation_open
from happydesk.reports import staffing
from happydesk.scheduling import selectors as schedule
from happydesk.scheduling.models import Shift
from happydesk.scheduling.services import BadShift, shift_add
from tests.helpers import subprocess_env

HAPPYDESK = Path(sys.executable).with_name("happydesk")


def run_command(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(HAPPYDESK), "staffing", "erlang-c", *args],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


# -- the command, run for real in a subprocess -------------------------------------------------------


@pytest.mark.django_db
def test_command_finds_the_fewest_agents_for_a_goal():
    r = run_command(
        "--calls", "360", "--interval-minutes", "30", "--aht-seconds", "240",
        "--answer-within-seconds", "15", "--service-level", "0.8",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["agents"] == 55
    assert out["service_level"] == pytest.approx(0.8459, abs=0.005)
    assert out["wait_probability"] == pytest.approx(0.2387, abs=1e-4)
    assert out["asa_seconds"] == pytest.approx(8.184, abs=1e-3)
    assert out["occupancy"] == pytest.approx(0.8727, abs=1e-4)


@pytest.mark.django_db
def test_command_evaluates_a_given_staffing_and_max_occupancy():
    r = run_command(
        "--calls", "100", "--interval-minutes", "30", "--aht-seconds", "180",
        "--answer-within-seconds", "20", "--agents", "14",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["service_level"] == pytest.approx(0.88835, abs=1e-5)
    capped = run_command(
        "--calls", "2000", "--interval-minutes", "30", "--aht-seconds", "300",
        "--answer-within-seconds", "60", "--service-level", "0.8", "--max-occupancy", "0.85",
    )  # fmt: skip
    assert capped.returncode == 0, capped.stderr
    assert json.loads(capped.stdout)["occupancy"] <= 0.85


@pytest.mark.django_db
def test_command_reports_an_unstable_queue_as_null_wait_and_refuses_nonsense():
    r = run_command(
        "--calls", "100", "--interval-minutes", "30", "--aht-seconds", "180",
        "--answer-within-seconds", "20", "--agents", "9",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert (out["asa_seconds"], out["service_level"], out["wait_probability"], out["stable"]) == (
        None,
        0.0,
        1.0,
        False,
    )
    assert '"asa_seconds": null' in r.stdout
    bad = run_command(
        "--calls", "100", "--interval-minutes", "30", "--aht-seconds", "180",
        "--answer-within-seconds", "20", "--service-level", "1.5",
    )  # fmt: skip
    assert bad.returncode != 0 and "service level" in bad.stderr
    neither = run_command(
        "--calls", "1", "--interval-minutes", "30", "--aht-seconds", "1", "--answer-within-seconds", "1"
    )
    assert neither.returncode != 0


# -- arrivals, handle time, coverage -----------------------------------------------------------------


def _open(mailbox, at: datetime, channel: str = "email", status: str = "active") -> Conversation:
    customer = customer_for_address(address=f"c{at.timestamp():.0f}{channel}@example.test", name="C")
    c = conversation_open(mailbox=mailbox, customer=customer, subject="s")
    Conversation.objects.filter(pk=c.pk).update(created_at=at, channel=channel, status=status)
    return c


@pytest.mark.django_db
def test_arrivals_fall_in_the_hour_of_the_week_of_the_chosen_time_zone(mailbox):
    # Monday 2026-03-02 23:30 UTC is Tuesday 08:30 in Tokyo and Monday 18:30 in New York.
    at = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    _open(mailbox, at)
    _open(mailbox, at + timedelta(minutes=10), channel="form")
    _open(mailbox, at, channel="chat")
    _open(mailbox, at, status="spam")
    window = {"since": at - timedelta(days=1), "until": at + timedelta(days=1)}
    tokyo = staffing.arrivals(**window, zone="Asia/Tokyo")
    assert tokyo["email"][1 * 24 + 8] == 2  # email and the web form are one queue; spam is left out
    assert tokyo["chat"][1 * 24 + 8] == 1
    assert sum(tokyo["email"]) == 2 and sum(tokyo["chat"]) == 1
    new_york = staffing.arrivals(**window, zone="America/New_York")
    assert new_york["email"][0 * 24 + 18] == 2


@pytest.mark.django_db
def test_handle_time_is_the_median_reply_gap_within_a_session(mailbox, agent, monkeypatch):
    other = agent_create(email="sam@acme.test", name="Sam", password="long-password")
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    email = _open(mailbox, start - timedelta(hours=1))
    chat = _open(mailbox, start - timedelta(hours=1), channel="chat")

    def reply(c, author, minutes):  # type: ignore[no-untyped-def]
        Message.objects.create(
            conversation=c,
            kind=Message.Kind.REPLY,
            author=author,
            created_at=start + timedelta(minutes=minutes),
        )

    # Alex: 4, 6 and 8 minutes between replies, then a 45-minute break (not counted), then 10.
    for m in (0, 4, 10, 18, 63, 73):
        reply(email, agent, m)
    reply(chat, agent, 75)  # 2 minutes after the last email reply: a chat sample
    reply(email, other, 1)  # Sam's first reply: no gap, and never paired with Alex's
    samples = staffing.handle_time_samples(since=start - timedelta(days=1), until=start + timedelta(days=1))
    assert sorted(samples["email"]) == [240, 360, 480, 600]
    assert samples["chat"] == [120]
    queue = staffing.QUEUES[0]
    assert staffing.handle_time(queue, samples["email"], None).source == "assumed"  # too few samples
    monkeypatch.setattr(staffing, "MIN_SAMPLES", 3)
    estimated = staffing.handle_time(queue, samples["email"], None)
    assert (estimated.source, estimated.seconds) == ("estimated", 420)
    assert "estimate" in estimated.note and "4 gaps" in estimated.note
    entered = staffing.handle_time(queue, samples["email"], 300)
    assert (entered.source, entered.seconds) == ("entered", 300)


@pytest.mark.django_db
def test_coverage_across_time_zones_midnight_and_the_week_wrap(agent):
    sam = agent_create(email="sam@acme.test", name="Sam", password="long-password")
    # Alex: Monday 09:00-17:00 in Berlin = 08:00-16:00 UTC in winter.
    shift_add(agent=agent, weekday=0, start=time(9), end=time(17), timezone="Europe/Berlin")
    # Sam: Sunday 22:00-02:00 UTC, across midnight and across the end of the week.
    shift_add(agent=sam, weekday=6, start=time(22), end=time(2), timezone="UTC")
    # Sam again, overlapping himself on Monday 01:30-03:00: counted once per hour, by share.
    shift_add(agent=sam, weekday=0, start=time(1, 30), end=time(3), timezone="UTC")
    covered = schedule.coverage(zone="UTC", week_of=date(2026, 1, 14))
    assert covered[0 * 24 + 7] == 0 and covered[0 * 24 + 8] == 1 and covered[0 * 24 + 15] == 1
    assert covered[0 * 24 + 16] == 0
    assert covered[6 * 24 + 22] == 1 and covered[6 * 24 + 23] == 1
    assert covered[0 * 24 + 0] == 1 and covered[0 * 24 + 1] == 1 and covered[0 * 24 + 2] == 1
    assert covered[0 * 24 + 3] == 0
    # In summer Berlin is UTC+2: the same shift covers 07:00-15:00 UTC.
    summer = schedule.coverage(zone="UTC", week_of=date(2026, 7, 15))
    assert summer[0 * 24 + 7] == 1 and summer[0 * 24 + 15] == 0
    half = Shift(agent=agent, weekday=2, start=time(9, 30), end=time(10, 45), timezone="UTC")
    assert schedule.coverage(zone="UTC", shift_list=[half], week_of=date(2026, 1, 14))[
        2 * 24 + 9 : 2 * 24 + 11
    ] == [
        0.5,
        0.75,
    ]
    with pytest.raises(BadShift):
        shift_add(agent=agent, weekday=1, start=time(9), end=time(9), timezone="UTC")
    with pytest.raises(BadShift):
        shift_add(agent=agent, weekday=1, start=time(9), end=time(10), timezone="Mars/Olympus")


@pytest.mark.django_db
def test_staffing_plan_needs_people_where_conversations_arrive(mailbox, agent):
    now = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)  # a Monday morning
    # Eight Mondays at 10:xx UTC, 12 emails each; nothing else all week.
    for week in range(1, 9):
        monday = now - timedelta(weeks=week)
        for i in range(12):
            _open(mailbox, monday.replace(hour=10, minute=i * 5))
    shift_add(agent=agent, weekday=0, start=time(9), end=time(11), timezone="UTC")
    plan = staffing.staffing_plan(
        weeks=8,
        zone="UTC",
        goals={"email": staffing.Goal(0.8, 60)},
        handle_seconds={"email": 1200},  # 20 minutes each: 12 an hour is 4 erlangs
        now=now,
    )
    email = plan.queues[0]
    assert plan.weeks == pytest.approx(8, abs=0.1)
    assert email.arrivals[10] == pytest.approx(12, rel=0.02)
    assert email.needed[10] == 7  # Erlang C: 4 erlangs, 80% within 60 s of 20-minute work
    assert sum(email.needed) == email.needed[10]  # quiet hours need nobody
    assert plan.needed[10] == 7 and plan.covered[10] == 1
    gaps = plan.gaps
    assert [(g.label, g.needed, g.covered) for g in gaps] == [("Monday 10:00", 7, 1)]
    assert email.handle_time.source == "entered"


# -- the page ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_staffing_page_renders_the_grid_and_only_admins_edit_shifts(mailbox, agent):
    _open(mailbox, datetime.now(UTC) - timedelta(days=2))
    client = Client()
    client.force_login(agent)
    r = client.get("/staffing/")
    assert r.status_code == 200
    body = r.content.decode()
    assert body.count('class="cell') == 168
    assert "Email &amp; forms" in body and "80% answered within 1 h" in body
    assert "assumed" in body  # no replies yet: the handle time says it is an assumption
    r = client.get("/staffing/", {"tz": "Asia/Kolkata", "email_aht": "12", "weeks": "4"})
    assert r.status_code == 200 and "Asia/Kolkata" in r.content.decode()
    assert "entered in the form" in r.content.decode()
    assert client.get("/staffing/", {"tz": "Nowhere/Else"}).status_code == 400

    r = client.post(
        "/staffing/shifts/",
        {"agent": agent.pk, "weekday": 0, "start": "09:00", "end": "17:00", "timezone": "UTC"},
    )
    assert r.status_code == 302
    shift = Shift.objects.get()
    assert "Monday" in client.get("/staffing/").content.decode()

    sam = agent_create(email="sam@acme.test", name="Sam", password="long-password")
    other = Client()
    other.force_login(sam)
    assert other.get("/staffing/").status_code == 200
    assert other.post(f"/staffing/shifts/{shift.pk}/delete/").status_code == 403
    assert other.post("/staffing/shifts/", {"agent": sam.pk, "weekday": 1}).status_code == 403
    assert client.post(f"/staffing/shifts/{shift.pk}/delete/").status_code == 302
    assert not Shift.objects.exists()
    assert Client().get("/staffing/").status_code == 302  # sign-in first


@pytest.mark.django_db
def test_staffing_page_uses_few_queries(mailbox, agent, django_assert_max_num_queries):
    for i in range(30):
        _open(mailbox, datetime.now(UTC) - timedelta(hours=i * 5))
    client = Client()
    client.force_login(agent)
    with django_assert_max_num_queries(15):
        assert client.get("/staffing/").status_code == 200


def test_durations_read_like_people_write_them():
    assert [staffing.duration(s) for s in (30, 90, 360, 3600, 5400)] == [
        "30 s",
        "1.5 min",
        "6 min",
        "1 h",
        "1 h 30 min",
    ]
    assert staffing.Goal(0.8, 30).label == "80% answered within 30 s"
    assert ZoneInfo("UTC")  # the zone database is there
