"""Fuzzing, bounded in time, in every run: the mail parser and the Markdown renderer take mangled and
random input and must answer with a result or a clear refusal, never an internal error; what they
produce is never script. Every input that ever broke one is kept in tests/fixtures/fuzz/ and replayed.

HAPPYDESK_FUZZ_EXAMPLES raises the number of examples for a longer local run (default 150 per test).
"""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from happydesk.mail.parsing.limits import Limits, ParseFailure
from happydesk.mail.parsing.message import ParsedEmail, parse_email
from happydesk.web.markdown import render_markdown

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CORPUS = sorted((FIXTURES / "mail").glob("*.eml"))
CRASHES = sorted((FIXTURES / "fuzz").glob("*.eml"))
EXAMPLES = int(os.environ.get("HAPPYDESK_FUZZ_EXAMPLES", "150"))
BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # nothing written into the checkout; a crash is kept by hand in tests/fixtures/fuzz/
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SMALL = Limits(max_parts=60, max_depth=12)


class _Scripts(HTMLParser):
    """Collects what a browser would run in a fragment: script/iframe/object elements, event-handler
    attributes, and javascript:/vbscript:/data: URLs in attributes that navigate or load."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "iframe", "object", "embed", "base", "meta", "form"}:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            url = re.sub(r"[\s\x00-\x1f]", "", value or "").lower()
            if name.startswith("on"):
                self.found.append(f"{tag} {name}=")
            elif name in {"href", "src", "action", "formaction", "xlink:href"} and url.startswith(
                ("javascript:", "vbscript:", "data:text/html")
            ):
                self.found.append(f"{tag} {name}={value}")


def scripts_in(html: str) -> list[str]:
    parser = _Scripts()
    parser.feed(html)
    parser.close()
    return parser.found


def check_parse(raw: bytes) -> None:
    """A parse gives a result or a ParseFailure that says what is wrong: never an internal error, and
    the sanitized HTML carries no script."""
    try:
        parsed = parse_email(raw, limits=SMALL)
    except ParseFailure as exc:
        assert not str(exc).startswith("internal parser error"), str(exc)
        return
    assert isinstance(parsed, ParsedEmail)
    assert isinstance(parsed.text, str) and isinstance(parsed.html or "", str)
    assert not scripts_in(parsed.html or ""), (parsed.html or "")[:500]


@st.composite
def mangled_mail(draw: st.DrawFn) -> bytes:
    """A real message from the fixture corpus, cut, spliced, bit-flipped and stuffed with hostile
    header and MIME fragments."""
    data = bytearray(draw(st.sampled_from(CORPUS)).read_bytes())
    fragments = [
        b'\r\nContent-Type: multipart/mixed; boundary=""\r\n',
        b"\r\nContent-Transfer-Encoding: base64\r\n\r\n====\r\n",
        b"=?utf-8?b?////?=",
        b"=?x-unknown?q?=FF=FE?=",
        b'\r\nContent-Type: text/html; charset="\x00"\r\n\r\n<scr<script>ipt>alert(1)</script>',
        b"\r\n--boundary--\r\n--boundary\r\n",
        b"\r\nContent-Disposition: attachment; filename*=utf-8''%FF%2e%2e%2fpasswd\r\n",
        b"\xff\xfe\x00",
        b"\r\n" + b"X-Long: " + b"a" * 5000 + b"\r\n",
    ]
    for _ in range(draw(st.integers(0, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "cut", "insert", "fragment", "dup"]))
        if action == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "cut":
            del data[at : at + draw(st.integers(1, 400))]
        elif action == "insert":
            data[at:at] = draw(st.binary(max_size=64))
        elif action == "fragment":
            data[at:at] = draw(st.sampled_from(fragments))
        else:
            data[at:at] = data[max(0, at - 200) : at]
    return bytes(data)


@BOUNDED
@given(mangled_mail())
def test_the_parser_survives_mangled_real_mail(raw: bytes) -> None:
    check_parse(raw)


@BOUNDED
@given(st.binary(max_size=4000))
def test_the_parser_survives_random_bytes(raw: bytes) -> None:
    check_parse(raw)


MARKDOWN_BITS = [
    "[x](javascript:alert(1))", "![i](http://t.test/p.png)", "<img src=x onerror=alert(1)>", "<script>",
    "*", "**", "`", "```", "\n", "> ", "- ", "1. ", "|a|b|\n|-|-|\n", "[r]: //t.test/x", "![r][r]",
    "<a href='javascript:x'>", "&#106;avascript:", "[a](<javascript:alert(1)>)", "\\", "~~", "#",
]  # fmt: skip


@BOUNDED
@given(st.lists(st.one_of(st.sampled_from(MARKDOWN_BITS), st.text(max_size=20)), max_size=40), st.booleans())
def test_markdown_never_yields_script(parts: list[str], remote: bool) -> None:
    html = render_markdown("".join(parts), remote_images=remote)
    assert not scripts_in(html), html
    if not remote:
        assert not re.search(r"<img[^>]+src=\"(?:https?:)?//", html), html


@pytest.mark.parametrize("path", CRASHES, ids=[p.name for p in CRASHES])
def test_every_input_that_once_broke_the_parser_is_handled(path: Path) -> None:
    check_parse(path.read_bytes())
