"""HTML helpers: sanitize mail HTML with nh3 and derive readable plain text from it.

The text converter is stdlib `html.parser` based: it keeps paragraphs, line breaks, list items and link
targets, renders <blockquote> as "> " quoting (so quote stripping works on HTML-only mail) and drops
style/script/head content.
"""

from __future__ import annotations

import html as html_lib
import re
from html.parser import HTMLParser
from urllib.parse import unquote

import nh3

__all__ = [
    "cid_references",
    "html_complexity_problem",
    "html_to_text",
    "sanitize_html",
    "strip_tags",
    "text_to_html",
]

MAX_HTML_DEPTH = 3000
MAX_TAG_CHARS = 10_000

_TAGS = set(nh3.ALLOWED_TAGS) | {"font", "center", "tfoot", "caption", "u", "s"}
_ATTRIBUTES: dict[str, set[str]] = {k: set(v) for k, v in nh3.ALLOWED_ATTRIBUTES.items()}
for _tag, _extra in {
    "a": {"title", "name"},
    "img": {"title", "border"},
    "font": {"color", "face", "size"},
    "table": {"border", "cellpadding", "cellspacing", "width", "bgcolor"},
    "td": {"valign", "width", "height", "bgcolor", "nowrap"},
    "th": {"valign", "width", "height", "bgcolor", "nowrap"},
    "tr": {"valign", "bgcolor"},
    "p": {"align"},
    "div": {"align"},
    "ol": {"type"},
    "ul": {"type"},
    "*": {"style", "dir", "lang", "title", "class"},
}.items():
    _ATTRIBUTES.setdefault(_tag, set()).update(_extra)

# CSS properties that cannot load anything remote (no url()-taking properties like background/content).
_STYLE_PROPERTIES = {
    "color", "background-color", "font", "font-family", "font-size", "font-style", "font-weight",
    "font-variant", "line-height", "letter-spacing", "text-align", "text-decoration", "text-indent",
    "text-transform", "white-space", "word-break", "word-wrap", "overflow-wrap", "vertical-align",
    "direction", "margin", "margin-top", "margin-right", "margin-bottom", "margin-left", "padding",
    "padding-top", "padding-right", "padding-bottom", "padding-left", "border", "border-top",
    "border-right", "border-bottom", "border-left", "border-color", "border-style", "border-width",
    "border-collapse", "border-spacing", "border-radius", "width", "max-width", "min-width", "height",
    "max-height", "min-height", "display", "list-style-type", "table-layout",
}  # fmt: skip
_URL_SCHEMES = {"http", "https", "mailto", "tel", "cid"}
_CID_RE = re.compile(r"""cid:([^"'\s<>)]+)""", re.IGNORECASE)


_KEEP_CLASSES = {
    "gmail_quote", "gmail_attr", "gmail_signature", "gmail_extra", "moz-cite-prefix", "moz-signature",
    "x_gmail_quote", "yahoo_quoted", "protonmail_quote", "WordSection1", "MsoNormal",
}  # fmt: skip


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    """Keep `style` only if free of url()/expression(); keep only quote-marker classes."""
    if attr == "class":
        kept = [c for c in value.split() if c in _KEEP_CLASSES]
        return " ".join(kept) or None
    if attr == "style":
        lowered = value.lower().replace("\\", "")
        if "url(" in lowered or "expression(" in lowered or "@import" in lowered:
            return None
    return value


_TEXT_RUN_RE = re.compile(r"(<[^<>]*>)|([^<]{2000,})")
_RUN_CHUNK = 1000


def _split_text_runs(html: str) -> str:
    """Insert <wbr> into very long text runs between tags.

    ammonia/html5ever is quadratic in the number of character references (and nbsp) inside one text
    node; splitting long runs keeps sanitizing linear. Splits happen at whitespace where possible and
    never inside an entity, so the rendered text is unchanged.
    """

    def split(m: re.Match[str]) -> str:
        if m.group(1):
            return m.group(1)
        run = m.group(2)
        pieces: list[str] = []
        start = 0
        while len(run) - start > _RUN_CHUNK:
            cut = start + _RUN_CHUNK
            space = run.find(" ", cut, cut + 100)
            if space != -1:
                cut = space
            else:
                amp = run.rfind("&", cut - 12, cut)
                if amp > start and ";" not in run[amp:cut]:
                    cut = amp
            pieces.append(run[start:cut])
            start = cut
        pieces.append(run[start:])
        return "<wbr>".join(pieces)

    return _TEXT_RUN_RE.sub(split, html)


