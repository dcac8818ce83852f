"""`happydesk demo` gives a report worth looking at: the rollup is built, orders per day and the support
cost are there, saved replies were used, every section has numbers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from happydesk.reports.filters import Filters
from happydesk.reports.models import BusinessVolume, DailyFact, RollupState, SupportCost
from happydesk.reports.report import build_report
from happydesk.runtime.demo import load_demo

pytestmark = pytest.mark.django_db


def test_the_demo_report_is_meaningful(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    now = timezone.now()
    load_demo(conversations=300, now=now)
    assert RollupState.objects.get().rebuilt_at == now
    assert DailyFact.objects.filter(tag=0).exists()
    assert BusinessVolume.objects.filter(metric="orders").count() == 90 and SupportCost.objects.count() == 4
    today = now.date()
    report = build_report(Filters(start=today - timedelta(days=29), end=today), with_agents=True)
    head = {f.key: f for f in report.headline}
    assert head["conversations"].value > 50 and head["conversations"].previous > 50
    assert head["score"].value is not None and 0 < head["frt_1h"].value < 1
    assert report.tables["top_issues"].rows[0][1] > 5
    assert report.tables["saved_replies"].rows and report.tables["baselines"].rows
    assert report.tables["business"].rows[0][0] == "orders" and report.tables["business"].rows[0][3] > 0
    assert report.tables["cost"].rows[0][3] > 0
    assert len(report.tables["agents"].rows) >= 3
    assert sum(sum(r[1:]) for r in report.tables["heatmap"].rows) == head["conversations"].value
