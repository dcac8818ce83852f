"""Sender authentication (SPF, DKIM, DMARC, ARC) through a real DNS server on loopback, the way an
outsider would try it: spoofed From headers, borrowed signatures, forged Authentication-Results."""

from __future__ import annotations

import functools
import socket
import time
from dataclasses import replace

import pytest

from happydesk.mail.auth import AuthVerdict, dns_resolver, verdict_from_headers, verify_received
from tests.helpers import make_email
from tests.mailauth_helpers import (
    append_to_body,
    arc_forward,
    dkim_key,
    dkim_sign,
    dmarc_zone,
    spf_record,
)

# example.test is a bank-like known domain: strict SPF elsewhere, signs with DKIM, DMARC p=reject.
BANK = "example.test"
BANK_KEY = dkim_key(BANK)
ATTACKER = "attacker.test"
ATTACKER_KEY = dkim_key(ATTACKER)
FORWARDER = "lists.forwarder.test"
FORWARDER_KEY = dkim_key(FORWARDER, selector="arc")
ELSEWHERE = "192.0.2.0/24"  # never the loopback the tests send from


def bank_zone(**extra: list[str] | str) -> dict[str, list[str] | str]:
    return {
        BANK: spf_record(ELSEWHERE),
        **dmarc_zone(BANK, "reject"),
        **BANK_KEY.zone,
        ATTACKER: spf_record("127.0.0.1"),
        **ATTACKER_KEY.zone,
        **dmarc_zone(ATTACKER, "none"),
        **extra,
    }


def bank_mail(**fields: str) -> bytes:
    return make_email(sender=f"Casey <casey@{BANK}>", **fields)


def received(
    data: bytes, *, mail_from: str, ip: str = "127.0.0.1", helo: str = "mx.sender.test"
) -> AuthVerdict:
    verdict = verify_received(data, ip=ip, helo=helo, mail_from=mail_from)
    assert verdict.source == "listener"
    return verdict


# --- SPF -----------------------------------------------------------------------------------------


def test_spf_pass_fail_softfail_for_loopback(dns_server):  # type: ignore[no-untyped-def]
    dns_server.zone(
        {
            "pass.test": spf_record("127.0.0.0/8"),
            "fail.test": spf_record(ELSEWHERE, "ip4:10.0.0.1"),
            "soft.test": spf_record(ELSEWHERE, all="~all"),
            "neutral.test": spf_record(ELSEWHERE, all="?all"),
        }
    )
    for domain, expected in [
        ("pass.test", "pass"),
        ("fail.test", "fail"),
        ("soft.test", "softfail"),
        ("neutral.test", "neutral"),
        ("nospf.test", "none"),
    ]:
        verdict = received(make_email(sender=f"a@{domain}"), mail_from=f"a@{domain}")
        assert verdict.spf == expected, (domain, verdict)
        assert verdict.dmarc == "none" and not verdict.verified  # none of them publishes DMARC


# --- DKIM ----------------------------------------------------------------------------------------


def test_dkim_pass_and_dmarc_pass_by_dkim_alignment_alone(dns_server):  # type: ignore[no-untyped-def]
    dns_server.zone(bank_zone())
    # Sent from loopback, outside example.test's SPF: only the signature can carry it.
    verdict = received(dkim_sign(bank_mail(), BANK_KEY), mail_from=f"casey@{BANK}")
    assert verdict.spf == "fail"
    assert verdict.dkim == "pass" and verdict.dkim_domains == (BANK,)
    assert verdict.dmarc == "pass" and verdict.policy == "reject"
    assert verdict.verified and verdict.reason == ""
    assert verdict.summary.startswith("spf=fail dkim=pass (example.test) dmarc=pass")


def test_dkim_fails_when_the_body_is_altered_after_signing(dns_server):  # type: ignore[no-untyped-def]
    dns_server.zone(bank_zone())
    signed = dkim_sign(bank_mail(body="Please pay invoice 1001 to our usual account.\n"), BANK_KEY)
    tampered = signed.replace(b"usual account", b"new account 666")
    verdict = received(tampered, mail_from=f"casey@{BANK}")
    assert verdict.dkim == "fail" and verdict.dmarc == "fail"
    assert not verdict.verified
    assert "body changed after signing" in verdict.reason and "p=reject" in verdict.reason


def test_dkim_with_a_key_not_in_dns(dns_server):  # type: ignore[no-untyped-def]
    dns_server.zone(bank_zone())
    unpublished = dkim_key(BANK, selector="rogue")  # a key the attacker made up for d=example.test
    verdict = received(dkim_sign(bank_mail(), unpublished), mail_from=f"casey@{BANK}")
    assert verdict.dkim == "permerror" and not verdict.verified
    assert "no key published at rogue._domainkey.example.test" in verdict.reason


