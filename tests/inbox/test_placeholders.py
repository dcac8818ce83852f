"""Placeholders: fill the known ones, refuse to send while any placeholder-like token is left."""

from __future__ import annotations

import pytest

from happydesk.inbox.placeholders import UnfilledPlaceholders, check_filled, fill, find_unfilled


@pytest.mark.parametrize(
    "text",
    [
        "Hi {{ customer.first_name }},",
        "Thanks from <COMPANY_NAME>",
        "Dear [NAME],",
        "Hi [X]",
        "See {{unknown}}",
        "Order [ORDER NUMBER] ships today",
    ],
)
def test_placeholder_like_tokens_are_found(text):
    assert find_unfilled(text)
    with pytest.raises(UnfilledPlaceholders):
        check_filled(text)


@pytest.mark.parametrize(
    "text",
    [
        "Hi Casey, see [1] and <https://example.test>",
        "Use a <b>bold</b> word",
        "Array a[i] and [sic]",
        "Email me at <casey@example.test>",
        "Plain text",
        "Braces { like this }",
    ],
)
def test_ordinary_text_is_not_a_placeholder(text):
    assert find_unfilled(text) == []
    check_filled(text)


def test_fill_replaces_known_names_and_leaves_unknown_or_empty():
    values = {"customer.first_name": "Casey", "agent.first_name": "Alex", "customer.company": ""}
    text = fill(
        "Hi {{ customer.first_name }}, {{agent.first_name}} here from {{ customer.company }}. {{ x.y }}",
        values,
    )
    assert text.startswith("Hi Casey, Alex here from {{ customer.company }}.")
    assert [u.text for u in find_unfilled(text)] == ["{{ customer.company }}", "{{ x.y }}"]


def test_positions_point_at_the_token():
    text = "Dear [NAME], thanks"
    (u,) = find_unfilled(text)
    assert text[u.start : u.end] == "[NAME]"
