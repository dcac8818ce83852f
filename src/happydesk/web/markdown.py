"""Markdown to safe HTML, shared by every page and mail that renders it (the knowledge base, the community,
an agent's formatted reply): markdown-it-py renders, nh3 sanitizes what comes out.

markdown-it already escapes raw HTML (html=False) and refuses javascript:/vbscript:/data: links; nh3 runs
anyway, so a parser bug or a future option change can never put script into a page or a mail.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

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


@lru_cache(maxsize=2)
def _parser(remote_images: bool = True) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])
    if not remote_images:
        default_image = md.renderer.rules["image"]

        def image_or_link(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
            src = tokens[idx].attrGet("src") or ""
            if not _is_remote(str(src)):
                return str(default_image(tokens, idx, options, env))
            alt = self.renderInlineAsText(tokens[idx].children or [], options, env) or "image"
            host = urlsplit(str(src)).hostname or ""
            return f'<a href="{html.escape(str(src))}">Image: {html.escape(alt)} ({html.escape(host)})</a>'

        md.add_render_rule("image", image_or_link)
    return md


def _is_remote(src: str) -> bool:
    """An image another server would serve (and so learn who looked, and when)."""
    return bool(urlsplit(src).netloc) or src.startswith("//")


def render_markdown(text: str, *, remote_images: bool = True) -> str:
    """Sanitized HTML for a Markdown body, ready to mark safe in a template. `remote_images=False` (what
    strangers write: the community) turns images on other servers into links a reader may follow, so a
    post cannot track who reads it; images on this site still show."""
    return sanitize(_parser(remote_images).render(text or ""))


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