def test_dkim_pass_for_another_domain_does_not_verify_the_from(dns_server):  # type: ignore[no-untyped-def]
    dns_server.zone(bank_zone())
    # The attacker signs properly with their own domain and sends from an IP their SPF allows.
    spoof = dkim_sign(bank_mail(), ATTACKER_KEY)
    verdict = received(spoof, mail_from=f"bounce@{ATTACKER}")
    assert verdict.dkim == "pass" and verdict.dkim_domains == (ATTACKER,)
    assert verdict.spf == "pass"
    assert verdict.dmarc == "fail" and not verdict.verified
    assert "not aligned with example.test" in verdict.reason
    assert "SPF passed for attacker.test" in verdict.reason


# --- DMARC ---------------------------------------------------------------------------------------


def test_dmarc_pass_by_spf_alignment_alone(dns_server):  # type: ignore[no-untyped-def]
    # Unsigned; the envelope sender is a subdomain whose SPF covers loopback: relaxed alignment.
    dns_server.zone(bank_zone(**{f"bounces.{BANK}": spf_record("127.0.0.1")}))
    verdict = received(bank_mail(), mail_from=f"b-123@bounces.{BANK}")
    assert verdict.spf == "pass" and verdict.dkim == "none"
    assert verdict.dmarc == "pass" and verdict.verified


def test_strict_spf_alignment_refuses_a_subdomain(dns_server):  # type: ignore[no-untyped-def]
    dns_server.zone(
        {
            BANK: spf_record(ELSEWHERE),
            f"bounces.{BANK}": spf_record("127.0.0.1"),
            **dmarc_zone(BANK, "reject", aspf="s"),
        }
    )
    verdict = received(bank_mail(), mail_from=f"b-123@bounces.{BANK}")
    assert verdict.spf == "pass" and verdict.dmarc == "fail" and not verdict.verified


def test_spoofed_from_of_a_reject_domain_is_not_verified(dns_server):  # type: ignore[no-untyped-def]
    dns_server.zone(bank_zone())
    spoof = make_email(sender=f"CEO <ceo@{BANK}>", subject="Urgent wire transfer")
    verdict = received(spoof, mail_from=f"ceo@{BANK}")  # from loopback, not in SPF, unsigned
    assert verdict.spf == "fail" and verdict.dkim == "none"
    assert verdict.dmarc == "fail" and verdict.policy == "reject"
    assert not verdict.verified
    assert verdict.reason.startswith("DMARC fail for example.test, p=reject")
    assert "no DKIM signature" in verdict.reason


def test_subdomain_from_uses_the_organizational_record_and_sp(dns_server):  # type: ignore[no-untyped-def]
    dns_server.zone({BANK: spf_record(ELSEWHERE), **dmarc_zone(BANK, "none", sp="quarantine")})
    verdict = received(make_email(sender=f"x@mail.{BANK}"), mail_from=f"x@mail.{BANK}")
    assert verdict.from_domain == f"mail.{BANK}"
    assert verdict.dmarc == "fail" and verdict.policy == "quarantine" and not verdict.verified


def test_no_dmarc_record_is_not_verified(dns_server):  # type: ignore[no-untyped-def]
    key = dkim_key("plain.test")
    dns_server.zone({"plain.test": spf_record("127.0.0.1"), **key.zone})
    data = dkim_sign(make_email(sender="pat@plain.test"), key)
    verdict = received(data, mail_from="pat@plain.test")
    assert verdict.spf == "pass" and verdict.dkim == "pass"
    assert verdict.dmarc == "none" and not verdict.verified
    assert verdict.summary.startswith("no DMARC record for plain.test; spf=pass dkim=pass")
    assert "no DMARC record for plain.test" in verdict.reason


# --- DNS trouble ---------------------------------------------------------------------------------


@pytest.mark.parametrize("trouble", ["stopped", "silent"])
def test_dns_down_is_a_bounded_temperror(dns_server, settings, trouble):  # type: ignore[no-untyped-def]
    settings.HAPPYDESK_DNS_TIMEOUT = 0.5
    dns_server.zone(bank_zone())
    if trouble == "stopped":
        dns_server.stop()
    else:
        dns_server.silent()
    data = dkim_sign(bank_mail(), BANK_KEY)
    started = time.monotonic()
    verdict = received(data, mail_from=f"casey@{BANK}")
    elapsed = time.monotonic() - started
    assert elapsed < 2.0, elapsed  # one timeout, then every further lookup fails at once
    assert verdict.spf == "temperror" and verdict.dmarc == "temperror"
    assert not verdict.verified
    assert "could not be checked now" in verdict.reason and "DNS timeout" in verdict.reason


