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

    def content_search(
        self, words: list[str], *, internal: bool, limit: int, any_word: bool = False
    ) -> list[tuple[int, float]]:
        match = self._match(words)
        if any_word:  # bm25 still ranks documents with more of the words first
            match = (
                " OR ".join(f'"{w}"' for w in words[:-1])
                + (" OR " if len(words) > 1 else "")
                + f'"{words[-1]}"*'
            )
        sql = (
            "SELECT d.id, bm25(content_fts, 10.0, 1.0) AS rank FROM content_fts "
            "JOIN search_contentdocument d ON d.id = content_fts.rowid "
            "WHERE content_fts MATCH %s AND (%s OR NOT d.internal) ORDER BY rank LIMIT %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [match, internal, limit])
            return [(int(row[0]), -float(row[1])) for row in cursor.fetchall()]

    def content_snippets(self, words: list[str], ids: list[int]) -> dict[int, str]:
        if not words or not ids:
            return {}
        sql = (
            "SELECT rowid, snippet(content_fts, 1, '<mark>', '</mark>', '…', 18) FROM content_fts "
            "WHERE content_fts MATCH %s AND rowid IN (SELECT value FROM json_each(%s))"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [self._match(words), json.dumps([int(i) for i in ids])])
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

    def content_search(
        self, words: list[str], *, internal: bool, limit: int, any_word: bool = False
    ) -> list[tuple[int, float]]:
        tsquery = self._tsquery(words)
        if any_word:  # ts_rank_cd still ranks documents with more of the words first
            tsquery = " | ".join(words[:-1] + [f"{words[-1]}:*"])
        sql = (
            "SELECT d.id, ts_rank_cd(d.vector, q) AS rank "
            "FROM search_contentdocument d, to_tsquery('english', %s) q "
            "WHERE d.vector @@ q AND (%s OR NOT d.internal) ORDER BY rank DESC, d.id DESC LIMIT %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [tsquery, internal, limit])
            return [(int(row[0]), float(row[1])) for row in cursor.fetchall()]

    def content_snippets(self, words: list[str], ids: list[int]) -> dict[int, str]:
        if not words or not ids:
            return {}
        sql = (
            "SELECT d.id, "
            "ts_headline('english', d.body, q, 'StartSel=<mark>,StopSel=</mark>,MaxWords=28,MinWords=12') "
            "FROM search_contentdocument d, to_tsquery('english', %s) q WHERE d.id = ANY(%s)"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [self._tsquery(words), list(ids)])
            return {int(row[0]): row[1] or "" for row in cursor.fetchall()}

    def content_vocabulary(self) -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT word FROM ts_stat('SELECT vector FROM search_contentdocument')")
            return [row[0] for row in cursor.fetchall()]


def engine() -> SqliteFts5 | PostgresFullText:
    return PostgresFullText() if connection.vendor == "postgresql" else SqliteFts5()
