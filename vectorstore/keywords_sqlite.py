"""The keyword index in SQLite: one FTS5 table per collection in the registry's file, ranked by
FTS5's `bm25()` (Porter stemming; see `vectorstore.keywords` for what every engine shares)."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any, Final

from newsbot.errors import StoreError
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

_SQLITE_MAX_VARS: Final = 900
OVERFETCH: Final = 3  # a filtered keyword search first ranks this many times n, unfiltered


def _batches(ids: list[str]) -> Iterator[tuple[str, list[str]]]:
    """`ids` in parts SQLite takes as parameters of one statement, each with its `?,?,...`."""
    for start in range(0, len(ids), _SQLITE_MAX_VARS):
        part = ids[start : start + _SQLITE_MAX_VARS]
        yield ",".join("?" * len(part)), part


def _table(collection: str) -> str:
    # Collection names allow '.' and '-', which SQL identifiers don't: name the table by a hash.
    return "keywords_" + hashlib.sha256(collection.encode()).hexdigest()[:16]


class SQLiteKeywordIndex(KeywordIndex):
    """BM25 in an FTS5 table of the registry's SQLite file."""

    def __init__(self, database: Database, collection: str) -> None:
        super().__init__(database, collection)
        self.table = _table(collection)
        try:
            database.apply(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {self.table} USING fts5("
                "title, text, chunk_id UNINDEXED, article_id UNINDEXED, day UNINDEXED, "
                "source UNINDEXED, tokenize = 'porter unicode61 remove_diacritics 2');"
                f"{TABLES_SCHEMA};"
                + JOURNAL_SCHEMA.format(serial="INTEGER PRIMARY KEY AUTOINCREMENT")
            )
        except sqlite3.Error as exc:
            raise StoreError(
                f"Cannot open the keyword index in {database.where} ({exc}): check that the data "
                "dir is writable and that this Python's SQLite has FTS5"
            ) from exc

    def count(self) -> int:
        return int(self.database.rows(f"SELECT COUNT(*) FROM {self.table}")[0][0])

    def _insert(self, db: Transaction, chunks: Sequence[KeywordChunk]) -> None:
        db.executemany(
            f"INSERT INTO {self.table} (title, text, chunk_id, article_id, day, source) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(c.title, c.text, c.chunk_id, c.article_id, c.day, c.source) for c in chunks],
        )

    def _delete(self, db: Transaction, ids: list[str]) -> None:
        for marks, part in _batches(ids):
            db.execute(f"DELETE FROM {self.table} WHERE article_id IN ({marks})", part)

    def _clear(self, db: Transaction) -> None:
        db.execute(f"DELETE FROM {self.table}")

    def rows(self, article_ids: Sequence[str] | None = None) -> Iterator[KeywordChunk]:
        select = f"SELECT rowid, chunk_id, article_id, title, text, day, source FROM {self.table}"
        if article_ids is None:
            last = -1
            while page := self.database.rows(
                f"{select} WHERE rowid > ? ORDER BY rowid LIMIT ?", (last, ROWS_PAGE)
            ):
                yield from (KeywordChunk(*row[1:]) for row in page)
                last = page[-1][0]
            return
        for marks, part in _batches(list(article_ids)):
            # The article id is not indexed in FTS5: each statement reads every row's id.
            found = self.database.rows(f"{select} WHERE article_id IN ({marks})", part)
            yield from (KeywordChunk(*row[1:]) for row in found)

    def database_search(
        self, query: str, n: int, where: ChunkFilter | None = None
    ) -> list[tuple[str, float]]:
        terms = query_terms(query)
        if not terms or n < 1:
            return []
        match = " OR ".join(f'"{term}"' for term in terms)
        if where is not None:
            # Filtering inside the MATCH reads the day and source of every matching chunk, which
            # costs about as much again as ranking them (BENCHMARKS.md, search). The filter a
            # question carries (as of its date) keeps nearly every chunk, so rank unfiltered and
            # keep the passing ones among the best; filter in SQL only when too few pass.
            wide = OVERFETCH * n
            rows = self._ranked(match, [], [], wide, extra=", day, source")
            kept = [
                (cid, score) for cid, score, day, source in rows if where.keeps_day(day, source)
            ]
            if len(kept) >= n or len(rows) < wide:
                return kept[:n]
        clauses, params = filter_clauses(where)
        return [(cid, score) for cid, score in self._ranked(match, clauses, params, n)]

    def _ranked(
        self, match: str, clauses: list[str], params: list[object], n: int, extra: str = ""
    ) -> list[tuple[Any, ...]]:
        """The best `n` rows for `match` passing `clauses`: chunk id, score (higher is better)
        and the `extra` columns."""
        sql = (
            f"SELECT chunk_id, bm25({self.table}) AS score{extra} FROM {self.table} "
            f"WHERE {' AND '.join([f'{self.table} MATCH ?', *clauses])} "
            "ORDER BY score LIMIT ?"
        )
        try:
            rows = self.database.rows(sql, (match, *params, n))
        except sqlite3.Error as exc:
            raise StoreError(f"Keyword search in {self.database.where} failed ({exc})") from exc
        # FTS5's bm25() is negative (lower is better); flip it so that higher is better.
        return [(str(row[0]), -float(row[1]), *row[2:]) for row in rows]
