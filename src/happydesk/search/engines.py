"""The search interface and its two engines. Callers use `engine()`; nothing else knows which one runs.

Both rank subject matches above body matches, treat the last word as a prefix (search as you type),
and return a highlighted snippet. An OpenSearch engine can stand behind the same interface later.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from django.db import connection

WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 12


@dataclass(frozen=True)
class Hit:
    conversation_id: int
    rank: float


def terms(query: str) -> list[str]:
    """Words of the query, lower-cased; punctuation and operators are not passed to the engine."""
    return [t.lower() for t in WORD.findall(query)][:MAX_TERMS]


@dataclass(frozen=True)
class Clause:
    """One part of a content query: any of its alternatives will do (a word and its synonyms), each
    alternative a run of words that must all be there. `prefix`: the first alternative's last word is
    still being typed, so it matches as a prefix."""

    alternatives: tuple[tuple[str, ...], ...]
    prefix: bool = False


def boolean_query(
    clauses: list[Clause], *, any_word: bool, word: str, prefix: str, both: str, either: str
) -> str:
    """The clauses as one engine's boolean query: each clause is its alternatives (a synonym group's
    phrases, words within a phrase all required) joined by `either`; the clauses are joined by `both`, or
    by `either` for `any_word`. `word` formats one word and `prefix` marks the first alternative's last
    word of a clause still being typed (FTS5: `"w"*`, tsquery: `w:*`)."""

    def alternative(words: tuple[str, ...], is_prefix: bool) -> str:
        parts = [word.format(w) for w in words]
        if is_prefix:
            parts[-1] += prefix
        return parts[0] if len(parts) == 1 else "(" + both.join(parts) + ")"

    out = []
    for clause in clauses:
        alts = [alternative(a, clause.prefix and i == 0) for i, a in enumerate(clause.alternatives)]
        out.append(alts[0] if len(alts) == 1 else "(" + either.join(alts) + ")")
    return (either if any_word else both).join(out)


class SqliteFts5:
    """FTS5 with bm25 (subject weighted 10 to 1 over the body). Ranking reads only the index; snippets
    are made afterwards for the rows a page shows, not for every match."""

    @staticmethod
    def _match(words: list[str]) -> str:
        return " ".join(f'"{w}"' for w in words[:-1]) + (" " if len(words) > 1 else "") + f'"{words[-1]}"*'

    def search(self, query: str, *, limit: int) -> list[Hit]:
        words = terms(query)
        if not words:
            return []
        sql = (
            "SELECT rowid, bm25(search_fts, 10.0, 1.0) AS rank FROM search_fts "
            "WHERE search_fts MATCH %s ORDER BY rank LIMIT %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [self._match(words), limit])
            return [Hit(int(row[0]), -float(row[1])) for row in cursor.fetchall()]

    def snippets(self, query: str, ids: list[int]) -> dict[int, str]:
        words = terms(query)
        if not words or not ids:
            return {}
        sql = (
            "SELECT rowid, snippet(search_fts, 1, '<mark>', '</mark>', '…', 14) FROM search_fts "
            "WHERE search_fts MATCH %s AND rowid IN (SELECT value FROM json_each(%s))"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [self._match(words), json.dumps([int(i) for i in ids])])
            return {int(row[0]): row[1] or "" for row in cursor.fetchall()}

    @staticmethod
    def _content_match(clauses: list[Clause], *, any_word: bool) -> str:
        return boolean_query(clauses, any_word=any_word, word='"{}"', prefix="*", both=" AND ", either=" OR ")

    def content_search(
        self, clauses: list[Clause], *, internal: bool, limit: int, any_word: bool = False
    ) -> list[tuple[int, float]]:
        # any_word: bm25 still ranks documents with more of the words first
        match = self._content_match(clauses, any_word=any_word)
        sql = (
            "SELECT d.id, bm25(content_fts, 10.0, 1.0) AS rank FROM content_fts "
            "JOIN search_contentdocument d ON d.id = content_fts.rowid "
            "WHERE content_fts MATCH %s AND (%s OR NOT d.internal) ORDER BY rank LIMIT %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [match, internal, limit])
            return [(int(row[0]), -float(row[1])) for row in cursor.fetchall()]

    def content_snippets(self, clauses: list[Clause], ids: list[int]) -> dict[int, str]:
        if not clauses or not ids:
            return {}
        sql = (
            "SELECT rowid, snippet(content_fts, 1, '<mark>', '</mark>', '…', 18) FROM content_fts "
            "WHERE content_fts MATCH %s AND rowid IN (SELECT value FROM json_each(%s))"
        )
        match = self._content_match(clauses, any_word=True)  # highlight whichever words matched
        with connection.cursor() as cursor:
            cursor.execute(sql, [match, json.dumps([int(i) for i in ids])])
            return {int(row[0]): row[1] or "" for row in cursor.fetchall()}

    def content_vocabulary(self) -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT term FROM content_vocab")
            return [row[0] for row in cursor.fetchall()]


class PostgresFullText:
    """tsvector + GIN with ts_rank_cd (subject weighted A); ts_headline only for the rows shown."""

    @staticmethod
    def _tsquery(words: list[str]) -> str:
        return " & ".join(words[:-1] + [f"{words[-1]}:*"])

    def search(self, query: str, *, limit: int) -> list[Hit]:
        words = terms(query)
        if not words:
            return []
        sql = (
            "SELECT d.conversation_id, ts_rank_cd(d.vector, q) AS rank "
            "FROM search_conversationdocument d, to_tsquery('english', %s) q "
            "WHERE d.vector @@ q ORDER BY rank DESC, d.conversation_id DESC LIMIT %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [self._tsquery(words), limit])
            return [Hit(int(row[0]), float(row[1])) for row in cursor.fetchall()]

    def snippets(self, query: str, ids: list[int]) -> dict[int, str]:
        words = terms(query)
        if not words or not ids:
            return {}
        sql = (
            "SELECT d.conversation_id, "
            "ts_headline('english', d.body, q, 'StartSel=<mark>,StopSel=</mark>,MaxWords=24,MinWords=10') "
            "FROM search_conversationdocument d, to_tsquery('english', %s) q "
            "WHERE d.conversation_id = ANY(%s)"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [self._tsquery(words), list(ids)])
            return {int(row[0]): row[1] or "" for row in cursor.fetchall()}

    @staticmethod
    def _content_tsquery(clauses: list[Clause], *, any_word: bool) -> str:
        return boolean_query(clauses, any_word=any_word, word="{}", prefix=":*", both=" & ", either=" | ")

    def content_search(
        self, clauses: list[Clause], *, internal: bool, limit: int, any_word: bool = False
    ) -> list[tuple[int, float]]:
        # any_word: ts_rank_cd still ranks documents with more of the words first
        tsquery = self._content_tsquery(clauses, any_word=any_word)
        sql = (
            "SELECT d.id, ts_rank_cd(d.vector, q) AS rank "
            "FROM search_contentdocument d, to_tsquery('english', %s) q "
            "WHERE d.vector @@ q AND (%s OR NOT d.internal) ORDER BY rank DESC, d.id DESC LIMIT %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [tsquery, internal, limit])
            return [(int(row[0]), float(row[1])) for row in cursor.fetchall()]

    def content_snippets(self, clauses: list[Clause], ids: list[int]) -> dict[int, str]:
        if not clauses or not ids:
            return {}
        sql = (
            "SELECT d.id, "
            "ts_headline('english', d.body, q, 'StartSel=<mark>,StopSel=</mark>,MaxWords=28,MinWords=12') "
            "FROM search_contentdocument d, to_tsquery('english', %s) q WHERE d.id = ANY(%s)"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [self._content_tsquery(clauses, any_word=True), list(ids)])
            return {int(row[0]): row[1] or "" for row in cursor.fetchall()}

    def content_vocabulary(self) -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT word FROM ts_stat('SELECT vector FROM search_contentdocument')")
            return [row[0] for row in cursor.fetchall()]


def engine() -> SqliteFts5 | PostgresFullText:
    return PostgresFullText() if connection.vendor == "postgresql" else SqliteFts5()
