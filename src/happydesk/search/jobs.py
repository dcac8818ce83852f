"""The search app's periodic work: help-centre search counts older than 90 days are forgotten."""

from __future__ import annotations

from datetime import timedelta

from happydesk.jobs import Job


def _prune() -> int:
    from happydesk.search.services import search_days_prune

    return search_days_prune()


JOBS = (Job("search-days-prune", _prune, every=timedelta(hours=6)),)