def sanitize_html(html: str) -> str:
    """Return `html` sanitized: no scripts, handlers, forms, relative URLs or remote CSS.

    Absolute http(s) and cid: image sources are kept (cid: so inline images can be rewritten later);
    links get rel="noopener noreferrer"; only quote-marker classes survive (no clashes with app CSS).
    """
    return nh3.clean(
        _split_text_runs(html),
        tags=_TAGS,
        clean_content_tags={
            "script",
            "style",
            "title",
            "head",
            "noscript",
            "template",
            "xmp",
            "iframe",
            "object",
            "embed",
            "svg",
            "math",
        },
        attributes=_ATTRIBUTES,
        attribute_filter=_attribute_filter,
        url_schemes=_URL_SCHEMES,
        url_relative="deny",
        link_rel="noopener noreferrer",
        strip_comments=True,
        filter_style_properties=_STYLE_PROPERTIES,
    )


_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:-]{0,40})([^<>]*)>")
# Tags that never build depth: void elements and those the HTML parser closes implicitly.
_FLAT_TAGS = {
    "br", "hr", "img", "meta", "link", "input", "area", "base", "col", "wbr", "source", "param", "track",
    "embed", "p", "li", "dt", "dd", "td", "th", "tr", "option", "o:p",
}  # fmt: skip


def html_complexity_problem(html: str) -> str | None:
    """Why `html` is too pathological for the tree-building sanitizer (deep nesting, huge tags), or None.

    html5ever is quadratic in nesting depth and attribute count; one linear regex pass catches both.
    """
    depth = 0
    for m in _TAG_RE.finditer(html):
        closing, name, attrs = m.groups()
        if len(attrs) > MAX_TAG_CHARS:
            return f"an HTML tag has more than {MAX_TAG_CHARS:,} characters of attributes"
        if name.lower() in _FLAT_TAGS or attrs.endswith("/"):
            continue
        if closing:
            depth = max(0, depth - 1)
        else:
            depth += 1
            if depth > MAX_HTML_DEPTH:
                return f"HTML nested deeper than {MAX_HTML_DEPTH:,} elements"
    return None


def text_to_html(text: str) -> str:
    """Plain text as minimal safe HTML (used when the original HTML is too pathological to sanitize)."""
    return "<p>" + html_lib.escape(text).replace("\n", "<br>") + "</p>"


def cid_references(html: str) -> set[str]:
    """Content-IDs referenced as `cid:` URLs in raw HTML (url-decoded, without angle brackets)."""
    return {unquote(m.group(1)).strip("<>").strip() for m in _CID_RE.finditer(html)}


_SKIP = {"script", "style", "head", "title", "noscript", "template", "xml", "svg", "object", "iframe"}
_BLOCK = {
    "div",
    "tr",
    "dt",
    "dd",
    "address",
    "article",
    "section",
    "header",
    "footer",
    "center",
    "form",
    "fieldset",
    "nav",
    "aside",
    "main",
    "figure",
    "caption",
    "li",
}
_PARAGRAPH = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "dl", "pre", "hr"}
_VOID = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "wbr", "source"}
_WS_RE = re.compile(r"[ \t\r\n\f\v\u00a0\u200b]+")


