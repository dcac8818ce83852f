"""The measured aim of quality/redact.py, held by the suite: every fixture reply through the real
"Make an article" service, no non-personal word changed, no personal string left, at least 95%
redacted exactly."""

from __future__ import annotations

import pytest

from quality.redact import AIM_EXACT, AIM_OVER, AIM_UNDER, measure

pytestmark = pytest.mark.django_db


def test_redaction_meets_its_aim():
    result = measure()
    assert result.total >= 40
    assert result.over_count <= AIM_OVER, result.over
    assert result.under_count <= AIM_UNDER, result.under
    assert result.share >= AIM_EXACT, result.wrong
