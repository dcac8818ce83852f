"""Tests for happydesk.mail.parsing: the fixture corpus, generated MIME bombs, focused behaviour, fuzzing.

No database and no Django settings are needed: the parser package is standalone.
"""

from __future__ import annotations

import ast
import json
import random
import tracemalloc
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import happydesk.mail.parsing as parsing_pkg
from happydesk.mail.parsing import (
    Address,
    Limits,
    MessageTooComplex,
    ParsedAttachment,
    ParsedEmail,
    ParseFailure,
    UnparseableMessage,
    content_hash,
    parse_email,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
EXPECTED: dict[str, dict[str, Any]] = json.loads((FIXTURES / "expected.json").read_text("utf-8"))
EML_FILES = sorted(p.name for p in FIXTURES.glob("*.eml"))


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------
def _msg(body: str, *, content_type: str = "text/plain; charset=utf-8", **headers: str) -> bytes:
    """Build a small raw message; header kwargs use underscores for dashes."""
    base = {
        "From": "Alice Example <alice@example.org>",
        "To": "support@example.com",
        "Subject": "Test",
        "Date": "Tue, 05 Mar 2024 09:00:00 +0000",
        "Message-ID": "<test-1@example.org>",
        "MIME-Version": "1.0",
        "Content-Type": content_type,
    }
    base.update({k.replace("_", "-"): v for k, v in headers.items()})
    head = "".join(f"{k}: {v}\r\n" for k, v in base.items())
    return (head + "\r\n" + body.replace("\r\n", "\n").replace("\n", "\r\n")).encode("utf-8")


def _parse_or_failure(raw: bytes) -> ParsedEmail | ParseFailure:
    """parse_email, but a ParseFailure is returned; anything else propagates (and fails the test)."""
    try:
        result = parse_email(raw)
    except ParseFailure as exc:
        assert isinstance(exc.reason, str) and exc.reason.strip(), "ParseFailure without a reason"
        return exc
    assert isinstance(result, ParsedEmail)
    return result


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _contains(field: str) -> Callable[[ParsedEmail, Any], None]:
    def check(r: ParsedEmail, value: Any) -> None:
        actual = getattr(r, field) or ""
        for needle in _as_list(value):
            assert needle in actual, f"{field} should contain {needle!r}; got {actual[:500]!r}"

    return check


def _excludes(field: str) -> Callable[[ParsedEmail, Any], None]:
    def check(r: ParsedEmail, value: Any) -> None:
        actual = getattr(r, field) or ""
        for needle in _as_list(value):
            assert needle not in actual, f"{field} should not contain {needle!r}; got {actual[:500]!r}"

    return check


def _equals(getter: Callable[[ParsedEmail], Any], label: str) -> Callable[[ParsedEmail, Any], None]:
    def check(r: ParsedEmail, value: Any) -> None:
        actual = getter(r)
        assert actual == value, f"{label}: expected {value!r}, got {actual!r}"

    return check


def _date(r: ParsedEmail, value: str | None) -> None:
    if value is None:
        assert r.date is None
        return
    assert r.date is not None and r.date.tzinfo is not None
    assert r.date == datetime.fromisoformat(value), f"date {r.date.isoformat()} != {value}"


CHECKS: dict[str, Callable[[ParsedEmail, Any], None]] = {
    "message_id": _equals(lambda r: r.message_id, "message_id"),
    "in_reply_to": _equals(lambda r: r.in_reply_to, "in_reply_to"),
    "references": _equals(lambda r: r.references, "references"),
    "subject": _equals(lambda r: r.subject, "subject"),
    "subject_contains": _contains("subject"),
    "from_address": _equals(lambda r: r.from_.address if r.from_ else None, "from address"),
    "from_name": _equals(lambda r: r.from_.name if r.from_ else None, "from name"),
    "from_is_none": _equals(lambda r: r.from_ is None, "from_ is None"),
    "from_defective": _equals(lambda r: r.from_defective, "from_defective"),
    "date": _date,
    "to": _equals(lambda r: [a.address for a in r.to], "to"),
    "cc": _equals(lambda r: [a.address for a in r.cc], "cc"),
    "reply_to": _equals(lambda r: [a.address for a in r.reply_to], "reply_to"),
    "text_contains": _contains("text"),
    "text_excludes": _excludes("text"),
    "text_empty": _equals(lambda r: r.text == "", "text is empty"),
    "new_text_contains": _contains("new_text"),
    "new_text_excludes": _excludes("new_text"),
    "new_text_equals_text": _equals(lambda r: r.new_text == r.text, "new_text == text"),
    "quoted_contains": _contains("quoted"),
    "quoted_empty": _equals(lambda r: r.quoted == "", "quoted is empty"),
    "html_is_none": _equals(lambda r: r.html is None, "html is None"),
    "html_contains": _contains("html"),
    "html_excludes": _excludes("html"),
    "attachments": _equals(lambda r: len(r.attachments), "attachment count"),
    "inline_attachments": _equals(lambda r: sum(a.inline for a in r.attachments), "inline attachment count"),
    "attachment_filenames": _equals(lambda r: [a.filename for a in r.attachments], "attachment filenames"),
    "attachment_content_types": _equals(
        lambda r: [a.content_type for a in r.attachments], "attachment types"
    ),
    "is_auto": _equals(lambda r: r.is_auto, "is_auto"),
    "auto_reason_contains": _contains("auto_reason"),
    "is_bounce": _equals(lambda r: r.is_bounce, "is_bounce"),
    "bounce_original_message_ids": _equals(lambda r: r.bounce_original_message_ids, "bounce ids"),
    "bounce_recipient": _equals(lambda r: r.bounce_recipient, "bounce_recipient"),
    "bounce_status": _equals(lambda r: r.bounce_status, "bounce_status"),
    "bounce_diagnostic_contains": _contains("bounce_diagnostic"),
    "headers": lambda r, v: [
        _equals(lambda r, k=k: r.headers.get(k), f"header {k}")(r, x) for k, x in v.items()
    ],
    "defects_contain": lambda r, v: [_contains("defects_text")(_DefectView(r), x) for x in _as_list(v)],
    "no_defects": _equals(lambda r: r.defects == [], "no defects"),
}


class _DefectView:
    """Adapter so defect notes can be searched like a text field."""

    def __init__(self, r: ParsedEmail) -> None:
        self.defects_text = " | ".join(r.defects)


def _check_invariants(r: ParsedEmail) -> None:
    """Properties every ParsedEmail must have, whatever the input."""
    assert isinstance(r.text, str) and isinstance(r.new_text, str) and isinstance(r.quoted, str)
    if r.text:
        assert r.new_text, "new_text must never be empty when text is not"
    assert "\x00" not in r.text and "\x00" not in r.subject
    assert r.date is None or r.date.tzinfo is not None
    assert r.message_id is None or (r.message_id and "<" not in r.message_id and " " not in r.message_id)
    for att in r.attachments:
        assert isinstance(att, ParsedAttachment) and isinstance(att.data, bytes) and att.filename
        assert "/" not in att.filename and "\\" not in att.filename
    for addr in [*r.to, *r.cc, *r.reply_to, *([r.from_] if r.from_ else [])]:
        assert isinstance(addr, Address)
        if addr.address:
            assert addr.address.split("@", 1)[1] == addr.address.split("@", 1)[1].lower()
    if r.html is not None:
        assert "<script" not in r.html.lower()


# --------------------------------------------------------------------------------------------------
# fixture corpus
# --------------------------------------------------------------------------------------------------
def test_corpus_size_and_coverage() -> None:
    assert len(EML_FILES) >= 70
    total = (
        sum((FIXTURES / n).stat().st_size for n in EML_FILES) + (FIXTURES / "expected.json").stat().st_size
    )
    assert total < 2 * 1024 * 1024
    stored = set(EML_FILES)
    missing = sorted(stored - set(EXPECTED))
    assert not missing, f"fixtures without an expected.json entry: {missing}"
    unknown = sorted(k for k in EXPECTED if k.endswith(".eml") and k not in stored)
    assert not unknown, f"expected.json entries without a fixture file: {unknown}"
    generated = {k for k in EXPECTED if not k.endswith(".eml")}
    assert generated == set(GENERATED), "every generated case needs a generator and an expected entry"


@pytest.mark.parametrize("name", EML_FILES)
def test_fixture(name: str) -> None:
    expected = EXPECTED.get(name)
    assert expected is not None, f"{name} has no entry in expected.json"
    outcome = _parse_or_failure((FIXTURES / name).read_bytes())
    if expected["outcome"] == "parsed":
        assert isinstance(outcome, ParsedEmail), f"{name}: expected a parse, got {outcome!r}"
        _check_invariants(outcome)
        for key, value in expected.items():
            if key == "outcome":
                continue
            assert key in CHECKS, f"unknown expectation key {key!r} in expected.json"
            CHECKS[key](outcome, value)
        return
    wanted = {"too_complex": MessageTooComplex, "unparseable": UnparseableMessage}[expected["outcome"]]
    assert isinstance(outcome, wanted), f"{name}: expected {wanted.__name__}, got {outcome!r}"
    if "reason_contains" in expected:
        assert expected["reason_contains"].lower() in outcome.reason.lower()


# --------------------------------------------------------------------------------------------------
# generated MIME bombs (never stored as files)
# --------------------------------------------------------------------------------------------------
def _bomb_many_parts(n: int = 5000) -> bytes:
    chunks = [b'From: a@example.org\r\nSubject: bomb\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n']
    chunks.extend(b"--B\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % i for i in range(n))
    chunks.append(b"--B--\r\n")
    return b"".join(chunks)


def _bomb_deep(depth: int = 200) -> bytes:
    head = b'From: a@example.org\r\nSubject: deep\r\nContent-Type: multipart/mixed; boundary="b0"\r\n\r\n'
    opens = b"".join(
        b'--b%d\r\nContent-Type: multipart/mixed; boundary="b%d"\r\n\r\n' % (i, i + 1)
        for i in range(depth - 1)
    )
    leaf = b"--b%d\r\nContent-Type: text/plain\r\n\r\nbottom\r\n" % (depth - 1)
    closes = b"".join(b"--b%d--\r\n" % i for i in range(depth - 1, -1, -1))
    return head + opens + leaf + closes


def _bomb_big_header() -> bytes:
    return b"From: a@example.org\r\nSubject: " + b"A" * (2 * 1024 * 1024) + b"\r\n\r\nbody\r\n"


def _bomb_many_headers() -> bytes:
    headers = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"v" * 60) for i in range(600_000 // 70))
    return b"From: a@example.org\r\nSubject: many headers\r\n" + headers + b"\r\nbody\r\n"


def _bomb_boundary_flood(n: int = 600) -> bytes:
    head = b'From: a@example.org\r\nSubject: flood\r\nContent-Type: multipart/mixed; boundary="top"\r\n\r\n'
    parts = b"".join(
        b'--top\r\nContent-Type: multipart/alternative; boundary="alt%d"\r\n\r\n'
        b"--alt%d\r\nContent-Type: text/plain\r\n\r\nx\r\n--alt%d--\r\n" % (i, i, i)
        for i in range(n)
    )
    return head + parts + b"--top--\r\n"


GENERATED: dict[str, Callable[[], bytes]] = {
    "generated:mime_bomb_5000_parts": _bomb_many_parts,
    "generated:mime_bomb_200_deep": _bomb_deep,
    "generated:header_2mb_single": _bomb_big_header,
    "generated:header_block_600kb_many": _bomb_many_headers,
    "generated:boundary_flood_600_multiparts": _bomb_boundary_flood,
}


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_bombs(name: str) -> None:
    assert EXPECTED[name]["outcome"] == "too_complex"
    raw = GENERATED[name]()
    with pytest.raises(MessageTooComplex) as info:
        parse_email(raw)
    assert info.value.reason and isinstance(info.value, ParseFailure)


def test_part_bomb_memory_is_bounded() -> None:
    raw = _bomb_many_parts()
    tracemalloc.start()
    try:
        with pytest.raises(MessageTooComplex):
            parse_email(raw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 1024 * 1024, f"peak allocation {peak / 1e6:.1f} MB"


def test_nested_parts_just_within_limits_parse() -> None:
    parsed = parse_email(_bomb_deep(20))
    assert parsed.text == "bottom"
    parsed = parse_email(_bomb_many_parts(400))
    assert "part 399" in parsed.text


def test_custom_limits_are_enforced() -> None:
    raw = _bomb_many_parts(5)
    assert parse_email(raw).text
    with pytest.raises(MessageTooComplex):
        parse_email(raw, limits=Limits(max_parts=3))
    with pytest.raises(MessageTooComplex):
        parse_email(_bomb_deep(5), limits=Limits(max_depth=3))
    with pytest.raises(MessageTooComplex):
        parse_email(_msg("x", Subject="s" * 300), limits=Limits(max_single_header_bytes=200))


# --------------------------------------------------------------------------------------------------
# focused behaviour
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "new", "quoted_start"),
    [
        (
            "Works now!\n\nOn Tue, Mar 5, 2024 at 9:12 AM Jane Doe <jane@example.com> wrote:\n> old\n",
            "Works now!",
            "On Tue, Mar 5",
        ),
        (
            "Works now!\n\nOn Tue, Mar 5, 2024 at 9:12 AM Jane Doe <\njane@example.com> wrote:\n\n> old\n",
            "Works now!",
            "On Tue, Mar 5",
        ),
        (
            "Still broken.\n\n-----Original Message-----\nFrom: Jane <jane@example.com>\n"
            "Sent: Tuesday, March 5, 2024 9:12 AM\nTo: Bob\nSubject: x\n\nold\n",
            "Still broken.",
            "-----Original Message-----",
        ),
        (
            "Still broken.\n\n________________________________\nFrom: Jane <jane@example.com>\n"
            "Sent: Tuesday, March 5, 2024 9:12 AM\nTo: Bob\nSubject: x\n\nold\n",
            "Still broken.",
            "______",
        ),
        (
            "Sure.\n\n> On 5 Mar 2024, at 09:12, Jane Doe <jane@example.com> wrote:\n>\n> old\n",
            "Sure.",
            "> On 5 Mar 2024",
        ),
        (
            "Danke!\n\nVon: Jane <jane@example.com>\nGesendet: Dienstag, 5. März 2024 09:12\n"
            "An: Support\nBetreff: AW: x\n\nalt\n",
            "Danke!",
            "Von: Jane",
        ),
        (
            "Merci !\n\nLe mar. 5 mars 2024 à 09:12, Jean <jean@example.fr> a écrit :\n> vieux\n",
            "Merci !",
            "Le mar. 5 mars",
        ),
        (
            "Merci.\n\nDe : Jean <jean@example.fr>\nEnvoyé : mardi 5 mars 2024 09:12\nÀ : Support\n"
            "Objet : RE: x\n\nvieux\n",
            "Merci.",
            "De : Jean",
        ),
        (
            "Gracias.\n\nEl mar, 5 mar 2024 a las 9:12, Juan <juan@example.es> escribió:\n> viejo\n",
            "Gracias.",
            "El mar",
        ),
    ],
    ids=[
        "gmail",
        "gmail-wrapped",
        "outlook",
        "outlook-underscores",
        "apple",
        "german",
        "french",
        "french-outlook",
        "spanish",
    ],
)
def test_reply_split(body: str, new: str, quoted_start: str) -> None:
    parsed = parse_email(_msg(body, Subject="Re: x"))
    assert parsed.new_text == new
    assert parsed.quoted.startswith(quoted_start)
    assert parsed.text.startswith(new)


@pytest.mark.parametrize(
    "body",
    [
        "Hi,\n\n> q1?\nanswer one\n\n> q2?\nanswer two\n",
        "On Tue, Mar 5, 2024 at 9:12 AM Jane <jane@example.com> wrote:\n> question?\n\nmy answer at the bottom\n",
        "> only quoted text\n> nothing new\n",
        "-- \nonly a signature\n",
    ],
    ids=["interleaved", "bottom-posted", "quote-only", "signature-only"],
)
def test_new_text_never_empty(body: str) -> None:
    parsed = parse_email(_msg(body, Subject="Re: x"))
    assert parsed.text
    assert parsed.new_text == parsed.text
    assert parsed.quoted == ""


def test_signatures_are_split_off() -> None:
    parsed = parse_email(_msg("Please help.\n\nThanks\n-- \nBob\nACME Inc.\n"))
    assert parsed.new_text == "Please help.\n\nThanks"
    assert parsed.quoted == "-- \nBob\nACME Inc."
    parsed = parse_email(_msg("Where is my parcel?\n\nSent from my iPhone\n"))
    assert parsed.new_text == "Where is my parcel?"


def test_forwarded_mail_is_not_quoted_history() -> None:
    body = "See below.\n\n---------- Forwarded message ---------\nFrom: Shop <a@shop.example.com>\nDate: x\nSubject: y\nTo: z\n\nOrder details\n"
    parsed = parse_email(_msg(body, Subject="Fwd: order"))
    assert "Order details" in parsed.new_text and parsed.quoted == ""


@pytest.mark.parametrize(
    "from_header",
    [
        "victim@x.test)<attacker@y.test>",
        "victim@x.test <attacker@y.test>",
        "Alice <alice@example.org>, Mallory <m@y.test>",
        "<<<>>>",
        "alice@example.org (attacker@y.test",
    ],
)
def test_defective_from(from_header: str) -> None:
    parsed = parse_email(_msg("hi", From=from_header))
    assert parsed.from_defective is True
    assert any("From" in d for d in parsed.defects)


def test_clean_from_is_not_defective() -> None:
    for header in [
        '"Doe, Jane" <Jane@Example.COM>',
        "=?utf-8?q?J=C3=BCrgen?= <j@example.de>",
        "bob@example.org",
    ]:
        parsed = parse_email(_msg("hi", From=header))
        assert parsed.from_defective is False, header
        assert parsed.from_ is not None and parsed.from_.address
    parsed = parse_email(_msg("hi", From='"Doe, Jane" <Jane@Example.COM>'))
    assert parsed.from_ == Address(name="Doe, Jane", address="Jane@example.com")


def test_duplicate_from_headers_are_defective() -> None:
    raw = _msg("hi").replace(b"From: Alice", b"From: Mallory <m@y.test>\r\nFrom: Alice")
    parsed = parse_email(raw)
    assert parsed.from_defective is True


def test_dsn_bounce_original_ids() -> None:
    parsed = parse_email((FIXTURES / "bounce_dsn_rfc3464.eml").read_bytes())
    assert parsed.is_bounce and parsed.is_auto
    assert parsed.bounce_original_message_ids == ["ticket-55-reply-3@support.example.com"]
    assert parsed.bounce_recipient == "nobody@customer.example.org"
    assert parsed.bounce_status == "5.1.1"
    assert parsed.attachments == []  # the bounced original is not offered as an attachment
    parsed = parse_email((FIXTURES / "bounce_dsn_rfc822_headers.eml").read_bytes())
    assert parsed.bounce_original_message_ids == ["ticket-56-reply-1@support.example.com"]


def test_auto_detection_signals() -> None:
    assert parse_email(_msg("hi", Auto_Submitted="auto-generated")).is_auto
    assert not parse_email(_msg("hi", Auto_Submitted="no")).is_auto
    assert parse_email(_msg("hi", Precedence="junk")).auto_reason == "Precedence: junk"
    assert parse_email(_msg("hi", X_Autorespond="yes")).is_auto
    assert parse_email(_msg("hi", X_Auto_Response_Suppress="DR, OOF")).is_auto
    assert not parse_email(_msg("hi", X_Auto_Response_Suppress="DR, RN")).is_auto
    assert parse_email(_msg("hi", From="MAILER-DAEMON@mx.example.com")).is_auto
    assert not parse_email(_msg("Just a normal question")).is_auto


def test_content_hash_ignores_trace_headers() -> None:
    base = _msg("Hello there\n", Subject="Hash me")
    smtp = b"Received: from a.example.net by mx.example.com; Tue, 5 Mar 2024 09:00:01 +0000\r\n" + base
    imap = (
        b"Return-Path: <alice@example.org>\r\nDelivered-To: support@example.com\r\n"
        b"Received: from b.example.net\r\n\tby imap.example.com; Tue, 5 Mar 2024 09:00:09 +0000\r\n"
        b"X-Original-To: support@example.com\r\nAuthentication-Results: mx; dmarc=pass\r\n"
        b"ARC-Seal: i=1; a=rsa-sha256; cv=none\r\nX-Spam-Status: No, score=-1.0\r\n" + base
    )
    lf_only = imap.replace(b"\r\n", b"\n")
    digest = content_hash(base)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert content_hash(smtp) == digest
    assert content_hash(imap) == digest
    assert content_hash(lf_only) == digest
    assert content_hash(base + b"\r\n\r\n") == digest  # trailing blank lines added in transit
    different_body = _msg("Hello there, but different\n", Subject="Hash me")
    assert content_hash(different_body) != digest
    assert content_hash(_msg("Hello there\n", Subject="Other subject")) != digest


def test_content_hash_never_raises() -> None:
    for raw in [b"", b"\x00\xff" * 100, b"no headers at all", b"A: b\r\n", bytearray(b"From: x\r\n\r\nbody")]:
        assert len(content_hash(raw)) == 64  # type: ignore[arg-type]
    assert len(content_hash(None)) == 64  # type: ignore[arg-type]


def test_html_sanitizing() -> None:
    html = (
        '<p onclick="x()">Hi <a href="javascript:alert(1)">bad</a> <a href="https://example.org/">good</a></p>'
        '<script>alert("x")</script><img src="cid:logo@example.org" onerror="alert(1)">'
        '<img src="data:image/png;base64,AAAA"><img src="/relative.png">'
        '<div style="background:url(https://t.example.net/x.png);color:blue">styled</div>'
        '<iframe src="https://evil.example.net"></iframe><style>body{display:none}</style>'
        '<a href="https://example.org/x" target="_blank">t</a><object data="x.swf"></object>'
    )
    parsed = parse_email(_msg(html, content_type="text/html; charset=utf-8"))
    out = parsed.html or ""
    for bad in [
        "<script",
        "onerror",
        "onclick",
        "javascript:",
        "data:",
        "relative.png",
        "url(",
        "<iframe",
        "<style",
        "<object",
        "alert",
    ]:
        assert bad not in out, bad
    assert 'src="cid:logo@example.org"' in out
    assert 'href="https://example.org/"' in out
    assert 'rel="noopener noreferrer"' in out
    assert "Hi" in parsed.text and "good (https://example.org/)" in parsed.text


def test_inline_images_are_attachments_not_inlined() -> None:
    parsed = parse_email((FIXTURES / "outlook_reply_html_with_inline_image.eml").read_bytes())
    (att,) = parsed.attachments
    assert att.inline and att.content_id == "image001.png@01DA7123.ABCDEF00"
    assert att.data.startswith(b"\x89PNG")
    assert "base64" not in (parsed.html or "")


def test_pathological_html_is_degraded_not_fatal() -> None:
    deep = "<div>" * 20_000 + "deep text" + "</div>" * 20_000
    parsed = parse_email(_msg(deep, content_type="text/html"))
    assert parsed.text == "deep text"
    assert parsed.html == "<p>deep text</p>"
    assert any("nested deeper" in d for d in parsed.defects)
    huge_tag = '<p title="' + "x" * 20_000 + '">tag text</p>'
    assert parse_email(_msg(huge_tag, content_type="text/html")).html == "<p>tag text</p>"
    for flood in ["<a" * 100_000, "&" * 200_000, "a &amp; b " * 50_000, "<!--" * 50_000, "</" * 50_000]:
        parsed = parse_email(_msg(flood, content_type="text/html"))
        assert parsed.html is not None and "<script" not in parsed.html


def test_hostile_address_headers_still_parse() -> None:
    for to in ['"a' * 20_000, "," * 50_000, "(" * 50_000, "a@" * 20_000, "<" * 50_000]:
        parsed = parse_email(_msg("hi", To=to))
        assert parsed.to == [] and parsed.text == "hi"
    many = ", ".join(f"User {i} <user{i}@example.com>" for i in range(1500))
    parsed = parse_email(_msg("hi", To=many))
    assert len(parsed.to) == 1000 and any("only the first" in d for d in parsed.defects)
    group = parse_email(_msg("hi", To="Team: a@example.com, b@example.com;, c@example.com"))
    assert [a.address for a in group.to] == ["a@example.com", "b@example.com", "c@example.com"]


def test_oversized_mime_headers_are_too_complex() -> None:
    with pytest.raises(MessageTooComplex):
        parse_email(_msg("hi", content_type="text/plain; " + "a=b; " * 5_000))
    parts = "".join(f"--B\r\nContent-Type: text/plain; {'a=b;' * 20}\r\n\r\nx\r\n" for i in range(300))
    with pytest.raises(MessageTooComplex):
        parse_email(_msg(parts + "--B--\r\n", content_type='multipart/mixed; boundary="B"'))


def test_unparseable_inputs() -> None:
    for raw in [b"", b"   \r\n", b"\x89PNG\r\n\x1a\n", b"just some words\r\nand more\r\n"]:
        with pytest.raises(UnparseableMessage) as info:
            parse_email(raw)
        assert info.value.reason


def test_internal_errors_are_wrapped(monkeypatch: pytest.MonkeyPatch) -> None:
    import happydesk.mail.parsing.message as message_module

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(message_module, "split_reply", boom)
    with pytest.raises(UnparseableMessage) as info:
        parse_email(_msg("hello"))
    assert "simulated bug" in info.value.reason


def test_package_is_standalone() -> None:
    """The parser must not import Django or other happydesk modules (tests run without settings)."""
    package_dir = Path(parsing_pkg.__file__).parent
    for path in package_dir.glob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith("django"), f"{path.name} imports {name}"
                if name.startswith("happydesk"):
                    assert name.startswith("happydesk.mail.parsing"), f"{path.name} imports {name}"


def test_public_defaults() -> None:
    limits = Limits()
    assert (limits.max_parts, limits.max_depth, limits.max_header_bytes, limits.max_single_header_bytes) == (
        500,
        30,
        512_000,
        100_000,
    )
    with pytest.raises(AttributeError):
        limits.max_parts = 1  # type: ignore[misc]
    assert issubclass(MessageTooComplex, ParseFailure) and issubclass(UnparseableMessage, ParseFailure)
    assert MessageTooComplex("x").reason == "x"


# --------------------------------------------------------------------------------------------------
# fuzz-ish robustness (seeded, no hypothesis)
# --------------------------------------------------------------------------------------------------
FUZZ_SEEDS = [
    "gmail_reply_html_alternative.eml",
    "outlook_reply_html_with_inline_image.eml",
    "bounce_dsn_rfc3464.eml",
    "nested_mixed_alternative_related.eml",
    "german_outlook_reply.eml",
    "attachment_rfc2231_continuations.eml",
]


def _mutate(rng: random.Random, data: bytes) -> bytes:
    kind = rng.randrange(7)
    if kind == 0 and data:  # truncation
        return data[: rng.randrange(len(data))]
    if kind == 1 and data:  # byte flips
        buf = bytearray(data)
        for _ in range(rng.randint(1, 40)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        return bytes(buf)
    if kind == 2:  # header duplication
        lines = data.split(b"\r\n")
        head_end = lines.index(b"") if b"" in lines else len(lines)
        if head_end:
            dup = lines[rng.randrange(head_end)]
            lines.insert(rng.randrange(head_end + 1), dup * rng.randint(1, 3))
        return b"\r\n".join(lines)
    if kind == 3 and data:  # delete a chunk
        start = rng.randrange(len(data))
        return data[:start] + data[start + rng.randint(1, 400) :]
    if kind == 4:  # splice in hostile tokens
        token = rng.choice(
            [
                b"\r\n--",
                b"=?utf-8?b?",
                b"\x00",
                b"\r\n\r\n",
                b'boundary="x"',
                b"<",
                b"\xff\xfe",
                b"Content-Type: multipart/mixed; boundary=zz\r\n",
                b"=\r\n",
                b"\t",
            ]
        )
        pos = rng.randrange(len(data) + 1)
        return data[:pos] + token * rng.randint(1, 5) + data[pos:]
    if kind == 5:  # line ending chaos
        return data.replace(b"\r\n", rng.choice([b"\n", b"\r", b"\r\r\n", b"\n\r"]))
    return data[::-1] if rng.random() < 0.1 else data + data[: rng.randrange(len(data) + 1)]


def test_fuzz_mutations_only_raise_parse_failure() -> None:
    rng = random.Random(20240305)
    seeds = [(FIXTURES / n).read_bytes() for n in FUZZ_SEEDS]
    for i in range(300):
        data = rng.choice(seeds)
        for _ in range(rng.randint(1, 3)):
            data = _mutate(rng, data)
        outcome = _parse_or_failure(data)
        if isinstance(outcome, ParsedEmail):
            _check_invariants(outcome)
        assert len(content_hash(data)) == 64, f"mutation {i}"
