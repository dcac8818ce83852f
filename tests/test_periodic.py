"""Scheduled jobs: one run per interval across workers, and an idle worker loop that asks the database
nothing while no job can be due."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from happydesk.runtime.jobs import periodic_due, periodic_forget
from happydesk.runtime.models import PeriodicRun

pytestmark = pytest.mark.django_db


def test_one_run_per_interval_and_no_queries_until_it_is_over(django_assert_num_queries):
    assert periodic_due("job", timedelta(minutes=5))
    with django_assert_num_queries(0):
        assert not periodic_due("job", timedelta(minutes=5))
    periodic_forget()  # another worker process: it asks once, then remembers
    with django_assert_num_queries(1):
        assert not periodic_due("job", timedelta(minutes=5))
    with django_assert_num_queries(0):
        assert not periodic_due("job", timedelta(minutes=5))
    PeriodicRun.objects.filter(name="job").update(last_run_at=timezone.now() - timedelta(minutes=6))
    periodic_forget()
    assert periodic_due("job", timedelta(minutes=5))