def test_second_resolver_answers_when_the_first_is_down(dns_server, settings):  # type: ignore[no-untyped-def]
    # Each of the two servers gets half of a lookup's time: the dead one costs 0.5 s a lookup, well
    # inside the message's budget of four timeouts even on a loaded machine (0.4 s was not).
    settings.HAPPYDESK_DNS_TIMEOUT = 1.0
    dns_server.zone(bank_zone())
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as dead:  # takes queries, never answers
        dead.bind(("127.0.0.1", 0))
        dead_port = dead.getsockname()[1]
        settings.HAPPYDESK_DNS_RESOLVER = f"127.0.0.1:{dead_port},{dns_server.address}"
        resolver = dns_resolver()
        assert [(ns.address, ns.port) for ns in resolver.nameservers] == [
            ("127.0.0.1", dead_port),
            ("127.0.0.1", dns_server.port),
        ]
        verdict = received(dkim_sign(bank_mail(), BANK_KEY), mail_from=f"casey@{BANK}")
    assert verdict.verified, verdict


# --- hostile input -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _hostile_messages() -> dict[str, bytes]:
    signed = dkim_sign(bank_mail(), BANK_KEY)
    spoof = bank_mail()  # unsigned, from loopback: must never verify, whatever is wrapped around it
    return {
        "garbage": bytes(range(256)) * 40,
        "empty": b"",
        "no-from": b"To: support@acme.test\r\nSubject: hi\r\n\r\nhello\r\n",
        "two-from": f"From: ceo@{BANK}\r\n".encode() + signed,  # a real signature plus a second From
        "from-two-addresses": signed.replace(b"From: Casey", f"From: ceo@{ATTACKER}, Casey".encode(), 1),
        # Wrapped around a genuinely signed mail: only the size limits keep these from verifying.
        "huge-header": b"X-Junk: " + b"a" * 2_000_000 + b"\r\n" + signed,
        "many-folds": b"X-Junk: x" + b"\r\n y" * 100_000 + b"\r\n" + signed,
        "nul-bytes": signed.replace(b"From:", b"From:\x00", 1),
        "bad-signature-tags": b"DKIM-Signature: v=1; a=rsa-sha256; d=\xff; s=;;;; b=@@\r\n" + spoof,
        "many-signatures": b"".join(
            dkim_sign(spoof, replace(BANK_KEY, selector=f"s{i}")).split(b"\r\n", 1)[0] + b"\r\n"
            for i in range(30)
        )
        + spoof,
        "bad-arc": b"ARC-Seal: i=1; cv=none; a=rsa-sha256; d=x; s=y; b=zz\r\n" + spoof,
        "display-name-spoof": make_email(sender=f'"ceo@{BANK}" <x@nodmarc.test>'),
    }


@pytest.mark.parametrize("case", list(_hostile_messages()))
def test_hostile_input_is_never_verified_and_never_raises(dns_server, case):  # type: ignore[no-untyped-def]
    dns_server.zone(bank_zone())
    data = _hostile_messages()[case]
    started = time.monotonic()
    verdict = received(data, mail_from=f"casey@{BANK}")
    assert time.monotonic() - started < 5
    assert not verdict.verified, verdict
    assert verdict.reason
    assert isinstance(verdict.as_dict(), dict)
    if case == "two-from":
        assert "2 From headers" in verdict.reason
    if case == "display-name-spoof":
        assert verdict.from_domain == "nodmarc.test"  # the real address, not the display name
    if case in ("huge-header", "many-folds"):
        assert verdict.reason.startswith("sender not checked"), verdict.reason


def test_verdict_round_trips_through_json():  # type: ignore[no-untyped-def]
    import json

    verdict = AuthVerdict(
        verified=True,
        from_domain=BANK,
        spf="pass",
        dkim="pass",
        dmarc="pass",
        policy="reject",
        arc="",
        source="listener",
        summary="spf=pass dkim=pass (example.test) dmarc=pass",
        reason="",
        dkim_domains=(BANK,),
    )
    stored = json.loads(json.dumps(verdict.as_dict()))  # as RawMessage.auth keeps it: nothing lost
    assert AuthVerdict(**{**stored, "dkim_domains": tuple(stored["dkim_domains"])}) == verdict


