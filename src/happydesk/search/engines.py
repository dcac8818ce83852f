"""The search interface and its two engines. Callers use `engine()`; nothing else knows which one runs.

Both rank subject matches above body matches, treat the last word as a prefix (search as you type),
and return a highlighted snippet. An OpenSearch engine can stand behind the same interface later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import connection

WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 12


@dataclass(frozen=True)
class Hit:
    conversation_id: int
    rank: float
    snippet: str


def terms(query: str) -> list[str]:
    """Words of the query, lower-cased; punctuation and operators are not passed to the engine."""
    return [t.lower() for t in WORD.findall(query)][:MAX_TERMS]


class SqliteFts5:
    def search(self, query: str, *, limit: int) -> list[Hit]:
        words = terms(query)
        if not words:
            return []
        match = " ".join(f'"{w}"' for w in words[:-1]) + (" " if len(words) > 1 else "") + f'"{words[-1]}"*'
        sql = (
            "SELECT rowid, bm25(search_fts, 10.0, 1.0) AS rank, "
            "snippet(search_fts, 1, '<mark>', '</mark>', '…', 14) "
            "FROM search_fts WHERE search_fts MATCH %s ORDER BY rank LIMIT %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [match, limit])
            return [Hit(int(row[0]), -float(row[1]), row[2] or "") for row in cursor.fetchall()]


class PostgresFullText:
    def search(self, query: str, *, limit: int) -> list[Hit]:
        words = terms(query)
        if not words:
            return []
        tsquery = " & ".join(words[:-1] + [f"{words[-1]}:*"])
        sql = (
            "SELECT d.conversation_id, ts_rank_cd(d.vector, q) AS rank, "
            "ts_headline('english', d.body, q, 'StartSel=<mark>,StopSel=</mark>,MaxWords=24,MinWords=10') "
            "FROM search_conversationdocument d, to_tsquery('english', %s) q "
            "WHERE d.vector @@ q ORDER BY rank DESC, d.conversation_id DESC LIMIT %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [tsquery, limit])
            return [Hit(int(row[0]), float(row[1]), row[2] or "") for row in cursor.fetchall()]


def engine() -> SqliteFts5 | PostgresFullText:
    return PostgresFullText() if connection.vendor == "postgresql" else SqliteFts5()