class _TextConverter(HTMLParser):
    """Event-driven HTML to text converter producing a list of logical lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.cur: list[str] = []
        self.skip_depth = 0
        self.quote_depth = 0
        self.pre_depth = 0
        self.list_stack: list[list[int]] = []
        self.links: list[tuple[str, int]] = []

    # -- line handling -------------------------------------------------------------------------
    def _flush(self) -> None:
        text = "".join(self.cur)
        self.cur = []
        text = _WS_RE.sub(" ", text).strip() if self.pre_depth == 0 else text.rstrip()
        if text:
            self.lines.append("> " * self.quote_depth + text)

    def _blank(self) -> None:
        self._flush()
        if self.lines and self.lines[-1].strip("> ") != "":
            self.lines.append(">" * self.quote_depth if self.quote_depth else "")

    # -- parser events ------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.skip_depth = 0  # an unclosed <head>/<title> must not swallow the body
            return
        if tag in _SKIP:
            if tag not in _VOID:
                self.skip_depth += 1
            return
        if self.skip_depth:
            return
        if tag == "br":
            if "".join(self.cur).strip():
                self._flush()
            else:
                self._blank()
        elif tag == "blockquote":
            self._blank()
            self.quote_depth += 1
        elif tag in _PARAGRAPH:
            self._blank()
            if tag == "pre":
                self.pre_depth += 1
            elif tag in ("ul", "ol"):
                self.list_stack.append([0 if tag == "ol" else -1])
            elif tag == "hr":
                self.lines.append("> " * self.quote_depth + "-" * 20)
        elif tag in _BLOCK:
            self._flush()
            if tag == "li":
                if self.list_stack and self.list_stack[-1][0] >= 0:
                    self.list_stack[-1][0] += 1
                    self.cur.append(f"{self.list_stack[-1][0]}. ")
                else:
                    self.cur.append("- ")
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.links.append((href.strip(), len(self.cur)))
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt:
                self.cur.append(f"[{alt}]")
        elif tag in ("td", "th"):
            self.cur.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            return
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            if tag not in _VOID and self.skip_depth:
                self.skip_depth -= 1
            return
        if self.skip_depth:
            return
        if tag == "blockquote":
            self._flush()
            self.quote_depth = max(0, self.quote_depth - 1)
            self._blank()
        elif tag in _PARAGRAPH:
            if tag == "pre":
                self._flush()
                self.pre_depth = max(0, self.pre_depth - 1)
            elif tag in ("ul", "ol") and self.list_stack:
                self.list_stack.pop()
            self._blank()
        elif tag in _BLOCK:
            self._flush()
        elif tag == "a" and self.links:
            href, _start = self.links.pop()
            label = "".join(self.cur[_start:]).strip()
            target = href[7:] if href.lower().startswith("mailto:") else href
            if (
                href
                and href.lower().startswith(("http:", "https:", "mailto:"))
                and target.rstrip("/") not in label
            ):
                self.cur.append(f" ({href})" if label else href)

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.pre_depth:
            parts = data.split("\n")
            for i, part in enumerate(parts):
                if i:
                    self._flush()
                self.cur.append(part)
        else:
            self.cur.append(data)

    def finish(self) -> str:
        self.close()
        self._flush()
        while self.lines and not self.lines[-1].strip("> "):
            self.lines.pop()
        while self.lines and not self.lines[0].strip("> "):
            self.lines.pop(0)
        return "\n".join(self.lines)


def html_to_text(html: str) -> str:
    """Convert mail HTML into readable plain text; never raises."""
    converter = _TextConverter()
    try:
        converter.feed(html)
        return converter.finish()
    except Exception:  # html.parser is lenient, but never let a converter bug kill a parse
        return strip_tags(html)


_ANY_TAG_RE = re.compile(r"<[^<>]*>")
_SKIP_BLOCK_RE = re.compile(
    r"<(script|style|head|title)\b[^<>]*>[^<]*(?:<(?!/\1)[^<]*)*</\1\s*>", re.IGNORECASE
)
_BREAK_TAG_RE = re.compile(r"<(br|/p|/div|/li|/tr|/h[1-6]|/blockquote|p|div|li|tr)\b[^<>]*>", re.IGNORECASE)


def strip_tags(html: str) -> str:
    """Crude linear-time HTML to text for pathological HTML the real converter must not see."""
    text = _SKIP_BLOCK_RE.sub(" ", html)
    text = _BREAK_TAG_RE.sub("\n", text)
    text = html_lib.unescape(_ANY_TAG_RE.sub(" ", text))
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())