# --- Authentication-Results from another server ---------------------------------------------------

TRUSTED = ["mx.acme.test"]


def with_ar(data: bytes, *values: str) -> bytes:
    """Prepend Authentication-Results headers, the first given ends up on top."""
    return b"".join(f"Authentication-Results: {v}\r\n".encode() for v in values) + data


def test_headers_without_authentication_results():  # type: ignore[no-untyped-def]
    verdict = verdict_from_headers(bank_mail(), trusted_ids=TRUSTED)
    assert not verdict.verified and verdict.source == "none"
    assert verdict.reason == "no Authentication-Results from a server we trust"


def test_forged_authentication_results_from_a_foreign_server_is_ignored():  # type: ignore[no-untyped-def]
    data = with_ar(
        bank_mail(), f"mx.attacker.test; spf=pass; dkim=pass header.d={BANK}; dmarc=pass header.from={BANK}"
    )
    verdict = verdict_from_headers(data, trusted_ids=TRUSTED)
    assert not verdict.verified and verdict.source == "none"


def test_topmost_trusted_header_wins_over_a_forged_one_below():  # type: ignore[no-untyped-def]
    forged = f"MX.ACME.TEST; spf=pass smtp.mailfrom={BANK}; dkim=pass header.d={BANK}; dmarc=pass header.from={BANK}"
    data = with_ar(bank_mail(), forged)  # what the attacker wrote into the message
    data = with_ar(
        data,
        f"mx.acme.test; spf=fail smtp.mailfrom={BANK}; dkim=none; dmarc=fail (p=reject) header.from={BANK}",
    )
    verdict = verdict_from_headers(data, trusted_ids=TRUSTED)
    assert verdict.source == "header:mx.acme.test"
    assert not verdict.verified and verdict.dmarc == "fail" and verdict.spf == "fail"
    assert verdict.policy == "reject" and "DMARC fail for example.test" in verdict.reason


def test_trusted_header_with_dmarc_pass_for_the_from_domain_verifies():  # type: ignore[no-untyped-def]
    data = with_ar(
        bank_mail(),
        f"mx.acme.test (Postfix); spf=pass smtp.mailfrom={BANK};\r\n dkim=pass header.d={BANK} header.s=sel;"
        f"\r\n dmarc=pass (p=reject dis=none) header.from={BANK}",
        f"mx.acme.test; dmarc=fail header.from={BANK}",  # an older forged one below does not matter
    )
    # Case-insensitive trusted ids, as an admin might type them.
    verdict = verdict_from_headers(data, trusted_ids=["MX.Acme.Test"])
    assert verdict.verified and verdict.dmarc == "pass" and verdict.dkim == "pass"
    assert verdict.source == "header:mx.acme.test" and verdict.from_domain == BANK
    assert verdict.dkim_domains == (BANK,)


def test_trusted_header_for_another_from_domain_does_not_verify():  # type: ignore[no-untyped-def]
    data = with_ar(
        bank_mail(), f"mx.acme.test; dkim=pass header.d={ATTACKER}; dmarc=pass header.from={ATTACKER}"
    )
    verdict = verdict_from_headers(data, trusted_ids=TRUSTED)
    assert not verdict.verified
    assert "says DMARC pass for attacker.test, but the message is From example.test" in verdict.reason


def test_trusted_dmarc_pass_that_names_no_from_domain_does_not_verify():  # type: ignore[no-untyped-def]
    """A pass that does not say for which From proves nothing about this message's From."""
    data = with_ar(bank_mail(), "mx.acme.test; spf=pass smtp.mailfrom=attacker.test; dmarc=pass")
    verdict = verdict_from_headers(data, trusted_ids=TRUSTED)
    assert not verdict.verified and "no header.from" in verdict.reason


def test_unparseable_trusted_header_does_not_fall_through_to_a_lower_one():  # type: ignore[no-untyped-def]
    data = with_ar(bank_mail(), f"mx.acme.test; dmarc=pass header.from={BANK}")
    for unreadable in ["mx.acme.test; dmarc=pass header.from=(((unbalanced", "mx.acme.test; dmarc"]:
        verdict = verdict_from_headers(with_ar(data, unreadable), trusted_ids=TRUSTED)
        assert not verdict.verified and verdict.source == "header:mx.acme.test"
        assert "could not be read" in verdict.reason


def test_headers_of_hostile_input_never_raise():  # type: ignore[no-untyped-def]
    for data in _hostile_messages().values():
        assert not verdict_from_headers(data, trusted_ids=TRUSTED).verified
    huge = with_ar(bank_mail(), "mx.acme.test; dmarc=pass header.from=" + "a" * 100_000 + ".test")
    assert not verdict_from_headers(huge, trusted_ids=TRUSTED).verified


