"""The one customer-facing search: knowledge base, FAQ, forum, ideas and announcements ranked together.

Ranking: the engine's relevance with titles weighted ten to one over bodies (SQLite bm25 / PostgreSQL
ts_rank_cd with weights A and B). Results within 10% of each other's relevance count as a tie and are
ordered by helpfulness, then by recency. The last word is a prefix (suggestions as you type).
Synonyms (admin-edited `SynonymGroup` rows) expand the query: a word or phrase of a group becomes an OR
of the whole group, on both engines. When nothing matches, each unknown word is corrected to the closest
word in the index or a title (typo tolerance that works the same on both engines) and the search runs
once more; the correction is reported. When still nothing matches, any of the words will do.
"""

from __future__ import annotations

import difflib
import time
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from happydesk.search.engines import Clause, engine, terms
from happydesk.search.models import ContentDocument, SynonymGroup

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
    # The engines' words are stems ("notif"); titles add whole words ("notifications") to correct to.
    titles = " ".join(ContentDocument.objects.values_list("title", flat=True)[:5000])
    words = {w for w in [*engine().content_vocabulary(), *terms_all(titles)] if w.isalpha() and len(w) > 2}
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


def terms_all(text: str) -> list[str]:
    """Every word of a text, lower-cased (terms() stops at a query's length)."""
    from happydesk.search.engines import WORD

    return [t.lower() for t in WORD.findall(text)]


def _key(word: str) -> str:
    """Enough stemming to match a synonym: "invites" finds the group that says "invite"."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _phrase(term: str) -> tuple[str, ...]:
    words = terms(term)
    return tuple(w for w in words if w not in STOP_WORDS) or tuple(words)


def synonym_groups() -> list[list[tuple[str, ...]]]:
    """Every synonym group as its phrases (each a tuple of meaningful words); one small query."""
    groups = []
    for raw in SynonymGroup.objects.values_list("terms", flat=True):
        phrases = list(dict.fromkeys(p for p in (_phrase(t) for t in raw.split(",")) if p))
        if len(phrases) > 1:
            groups.append(phrases)
    return groups


def expand(words: list[str], groups: list[list[tuple[str, ...]]], *, typing: bool = True) -> list[Clause]:
    """The query's clauses: each run of words that is a phrase of a synonym group becomes one clause
    with the whole group as alternatives (longest phrases first); every other word is a clause of its
    own. `typing`: the last word may be unfinished, so it stays a prefix."""
    if not words:
        return []
    keys = [_key(w) for w in words]
    used = [False] * len(words)
    clauses: list[Clause] = []
    candidates = sorted(((phrase, group) for group in groups for phrase in group), key=lambda pg: -len(pg[0]))
    for phrase, group in candidates:
        wanted = [_key(w) for w in phrase]
        found: list[int] = []
        for k in wanted:
            i = next((i for i, key in enumerate(keys) if key == k and not used[i] and i not in found), None)
            if i is None:
                break
            found.append(i)
        if len(found) != len(wanted):
            continue
        for i in found:
            used[i] = True
        # Other words of the same group are already meant by it ("add a new user": "new" too).
        group_keys = {_key(w) for p in group for w in p}
        for i, key in enumerate(keys):
            if not used[i] and key in group_keys:
                used[i] = True
                found.append(i)
        typed = tuple(words[i] for i in sorted(found))
        others = [p for p in group if p != phrase and p != typed]
        last_typed = typing and len(words) - 1 in found
        clauses.append(Clause((typed, *others), prefix=last_typed))
    rest = [(i, w) for i, w in enumerate(words) if not used[i]]
    for i, w in rest:
        clauses.append(Clause(((w,),), prefix=typing and i == len(words) - 1))
    return clauses


def _ranked(
    clauses: list[Clause], *, internal: bool, kinds: list[str] | None, limit: int, any_word: bool = False
) -> list[ContentResult]:
    eng = engine()
    hits = eng.content_search(clauses, internal=internal, limit=max(limit * 4, 40), any_word=any_word)
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
    snippets = eng.content_snippets(clauses, [d.pk for d, _ in rows])
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
    groups = synonym_groups()
    results = _ranked(expand(words, groups), internal=internal, kinds=kinds, limit=limit)
    corrected = ""
    fixed = words
    if not results:
        fixed = corrected_words(words)
        if fixed != words:
            results = _ranked(expand(fixed, groups), internal=internal, kinds=kinds, limit=limit)
            corrected = " ".join(fixed) if results else ""
    if len(results) < limit:
        # A sentence ("I can't reset my password") rarely has every word in one article: after the
        # content with all the words comes content with any of them, ranked by how many and how well.
        seen = {(r.kind, r.object_id) for r in results}
        more = _ranked(expand(fixed, groups), internal=internal, kinds=kinds, limit=limit, any_word=True)
        results += [r for r in more if (r.kind, r.object_id) not in seen][: limit - len(results)]
    return ContentSearch(results, corrected=corrected)


def content_words(q: str) -> list[str]:
    """The words of a query that carry meaning: the small words of a sentence are dropped (unless the
    query is nothing but small words, or the last one is still being typed)."""
    words = terms(q)
    last = len(words) - 1
    kept = [w for i, w in enumerate(words) if w not in STOP_WORDS or (i == last and not q.endswith(" "))]
    return kept or words
