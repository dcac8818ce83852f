"""The quote-stripping aim (quality/quotes.py) holds on the real-shaped corpus, and the signature rules
it relies on do not eat the customer's own words."""

from __future__ import annotations

import pytest

from happydesk.mail.parsing.quotes import split_reply
from quality import quotes


def test_quoted_history_and_signatures_are_separated_in_85_percent_of_replies() -> None:
    cases = quotes.load_cases()
    assert len(cases) >= 80
    result = quotes.measure(cases)
    misses = [case.name for case, _ in result.misses]
    assert result.rate >= quotes.AIM, f"{result.correct}/{result.total}; missed: {misses}"


@pytest.mark.parametrize(
    ("body", "new"),
    [
        (
            "Please resend it.\n\nBest regards\n\nPeter Smith\nHead of Purchasing\nTel. +49 711 123456\n",
            "Please resend it.\n\nBest regards\n\nPeter Smith",
        ),
        (
            "Yes, Thursday works.\n\nEmma\n\nCONFIDENTIALITY NOTICE: This email is confidential.\n",
            "Yes, Thursday works.\n\nEmma",
        ),
        ("Still broken.\n\nGet Outlook for Android (https://aka.ms/AAb9ysg)\n", "Still broken."),
        ("Close it please.\n\nSent with Proton Mail secure email.\n", "Close it please."),
    ],
    ids=["contact-block", "disclaimer", "outlook-android-html", "proton"],
)
def test_signature_rules(body: str, new: str) -> None:
    assert split_reply(body)[0] == new


@pytest.mark.parametrize(
    "body",
    [
        "Thanks,\nJane\nP.S. my number changed to +44 7700 900123\n",
        "Regards,\nJane\nCan you call me back on +44 7700 900123 tomorrow morning?\n",
        "Hi,\n\nOn Friday I was charged twice, see 49.00 EUR on 01/03.\n\nThanks,\nJane\n",
    ],
    ids=["postscript", "question-after-name", "on-in-body"],
)
def test_customer_words_after_a_sign_off_stay(body: str) -> None:
    assert split_reply(body) == (body.rstrip("\n"), "")
