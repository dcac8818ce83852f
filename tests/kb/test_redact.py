"""Customer details never make it from a reply into an article."""

from __future__ import annotations

from happydesk.kb.redact import Person, clean_subject, redact

CASEY = Person(
    name="Casey Jones",
    emails=("casey@example.test", "c.jones@initech.example"),
    company="Initech",
    agent_names=("Alex Agent", "Alex"),
)


def test_greeting_sign_off_and_details_are_removed():
    text = (
        "Hi Casey,\n\nThanks for checking. I've sent a sign-in link to casey@example.test; "
        "Casey's colleagues at Initech can call us on +1 (555) 010-4477.\n\n"
        "Thanks, Casey!\n\nBest,\nAlex"
    )
    out = redact(text, CASEY)
    assert out == (
        "Thanks for checking. I've sent a sign-in link to your email address; "
        "your colleagues at your company can call us on your phone number.\n\nThanks!"
    )


def test_any_email_and_phone_goes_but_numbers_that_are_not_phones_stay():
    out = redact(
        "Write to billing@acme.test or ring 020 7946 0958 or 0044-20-7946-0958. Version 5.12.1, "
        "order 1042, $1,200.00, on 2024-03-14, 10,000 rows, code 123456.",
        CASEY,
    )
    assert "@" not in out and "7946" not in out
    assert out.count("your phone number") == 2
    for kept in ("5.12.1", "1042", "$1,200.00", "2024-03-14", "10,000", "123456"):
        assert kept in out


def test_name_anywhere_is_replaced_with_neutral_words():
    out = redact("Casey, try this. I told Jones the same. casey@example.test", CASEY)
    assert "Casey" not in out and "Jones" not in out and "casey@" not in out
    assert out.startswith("try this.")


def test_text_without_greeting_keeps_its_first_line():
    out = redact("Hello, the export is ready.\nIt has 3 files.", CASEY)
    assert out.startswith("Hello, the export is ready.")


def test_lone_agent_name_at_the_end_goes():
    assert redact("Done, the refund is on its way.\n\nAlex", CASEY) == "Done, the refund is on its way."


def test_subject_becomes_a_title():
    assert clean_subject("Re: RE: [#123] Casey can't export to CSV", CASEY) == "You can't export to CSV"
    assert clean_subject("Fwd: Invoice for Initech", CASEY) == "Invoice for your company"
