"""Uptime is computed from the recorded state history: exact numbers from a crafted history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from happydesk.status import selectors, services, uptime
from happydesk.status.models import ComponentState, Incident

pytestmark = pytest.mark.django_db
S = ComponentState
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # noon: today has 12 hours of history so far
DAY = 86400


def day(n: int, hour: int = 0, minute: int = 0) -> datetime:
    """`n` days before today, at hour:minute UTC."""
    return datetime(2026, 11, 20, tzinfo=UTC) - timedelta(days=n) + timedelta(hours=hour, minutes=minute)


def test_day_shares_levels_and_labels_from_a_crafted_history():
    api = services.component_save(name="API", at=day(100))
    # 10 days ago: a major outage from 12:00 for 2 h 24 min (a tenth of the day), through an incident.
    incident = services.incident_declare(
        title="API down", body="Looking.", components={api: S.MAJOR_OUTAGE}, notify=False, at=day(10, 12)
    )
    services.incident_resolve(incident=incident, notify=False, at=day(10, 14, 24))
    # 5 days ago: a partial outage for 6 hours (counts half down), set by hand.
    services.component_state_set(component=api, state=S.PARTIAL_OUTAGE, at=day(5, 6))
    services.component_state_set(component=api, state=S.OPERATIONAL, at=day(5, 12))
    # 3 days ago: degraded for 3 hours (up, but a yellow day); 2 days ago: maintenance for 2 hours (up).
    services.component_state_set(component=api, state=S.DEGRADED, at=day(3, 9))
    services.component_state_set(component=api, state=S.OPERATIONAL, at=day(3, 12))
    services.component_state_set(component=api, state=S.MAINTENANCE, at=day(2, 1))
    services.component_state_set(component=api, state=S.OPERATIONAL, at=day(2, 3))

    result = selectors.uptime_for([api], now=NOW)[api.pk]
    days = result.days
    assert len(days) == 90
    assert days[-1].day == NOW.date() and days[0].day == (NOW - timedelta(days=89)).date()
    by_ago = {89 - i: d for i, d in enumerate(days)}

    assert by_ago[10].share == pytest.approx(0.9)
    assert by_ago[10].level == "major_outage" and by_ago[10].incidents == 1
    assert by_ago[10].label == "Nov 10: 90.0% up, 1 incident"
    assert by_ago[5].share == pytest.approx(1 - 0.5 * 6 / 24)
    assert by_ago[5].level == "partial_outage" and by_ago[5].incidents == 0
    assert by_ago[5].label == "Nov 15: 87.5% up, Partial outage"
    assert by_ago[3].share == 1 and by_ago[3].level == "degraded"
    assert by_ago[3].label == "Nov 17: 100% up, Degraded performance"
    assert by_ago[2].share == 1 and by_ago[2].level == "maintenance"
    assert by_ago[1].share == 1 and by_ago[1].level == "operational"
    assert by_ago[1].label == "Nov 19: 100% up, no incidents"
    assert by_ago[0].covered == DAY / 2  # today counts only up to now
    assert by_ago[89].covered == DAY

    covered = 89 * DAY + DAY / 2
    down = 0.1 * DAY + 0.5 * 6 * 3600
    assert result.share == pytest.approx(1 - down / covered)
    assert result.percent == "99.74%"
    assert [d.day.day for d in result.bad_days] == [10, 15]
    assert result.describe("API") == (
        "API: 99.74% uptime over the last 90 days. Nov 10: 90.0% up, 1 incident; Nov 15: 87.5% up, Partial outage."
    )


def test_days_before_a_component_existed_have_no_data_and_do_not_count():
    new = services.component_save(name="Webhooks", at=day(30, 18))
    services.component_state_set(component=new, state=S.MAJOR_OUTAGE, at=day(20, 0))
    services.component_state_set(component=new, state=S.OPERATIONAL, at=day(20, 6))
    result = selectors.uptime_for([new], now=NOW)[new.pk]
    by_ago = {89 - i: d for i, d in enumerate(result.days)}
    assert by_ago[31].share is None and by_ago[31].level == "none"
    assert by_ago[31].label == "Oct 20: no data"
    assert by_ago[30].covered == 6 * 3600 and by_ago[30].share == 1
    covered = 6 * 3600 + 29 * DAY + DAY / 2
    assert result.share == pytest.approx(1 - 6 * 3600 / covered)


def test_state_in_force_before_the_window_carries_in():
    old = services.component_save(name="Billing", at=day(200))
    services.component_state_set(component=old, state=S.MAJOR_OUTAGE, at=day(95))
    services.component_state_set(component=old, state=S.OPERATIONAL, at=day(88, 12))
    result = selectors.uptime_for([old], now=NOW)[old.pk]
    assert result.days[0].share == 0 and result.days[0].level == "major_outage"
    assert result.days[1].share == pytest.approx(0.5)
    assert result.days[2].share == 1


def test_a_page_of_components_costs_three_queries(django_assert_num_queries):
    components = [services.component_save(name=f"C{i}", at=day(100)) for i in range(6)]
    services.incident_declare(
        title="x", body="y", components={components[0]: S.DEGRADED}, notify=False, at=day(3)
    )
    with django_assert_num_queries(3):
        selectors.uptime_for(components, now=NOW)


def test_maintenance_windows_are_counted_apart_from_incidents():
    db = services.component_save(name="Database", at=day(100))
    m = services.maintenance_schedule(
        title="Upgrade",
        scheduled_start=day(4, 2),
        scheduled_end=day(4, 3),
        components=[db],
        body="Planned.",
        notify=False,
        at=day(6),
    )
    services.maintenance_start(incident=m, notify=False, at=day(4, 2))
    services.maintenance_complete(incident=m, notify=False, at=day(4, 3))
    d = selectors.uptime_for([db], now=NOW)[db.pk].days[-5]
    assert (d.share, d.level, d.incidents, d.maintenances) == (1, "maintenance", 0, 1)
    assert d.label == "Nov 16: 100% up, 1 maintenance window"
    assert Incident.objects.get().resolved_at == day(4, 3)


def test_percent_rounds_down_so_downtime_never_shows_as_100():
    assert uptime.percent(0.99999) == "99.99%"
    assert uptime.percent(1.0) == "100%"
    assert uptime.percent(0.5, digits=1) == "50.0%"
