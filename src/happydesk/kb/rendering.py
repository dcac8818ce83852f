"""Markdown to safe HTML for articles: markdown-it-py renders, nh3 sanitizes what comes out.

markdown-it already escapes raw HTML (html=False) and refuses javascript:/vbscript:/data: links; nh3 runs
anyway, so a parser bug or a future option change can never put script into a help page.
"""

from __future__ import annotations

import html
import re

import nh3

from happydesk.web.markdown import _is_remote, render_markdown, sanitize

__all__ = ["_is_remote", "description", "plain_text", "render_markdown", "sanitize"]


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
