"""Article Markdown becomes HTML that can never carry script, whatever an author pastes."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from happydesk.web.markdown import description, plain_text, render_markdown, sanitize


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        "Hello <script>alert(1)</script> world",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](  javascript:alert(1)  )",
        "[click](vbscript:msgbox(1))",
        "![x](javascript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src='https://evil.test'></iframe>",
        '<div onclick="alert(1)">x</div>',
        "[x](java\nscript:alert(1))",
        "<svg><script>alert(1)</script></svg>",
    ],
)
def test_no_script_survives(markdown):
    assert_harmless(render_markdown(markdown))


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script><p>ok</p>",
        '<a href="javascript:alert(1)">x</a>',
        '<a href=" JAVASCRIPT:alert(1)">x</a>',
        '<img src="x" onerror="alert(1)">',
        '<img src="data:image/svg+xml;base64,PHN2Zz4=">',
        '<p onclick="alert(1)" style="color:red">x</p>',
        "<iframe src='https://evil.test'></iframe><object data='x'></object><form action='/x'><input></form>",
        "<svg><script>alert(1)</script></svg><math><mi>x</mi></math>",
        '<td style="position:fixed;text-align:right">x</td>',
        "<style>body{display:none}</style>",
    ],
)
def test_sanitizer_cleans_html_even_if_the_parser_let_it_through(html):
    cleaned = sanitize(html)
    assert_harmless(cleaned)
    assert "position" not in cleaned and "display:none" not in cleaned and "color:red" not in cleaned


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.tags.append((tag, dict(attrs)))


def assert_harmless(html: str) -> None:
    """No real element that runs script, whatever text the page shows (escaped markup is just text)."""
    parser = _Tags()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert tag not in {"script", "iframe", "object", "embed", "svg", "math", "style", "form", "input"}, (
            html
        )
        assert not [name for name in attrs if name.startswith("on")], html
        for name in ("href", "src"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("javascript:", "vbscript:", "data:")), html


def test_raw_html_is_shown_as_text_not_markup():
    html = render_markdown("Type <b>bold</b> in the box")
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "<b>" not in html


def test_ordinary_markdown_renders():
    html = render_markdown(
        "## Steps\n\n1. Open **Settings**\n2. Click `Export`\n\n"
        "| a | b |\n| --- | --: |\n| 1 | 2 |\n\n> Tip\n\n[docs](https://example.test/x) ~~old~~\n\n![shot](/media/a.png)"
    )
    assert "<h2>Steps</h2>" in html and "<ol>" in html and "<strong>Settings</strong>" in html
    assert "<code>Export</code>" in html and "<table>" in html and "<blockquote>" in html
    assert 'href="https://example.test/x"' in html and 'rel="noopener noreferrer"' in html
    assert "<del>old</del>" in html or "<s>old</s>" in html
    assert '<img src="/media/a.png" alt="shot">' in html
    assert 'style="text-align:right"' in html.replace(": ", ":")


def test_style_other_than_alignment_is_dropped():
    html = render_markdown("| a |\n| :-: |\n| 1 |")
    assert "center" in html


def test_plain_text_and_description():
    body = "Click **Forgot password?** & wait.\n\n" + "word " * 100
    assert plain_text("Click **here** & <b>x</b>").startswith("Click here & <b>x</b>")
    short = description(body, limit=60)
    assert short.startswith("Click Forgot password? & wait.") and short.endswith("…") and len(short) <= 60
