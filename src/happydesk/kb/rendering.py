"""Markdown to safe HTML for articles: markdown-it-py renders, nh3 sanitizes what comes out.

markdown-it already escapes raw HTML (html=False) and refuses javascript:/vbscript:/data: links; nh3 runs
anyway, so a parser bug or a future option change can never put script into a help page.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}
_SCHEMES = {"http", "https", "mailto"}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])


def render_markdown(text: str) -> str:
    """Sanitized HTML for a Markdown body, ready to mark safe in a template."""
    return sanitize(_parser().render(text or ""))


def sanitize(html_text: str) -> str:
    """Keep only the tags, attributes and URL schemes an article needs (the second line of defence)."""
    return nh3.clean(
        html_text,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="noopener noreferrer",
        filter_style_properties={"text-align"},  # table column alignment is the only style kept
    )


def plain_text(text: str) -> str:
    """The Markdown body as one line of readable text (meta descriptions, search snippets)."""
    stripped = nh3.clean(render_markdown(text), tags=set())
    return re.sub(r"\s+", " ", html.unescape(stripped)).strip()


def description(text: str, *, limit: int = 160) -> str:
    """A meta description: the first sentences of the body, cut at a word boundary."""
    words = plain_text(text)
    if len(words) <= limit:
        return words
    return words[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:.") + "…"
