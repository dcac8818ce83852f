"""The search aim holds: at least 90% of the labelled customer queries (tests/fixtures/quality/search.json)
find an answering article in the top 3 of the /help/ search over the demo help centre, on either engine."""

from __future__ import annotations

import pytest

from happydesk.kb.demo import load_demo_kb
from quality.search import AIM, measure

pytestmark = pytest.mark.django_db


def test_search_answers_at_least_ninety_percent_in_the_top_three():
    load_demo_kb()
    result = measure()
    assert result.total >= 40
    assert result.share >= AIM, result.line() + "".join(
        f"\n  miss: {m[0]!r} got {m[2]}" for m in result.misses
    )
