"""The one customer-facing search: knowledge base, FAQ, forum, ideas and announcements ranked together.

Ranking: the engine's relevance with titles weighted ten to one over bodies (SQLite bm25 / PostgreSQL
ts_rank_cd with weights A and B). Results within 10% of each other's relevance count as a tie and are
ordered by helpfulness, then by recency. The last word is a prefix (suggestions as you type). When
nothing matches, each unknown word is corrected to the closest word in the index (typo tolerance that
works the same on both engines) and the search runs once more; the correction is reported.
"""

from __future__ import annotations

import difflib
import time
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from happydesk.search.engines import engine, terms
from happydesk.search.models import ContentDocument

VOCABULARY_SECONDS = 60
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "cannot",
        "could",
        "do",
        "does",
        "did",
        "for",
        "from",
        "get",
        "got",
        "have",
        "has",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "please",
        "so",
        "t",
        "that",
        "the",
        "their",
        "them",
        "there",
        "this",
        "to",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "hi",
        "hello",
        "thanks",
        "thank",
        "help",
    ]
)
_vocabulary: dict[str, tuple[tuple, float, set[str]]] = {}


@dataclass(frozen=True)
class ContentResult:
    kind: str
    kind_label: str
    object_id: int
    title: str
    url: str
    snippet: SafeString
    internal: bool
    published_at: datetime | None
    helpful: float

    def as_json(self) -> dict:
        return {
            "kind": self.kind,
            "kind_label": self.kind_label,
            "title": self.title,
            "url": self.url,
            "snippet": str(self.snippet),
            "published_at": self.published_at.isoformat() if self.published_at else None,
        }


@dataclass(frozen=True)
class ContentSearch:
    results: list[ContentResult]
    corrected: str = ""  # the query actually searched, when words were corrected


def highlight(raw: str) -> SafeString:
    """An engine snippet as safe HTML: everything escaped except our own <mark> tags."""
    safe = escape(raw).replace("&lt;mark&gt;", "<mark>").replace("&lt;/mark&gt;", "</mark>")
    return mark_safe(safe)  # noqa: S308 - escaped above; only our own <mark> tags are restored


def _vocabulary_words() -> set[str]:
    """The index's words, cached for a minute and rebuilt at once when documents are added or removed."""
    from django.db import connection
    from django.db.models import Count, Max

    shape = ContentDocument.objects.aggregate(n=Count("id"), last=Max("id"))
    key = (connection.alias, shape["n"], shape["last"])
    cached = _vocabulary.get(connection.alias)
    if cached and cached[0] == key and time.monotonic() - cached[1] < VOCABULARY_SECONDS:
        return cached[2]
    words = {w for w in engine().content_vocabulary() if w.isalpha() and len(w) > 2}
    _vocabulary[connection.alias] = (key, time.monotonic(), words)
    return words


def corrected_words(words: list[str]) -> list[str]:
    """Each word the index does not know, replaced by its closest indexed word (if one is close)."""
    vocabulary = _vocabulary_words()
    if not vocabulary:
        return words
    out = []
    for i, word in enumerate(words):
        last = i == len(words) - 1
        known = word in vocabulary or (last and any(v.startswith(word) for v in vocabulary))
        if known or len(word) < 4:
            out.append(word)
            continue
        close = difflib.get_close_matches(word, vocabulary, n=1, cutoff=0.75)
        out.append(close[0] if close else word)
    return out


def _ranked(
    words: list[str], *, internal: bool, kinds: list[str] | None, limit: int, any_word: bool = False
) -> list[ContentResult]:
    eng = engine()
    hits = eng.content_search(words, internal=internal, limit=max(limit * 4, 40), any_word=any_word)
    if not hits:
        return []
    docs = ContentDocument.objects.in_bulk([doc_id for doc_id, _ in hits])
    now = timezone.now()  # an announcement dated in the future is found from its date on
    rows = [
        (docs[doc_id], rank)
        for doc_id, rank in hits
        if doc_id in docs and not (docs[doc_id].published_at and docs[doc_id].published_at > now)
    ]
    if kinds:
        rows = [(d, r) for d, r in rows if d.kind in kinds]
    if not rows:
        return []
    top = max(r for _, r in rows) or 1.0

    def key(item: tuple[ContentDocument, float]) -> tuple:
        doc, rank = item
        published = doc.published_at.timestamp() if doc.published_at else 0.0
        return (-round(rank / top, 1), -doc.helpful, -published)

    rows = sorted(rows, key=key)[:limit]
    snippets = eng.content_snippets(words, [d.pk for d, _ in rows])
    return [
        ContentResult(
            kind=d.kind,
            kind_label=ContentDocument.Kind(d.kind).label,
            object_id=d.object_id,
            title=d.title,
            url=d.url,
            snippet=highlight(snippets.get(d.pk) or d.body[:200]),
            internal=d.internal,
            published_at=d.published_at,
            helpful=d.helpful,
        )
        for d, _ in rows
    ]


def content_search(
    q: str, *, internal: bool = False, kinds: list[str] | None = None, limit: int = 10
) -> ContentSearch:
    """Public content matching `q`, best first; `internal=True` (agents) includes internal articles."""
    words = content_words(q)
    if not words:
        return ContentSearch([])
    results = _ranked(words, internal=internal, kinds=kinds, limit=limit)
    if results:
        return ContentSearch(results)
    fixed = corrected_words(words)
    if fixed != words:
        results = _ranked(fixed, internal=internal, kinds=kinds, limit=limit)
        if results:
            return ContentSearch(results, corrected=" ".join(fixed))
    # A sentence ("I can't reset my password") rarely has every word in one article: any word will do,
    # ranked by how many and how well they match.
    return ContentSearch(_ranked(fixed, internal=internal, kinds=kinds, limit=limit, any_word=True))


def content_words(q: str) -> list[str]:
    """The words of a query that carry meaning: the small words of a sentence are dropped (unless the
    query is nothing but small words, or the last one is still being typed)."""
    words = terms(q)
    last = len(words) - 1
    kept = [w for i, w in enumerate(words) if w not in STOP_WORDS or (i == last and not q.endswith(" "))]
    return kept or words
