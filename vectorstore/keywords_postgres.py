"""The keyword index in PostgreSQL: every machine of a deployment searches the same rows.

One table for all collections, its `tsvector` column computed by PostgreSQL from title and text
(the `english` configuration: Snowball stemming, stopwords left out) with a GIN index, and a
search that matches any of the question's words (`|`), ranked by `ts_rank` normalised by length.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Final

from vectorstore.database import Database, Transaction
from vectorstore.filters import ChunkFilter
from vectorstore.keywords import (
    JOURNAL_SCHEMA,
    ROWS_PAGE,
    TABLES_SCHEMA,
    KeywordChunk,
    KeywordIndex,
    filter_clauses,
    query_terms,
)

TABLE: Final = "keyword_chunks"
_SCHEMA: Final = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    collection TEXT NOT NULL,
    chunk_id   TEXT NOT NULL,
    article_id TEXT NOT NULL,
    day        INTEGER NOT NULL,
    source     TEXT NOT NULL,
    title      TEXT NOT NULL,
    text       TEXT NOT NULL,
    words      tsvector GENERATED ALWAYS AS (to_tsvector('english', title || ' ' || text)) STORED,
    PRIMARY KEY (collection, chunk_id)
);
CREATE INDEX IF NOT EXISTS {TABLE}_words ON {TABLE} USING GIN (words);
CREATE INDEX IF NOT EXISTS {TABLE}_article ON {TABLE} (collection, article_id);
{TABLES_SCHEMA};
{JOURNAL_SCHEMA.format(serial="BIGSERIAL PRIMARY KEY")};
"""


class PostgresKeywordIndex(KeywordIndex):
    """`KeywordIndex` over the `keyword_chunks` table, rows of one collection."""

    def __init__(self, database: Database, collection: str) -> None:
        super().__init__(database, collection)
        self.table = TABLE
        database.apply(_SCHEMA)

    def count(self) -> int:
        rows = self.database.rows(
            f"SELECT COUNT(*) FROM {TABLE} WHERE collection = ?", (self.collection,)
        )
        return int(rows[0][0])

    def _insert(self, db: Transaction, chunks: Sequence[KeywordChunk]) -> None:
        db.executemany(
            f"INSERT INTO {TABLE} (collection, chunk_id, article_id, day, source, title, text) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (collection, chunk_id) DO UPDATE SET "
            "article_id = excluded.article_id, day = excluded.day, source = excluded.source, "
            "title = excluded.title, text = excluded.text",
            [
                (self.collection, c.chunk_id, c.article_id, c.day, c.source, c.title, c.text)
                for c in chunks
            ],
        )

    def _delete(self, db: Transaction, ids: list[str]) -> None:
        if ids:
            db.execute(
                f"DELETE FROM {TABLE} WHERE collection = ? AND article_id = ANY(?)",
                (self.collection, ids),
            )

    def _clear(self, db: Transaction) -> None:
        db.execute(f"DELETE FROM {TABLE} WHERE collection = ?", (self.collection,))

    def rows(self, article_ids: Sequence[str] | None = None) -> Iterator[KeywordChunk]:
        select = (
            f"SELECT chunk_id, article_id, title, text, day, source FROM {TABLE} "
            "WHERE collection = ?"
        )
        if article_ids is None:
            last = ""
            while page := self.database.rows(
                f"{select} AND chunk_id > ? ORDER BY chunk_id LIMIT ?",
                (self.collection, last, ROWS_PAGE),
            ):
                yield from (KeywordChunk(*row) for row in page)
                last = page[-1][0]
            return
        found = self.database.rows(
            f"{select} AND article_id = ANY(?)", (self.collection, list(article_ids))
        )
        yield from (KeywordChunk(*row) for row in found)

    def database_search(
        self, query: str, n: int, where: ChunkFilter | None = None
    ) -> list[tuple[str, float]]:
        # Letters and digits only: tsquery syntax (& | ! : * ' parentheses) never reaches it.
        words = [w for t in query_terms(query) for w in re.findall(r"[^\W_]+", t)]
        if not words or n < 1:
            return []
        clauses, params = filter_clauses(where)
        sql = (
            f"SELECT chunk_id, ts_rank(words, q, 1) AS score "
            f"FROM {TABLE}, to_tsquery('english', ?) AS q "
            f"WHERE {' AND '.join(['collection = ?', 'words @@ q', *clauses])} "
            "ORDER BY score DESC, chunk_id LIMIT ?"
        )
        rows = self.database.rows(sql, (" | ".join(words), self.collection, *params, n))
        return [(str(chunk_id), float(score)) for chunk_id, score in rows]
