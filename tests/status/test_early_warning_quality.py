"""The early warning holds its measured aims on the labelled burst (quality/early_warning.py): of the
conversations "Declare incident" links, 95% are about the incident, and 90% of the incident's are linked."""

from __future__ import annotations

import pytest

from quality import early_warning as quality

pytestmark = pytest.mark.django_db


def test_the_labelled_burst_is_grouped_with_both_aims_met():
    result = quality.measure()
    assert result.precision >= quality.PRECISION_AIM, f"false links: {result.false_links}"
    assert result.recall >= quality.RECALL_AIM, f"missed: {result.missed}"
    # The customers the support team worried about are never told about the sensors.
    assert "Our invoice shows the wrong VAT number" not in result.false_links
    assert "Charged twice for December" not in result.false_links
