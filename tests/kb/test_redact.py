"""Customer details never make it from a reply into an article, and nothing else is taken out with them."""

from __future__ import annotations

from happydesk.kb.redact import Person, clean_subject, redact, redaction

CASEY = Person(
    name="Casey Jones",
    emails=("casey@example.test", "c.jones@initech.example"),
    company="Initech",
    agent_names=("Alex Agent", "Alex"),
    own_domains=("acme.test",),
)


def test_greeting_sign_off_and_details_are_replaced_with_placeholders():
    text = (
        "Hi Casey,\n\nThanks for checking. I've sent a sign-in link to casey@example.test; "
        "Casey's colleagues at Initech can call us on +1 (555) 010-4477.\n\n"
        "Thanks, Casey!\n\nBest,\nAlex"
    )
    assert redact(text, CASEY) == (
        "Thanks for checking. I've sent a sign-in link to [email address]; "
        "[customer name]'s colleagues at [company name] can call us on [phone number].\n\nThanks!"
    )


def test_the_support_teams_examples_read_as_written():
    emma = Person(name="Emma Fischer", emails=("emma@fischer.example",), agent_names=("Sam",))
    assert redact("Invoice INV-2026-1187 is paid.", emma) == "Invoice INV-2026-1187 is paid."
    assert redact("Emma, call me on 020 7946 0958.", emma) == "[customer name], call me on [phone number]."
    assert redact("Hi Emma, the refund is on its way.", emma) == "Hi, the refund is on its way."
    two = redact("Moved from emma@fischer.example to e.fischer@work.example.", emma)
    assert two == "Moved from [email address 1] to [email address 2]."


def test_phones_go_but_numbers_that_are_not_phones_stay():
    out = redact(
        "Ring 020 7946 0958 or 0044-20-7946-0958 or (415) 555-0132. Version 5.12.1, order 1042, "
        "ORD-44812, $1,200.00, on 2024-03-14 and 12.03.2026, 10,000 rows, code 123456, from 10.0.3.17, "
        "error E-4012, ticket 20260314-0042.",
        CASEY,
    )
    assert out.count("[phone number]") == 3 and "7946" not in out
    for kept in ("5.12.1", "1042", "ORD-44812", "$1,200.00", "2024-03-14", "12.03.2026", "10,000"):
        assert kept in out
    for kept in ("123456", "10.0.3.17", "E-4012", "20260314-0042"):
        assert kept in out


def test_our_own_addresses_stay_and_others_go():
    out = redact("Write to billing@acme.test, or ask casey@example.test's admin.", CASEY)
    assert out == "Write to billing@acme.test, or ask [email address]'s admin."


def test_names_are_known_names_matched_whole_and_case_aware():
    rose = Person(name="Rose Bell")
    assert redact("The bell rose to 99+. Rose, try again. Roseanne agrees.", rose) == (
        "The bell rose to 99+. [customer name], try again. Roseanne agrees."
    )
    assert redact("Pat Smith from Acme said so.", rose) == "Pat Smith from Acme said so."  # not known


def test_cards_ibans_streets_and_tokens():
    out = redact(
        "Card 4539 1488 0343 6467 refunded to DE89 3704 0044 0532 0130 00. Shipped to Lindenstraße 14, "
        "10969 Berlin. Link: https://app.acme.test/reset?token=9f8e7d6c&next=/home. "
        "Test with 4242 4242 4242 4242.",
        CASEY,
    )
    assert out == (
        "Card [card number] refunded to [IBAN]. Shipped to [street address]. "
        "Link: https://app.acme.test/reset?token=[token]&next=/home. Test with 4242 4242 4242 4242."
    )


def test_each_replacement_is_listed_and_can_be_kept():
    found = redaction("Casey, your invoice went to casey@example.test and casey@example.test.", CASEY)
    items = found.items()
    assert [(i.original, i.placeholder, i.count) for i in items] == [
        ("Casey", "[customer name]", 1),
        ("casey@example.test", "[email address]", 2),
    ]
    keep_name = {items[0].key}
    assert found.text(keep_name) == "Casey, your invoice went to [email address] and [email address]."
    html = found.preview_html(keep_name)
    assert '<mark class="kb-kept">Casey</mark>' in html
    assert '<mark class="kb-redacted">[email address]</mark>' in html


def test_a_kept_greeting_name_comes_back_with_its_space():
    found = redaction("Hi Casey, it works now.", CASEY)
    assert found.text() == "Hi, it works now."
    assert found.text({found.items()[0].key}) == "Hi Casey, it works now."


def test_preview_escapes_the_reply():
    assert "<script>" not in redaction("<script>alert(1)</script> Casey", CASEY).preview_html()


def test_text_without_greeting_keeps_its_first_line():
    out = redact("Hello, the export is ready.\nIt has 3 files.", CASEY)
    assert out.startswith("Hello, the export is ready.")


def test_lone_agent_name_and_longer_sign_offs_go():
    assert redact("Done, the refund is on its way.\n\nAlex", CASEY) == "Done, the refund is on its way."
    assert redact("Done.\n\nKind regards,\nAlex Agent\nAcme Support", CASEY) == "Done."
    assert redact("Erledigt.\n\nViele Grüße\nAlex", CASEY) == "Erledigt."


def test_subject_becomes_a_title():
    assert (
        clean_subject("Re: RE: [#123] Casey can't export to CSV", CASEY)
        == "[customer name] can't export to CSV"
    )
    assert clean_subject("Fwd: Invoice for Initech", CASEY) == "Invoice for [company name]"