# --- ARC -----------------------------------------------------------------------------------------


def forwarded_bank_mail() -> bytes:
    """Signed by the bank, then through a mailing list that adds a footer (breaking the bank's body
    hash) and ARC-seals what it saw: DMARC pass for example.test."""
    original = dkim_sign(bank_mail(body="Your statement is ready.\n"), BANK_KEY)
    return arc_forward(
        original,
        sealer=FORWARDER_KEY,
        results=f"spf=pass smtp.mailfrom={BANK}; dkim=pass header.d={BANK}; dmarc=pass header.from={BANK}",
    )


def arc_zone() -> dict[str, list[str] | str]:
    return bank_zone(**FORWARDER_KEY.zone, **{FORWARDER: spf_record("127.0.0.1")})


def test_arc_from_a_trusted_sealer_verifies_a_broken_dkim(dns_server, settings):  # type: ignore[no-untyped-def]
    settings.HAPPYDESK_TRUSTED_ARC_SEALERS = ["forwarder.test"]  # the organization; it seals as lists.…
    dns_server.zone(arc_zone())
    verdict = received(forwarded_bank_mail(), mail_from=f"bounce+srs@{FORWARDER}")
    assert verdict.dkim == "fail" and verdict.dmarc == "fail"  # our own check fails, honestly reported
    assert verdict.arc == "pass" and verdict.arc_sealer == FORWARDER
    assert verdict.verified and verdict.reason == ""
    assert "trusted ARC sealer lists.forwarder.test" in verdict.summary


def test_arc_from_an_untrusted_sealer_does_not_verify(dns_server, settings):  # type: ignore[no-untyped-def]
    settings.HAPPYDESK_TRUSTED_ARC_SEALERS = ["other-forwarder.test"]
    dns_server.zone(arc_zone())
    verdict = received(forwarded_bank_mail(), mail_from=f"bounce+srs@{FORWARDER}")
    assert verdict.arc == "pass" and not verdict.verified
    assert "sealed by lists.forwarder.test, not a trusted forwarder" in verdict.reason


def test_arc_sealed_mail_changed_after_sealing_is_not_verified(dns_server, settings):  # type: ignore[no-untyped-def]
    settings.HAPPYDESK_TRUSTED_ARC_SEALERS = [FORWARDER]
    dns_server.zone(arc_zone())
    tampered = append_to_body(forwarded_bank_mail(), b"PS: new bank details: 666")
    verdict = received(tampered, mail_from=f"bounce+srs@{FORWARDER}")
    assert verdict.arc == "fail" and not verdict.verified


def test_attacker_sealing_their_own_claim_of_dmarc_pass_is_not_verified(dns_server, settings):  # type: ignore[no-untyped-def]
    settings.HAPPYDESK_TRUSTED_ARC_SEALERS = [FORWARDER]
    dns_server.zone(arc_zone())
    spoof = arc_forward(
        make_email(sender=f"CEO <ceo@{BANK}>"),
        sealer=ATTACKER_KEY,
        results=f"dmarc=pass header.from={BANK}",
    )
    verdict = received(spoof, mail_from=f"x@{ATTACKER}")
    assert verdict.arc == "pass" and verdict.arc_sealer == ATTACKER
    assert not verdict.verified and "not a trusted forwarder" in verdict.reason


def test_trusted_sealer_reporting_dmarc_fail_does_not_verify(dns_server, settings):  # type: ignore[no-untyped-def]
    settings.HAPPYDESK_TRUSTED_ARC_SEALERS = [FORWARDER]
    dns_server.zone(arc_zone())
    data = arc_forward(bank_mail(), sealer=FORWARDER_KEY, results=f"spf=fail; dmarc=fail header.from={BANK}")
    verdict = received(data, mail_from=f"bounce@{FORWARDER}")
    assert verdict.arc == "pass" and not verdict.verified


# --- the resolver setting ------------------------------------------------------------------------


def test_an_invalid_resolver_setting_is_a_temperror_not_a_crash(settings):  # type: ignore[no-untyped-def]
    settings.HAPPYDESK_DNS_RESOLVER = "dns.example.test:53"  # resolvers are given by address
    verdict = received(bank_mail(), mail_from=f"casey@{BANK}")
    assert verdict.dmarc == "temperror" and not verdict.verified
    assert "DNS resolver setting is invalid" in verdict.reason
