"""The keyword side of hybrid search (docs/ARCHITECTURE.md, "Searching"): each chunk's title and
text, indexed in the registry's database. `KeywordIndex` holds what the engines share: the writes,
each in one transaction that also appends the articles it touched to the `keyword_changes`
journal, the journal's reads, and the search, ranked in this process's memory
(`vectorstore.keywords_memory`) once that copy is built, by the database until then. The engines
differ only in their SQL: `SQLiteKeywords` (an FTS5 table per collection in the registry's file,
ranked by `bm25()`) and `PostgresKeywords` (one table of `tsvector`s shared by every machine,
ranked by `ts_rank`; fusion uses only the order of the hits). `keyword_index` chooses one.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Final

from newsbot.errors import StoreError
from vectorstore.database import Database, Transaction, in_batches
from vectorstore.filters import ChunkFilter
from vectorstore.keywords_memory import MemoryKeywords
from vectorstore.records import KeywordChunk

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

#: Words a keyword query leaves out: they occur in nearly every article (BM25 would give them
#: almost no weight anyway) and make FTS5 score every chunk that holds them.
QUERY_STOPWORDS: Final = frozenset(
    """a an the and or but if then than that this these those there their they them he she it its
    his her we you your our i me my is are was were be been being am do does did done has have had
    having of in on at to for from by with about as into over after before between during under
    also not no so such can could would should will shall may might must just very more most
    other some any each all both who whom whose which what when where why how whats s t
    said says say""".split()  # noqa: SIM905 (a word list reads best as text)
)
MAX_QUERY_TERMS: Final = 32
ROWS_PAGE: Final = 2000  # rows read at a time when every row is read
OVERFETCH: Final = 3  # a filtered SQLite search first ranks this many times n, unfiltered
_COLUMNS: Final = "chunk_id, article_id, title, text, day, source"
#: `keyword_tables`: the collections built. `keyword_changes`: the journal, `{serial}` the engine's
#: auto-numbered key; an entry with no article means every row changed. Writers hold the ingest
#: lock, so entries commit in number order: a reader never later finds a lower one committed.
_SHARED_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS keyword_tables ("
    "collection TEXT PRIMARY KEY, table_name TEXT NOT NULL, built INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS keyword_changes ("
    "seq {serial}, collection TEXT NOT NULL, article_id TEXT);"
    "CREATE INDEX IF NOT EXISTS keyword_changes_order ON keyword_changes (collection, seq)"
)


def query_terms(query: str) -> list[str]:
    """The words of `query` a keyword search looks for: lower-case, no stopwords, each once."""
    words = re.findall(r"\w+", query.casefold())
    kept = [w for w in words if w not in QUERY_STOPWORDS and (len(w) > 1 or w.isdigit())]
    return list(dict.fromkeys(kept))[:MAX_QUERY_TERMS]


def keyword_index(database: Database, collection: str, in_memory: bool = True) -> KeywordIndex:
    """The keyword index of `collection` in `database`, of the engine's kind; ranked in this
    process's memory once built when `in_memory`, else always by the database.

    Raises:
        StoreError: its tables cannot be created.
    """
    engine = PostgresKeywords if database.kind == "postgresql" else SQLiteKeywords
    index = engine(database, collection)
    if in_memory:
        index.memory = MemoryKeywords(index)
    return index


class KeywordIndex(ABC):
    """The keyword index of one collection's chunks (see the module docstring).

    An engine names its `table`, the `scope` (column and value) that picks the collection's rows
    in a table shared by every collection (None: the table is the collection's own), the `key`
    it pages through every row by, and how the database ranks.
    """

    table: str
    scope: tuple[str, str] | None = None
    key: str = "chunk_id"
    upsert: str = ""  # what an insert of a row already there does

    def __init__(self, database: Database, collection: str) -> None:
        self.database = database
        self.collection = collection
        self.memory: MemoryKeywords | None = None

    def _where(self, *clauses: str) -> tuple[str, list[object]]:
        """` WHERE ...` of `clauses` within the collection's rows, and the scope's parameter."""
        scoped = [f"{self.scope[0]} = ?", *clauses] if self.scope else list(clauses)
        sql = f" WHERE {' AND '.join(scoped)}" if scoped else ""
        return sql, [self.scope[1]] if self.scope else []

    # --- state -----------------------------------------------------------------------------------

    def built(self) -> bool:
        """True once the index holds every chunk the collection had when it was first built (an
        older data dir's collection is built from Chroma on first open)."""
        rows = self.database.rows(
            "SELECT built FROM keyword_tables WHERE collection = ?", (self.collection,)
        )
        return bool(rows and rows[0][0])

    def mark_built(self) -> None:
        with self.database.transaction() as db:
            db.execute(
                "INSERT INTO keyword_tables (collection, table_name, built) VALUES (?, ?, 1) "
                "ON CONFLICT (collection) DO UPDATE SET built = 1",
                (self.collection, self.table),
            )

    def count(self) -> int:
        """Chunks indexed."""
        where, params = self._where()
        return int(self.database.rows(f"SELECT COUNT(*) FROM {self.table}{where}", params)[0][0])

    # --- writes ----------------------------------------------------------------------------------

    def replace(self, article_ids: Iterable[str], chunks: Sequence[KeywordChunk]) -> None:
        """Make `chunks` the only rows of `article_ids`, in one transaction."""
        ids = list(dict.fromkeys(article_ids))
        with self.database.transaction() as db:
            self._delete(db, ids)
            self._insert(db, chunks)
            self._journal(db, [*ids, *(c.article_id for c in chunks)])

    def delete(self, article_ids: Iterable[str]) -> None:
        """Remove every row of `article_ids`."""
        ids = list(dict.fromkeys(article_ids))
        with self.database.transaction() as db:
            self._delete(db, ids)
            self._journal(db, ids)

    def clear(self) -> None:
        """Remove every row (the collection is gone) and forget that it was built."""
        where, params = self._where()
        with self.database.transaction() as db:
            db.execute(f"DELETE FROM {self.table}{where}", params)
            db.execute("DELETE FROM keyword_tables WHERE collection = ?", (self.collection,))
            # The older entries no longer matter: one that says "everything" replaces them.
            db.execute("DELETE FROM keyword_changes WHERE collection = ?", (self.collection,))
            self._journal(db, [None])

    def _journal(self, db: Transaction, article_ids: Iterable[str | None]) -> None:
        db.executemany(
            "INSERT INTO keyword_changes (collection, article_id) VALUES (?, ?)",
            [(self.collection, a) for a in dict.fromkeys(article_ids)],
        )

    def _insert(self, db: Transaction, chunks: Sequence[KeywordChunk]) -> None:
        scope = [self.scope[1]] if self.scope else []
        columns = f"{self.scope[0]}, {_COLUMNS}" if self.scope else _COLUMNS
        marks = ", ".join("?" * (len(scope) + 6))
        db.executemany(
            f"INSERT INTO {self.table} ({columns}) VALUES ({marks}){self.upsert}",
            [(*scope, c.chunk_id, c.article_id, c.title, c.text, c.day, c.source) for c in chunks],
        )

    def _delete(self, db: Transaction, ids: list[str]) -> None:
        for marks, part in in_batches(ids):
            where, params = self._where(f"article_id IN ({marks})")
            db.execute(f"DELETE FROM {self.table}{where}", [*params, *part])

    # --- reads -----------------------------------------------------------------------------------

    def search(
        self, query: str, n: int, where: ChunkFilter | None = None
    ) -> list[tuple[str, float]]:
        """The `n` chunks that best match `query`'s words, best first, as (chunk id, score);
        higher scores are better. `where` keeps the chunks a dense search would keep."""
        if self.memory is not None and n >= 1:
            terms = query_terms(query)
            if not terms:
                return []
            try:
                ranked = self.memory.search(terms, n, where)
            except Exception as exc:  # the database ranks from now on; it says what is wrong
                self.memory.disable(exc)
                ranked = None
            if ranked is not None:
                return ranked
        return self.database_search(query, n, where)

    @abstractmethod
    def database_search(
        self, query: str, n: int, where: ChunkFilter | None = None
    ) -> list[tuple[str, float]]:
        """`search`, ranked by the database."""

    def latest_change(self) -> int:
        """The number of the journal's last entry for this collection (0: none)."""
        rows = self.database.rows(
            "SELECT MAX(seq) FROM keyword_changes WHERE collection = ?", (self.collection,)
        )
        return int(rows[0][0] or 0)

    def changes_since(self, seq: int) -> list[tuple[int, str | None]]:
        """The journal's entries for this collection after `seq`, in order."""
        rows = self.database.rows(
            "SELECT seq, article_id FROM keyword_changes WHERE collection = ? AND seq > ? "
            "ORDER BY seq",
            (self.collection, seq),
        )
        return [(int(number), article) for number, article in rows]

    def rows(self, article_ids: Sequence[str] | None = None) -> Iterator[KeywordChunk]:
        """The rows of `article_ids` (None: every row, read a page at a time)."""
        select = f"SELECT {self.key}, {_COLUMNS} FROM {self.table}"
        if article_ids is not None:
            for marks, part in in_batches(list(article_ids)):
                where, params = self._where(f"article_id IN ({marks})")
                found = self.database.rows(select + where, [*params, *part])
                yield from (KeywordChunk(*row[1:]) for row in found)
            return
        last: object = -1 if self.key == "rowid" else ""
        where, params = self._where(f"{self.key} > ?")
        while page := self.database.rows(
            f"{select}{where} ORDER BY {self.key} LIMIT ?", [*params, last, ROWS_PAGE]
        ):
            yield from (KeywordChunk(*row[1:]) for row in page)
            last = page[-1][0]

    def _filter(self, where: ChunkFilter | None) -> tuple[list[str], list[object]]:
        """The SQL conditions (on columns `day` and `source`) and parameters of `where`."""
        clauses: list[str] = []
        params: list[object] = []
        if where is not None:
            if where.first_day is not None:
                clauses.append("day >= ?")
                params.append(where.first_day)
            if where.last_day is not None:
                clauses.append("day <= ?")
                params.append(where.last_day)
            if where.sources:
                clauses.append(f"source IN ({','.join('?' * len(where.sources))})")
                params.extend(where.sources)
        return clauses, params


class SQLiteKeywords(KeywordIndex):
    """BM25 in an FTS5 table of the registry's SQLite file (Porter stemming)."""

    key = "rowid"

    def __init__(self, database: Database, collection: str) -> None:
        super().__init__(database, collection)
        # Collection names allow '.' and '-', which SQL identifiers don't: name it by a hash.
        self.table = "keywords_" + hashlib.sha256(collection.encode()).hexdigest()[:16]
        database.apply(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {self.table} USING fts5("
            "title, text, chunk_id UNINDEXED, article_id UNINDEXED, day UNINDEXED, "
            "source UNINDEXED, tokenize = 'porter unicode61 remove_diacritics 2');"
            + _SHARED_SCHEMA.format(serial="INTEGER PRIMARY KEY AUTOINCREMENT")
        )

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
            kept = [(cid, score) for cid, score, day, src in rows if where.keeps_day(day, src)]
            if len(kept) >= n or len(rows) < wide:
                return kept[:n]
        clauses, params = self._filter(where)
        return [(cid, score) for cid, score in self._ranked(match, clauses, params, n)]

    def _ranked(
        self, match: str, clauses: list[str], params: list[object], n: int, extra: str = ""
    ) -> list[tuple[Any, ...]]:
        """The best `n` rows for `match` passing `clauses`: chunk id, score (higher is better)
        and the `extra` columns."""
        sql = (
            f"SELECT chunk_id, bm25({self.table}) AS score{extra} FROM {self.table} "
            f"WHERE {' AND '.join([f'{self.table} MATCH ?', *clauses])} ORDER BY score LIMIT ?"
        )
        try:
            rows = self.database.rows(sql, (match, *params, n))
        except sqlite3.Error as exc:
            raise StoreError(f"Keyword search in {self.database.where} failed ({exc})") from exc
        # FTS5's bm25() is negative (lower is better); flip it so that higher is better.
        return [(str(row[0]), -float(row[1]), *row[2:]) for row in rows]


class PostgresKeywords(KeywordIndex):
    """One `keyword_chunks` table for every collection; its `tsvector` column is computed by
    PostgreSQL from title and text (the `english` configuration: Snowball stemming, stopwords
    left out), and a search matches any of the question's words, ranked by `ts_rank`."""

    table = "keyword_chunks"
    upsert = (
        " ON CONFLICT (collection, chunk_id) DO UPDATE SET article_id = excluded.article_id, "
        "day = excluded.day, source = excluded.source, title = excluded.title, "
        "text = excluded.text"
    )

    def __init__(self, database: Database, collection: str) -> None:
        super().__init__(database, collection)
        self.scope = ("collection", collection)
        database.apply(
            f"CREATE TABLE IF NOT EXISTS {self.table} (collection TEXT NOT NULL, "
            "chunk_id TEXT NOT NULL, article_id TEXT NOT NULL, day INTEGER NOT NULL, "
            "source TEXT NOT NULL, title TEXT NOT NULL, text TEXT NOT NULL, words tsvector "
            "GENERATED ALWAYS AS (to_tsvector('english', title || ' ' || text)) STORED, "
            "PRIMARY KEY (collection, chunk_id));"
            f"CREATE INDEX IF NOT EXISTS {self.table}_words ON {self.table} USING GIN (words);"
            f"CREATE INDEX IF NOT EXISTS {self.table}_article "
            f"ON {self.table} (collection, article_id);"
            + _SHARED_SCHEMA.format(serial="BIGSERIAL PRIMARY KEY")
        )

    def database_search(
        self, query: str, n: int, where: ChunkFilter | None = None
    ) -> list[tuple[str, float]]:
        # Letters and digits only: tsquery syntax (& | ! : * ' parentheses) never reaches it.
        words = [w for t in query_terms(query) for w in re.findall(r"[^\W_]+", t)]
        if not words or n < 1:
            return []
        clauses, params = self._filter(where)
        sql = (
            f"SELECT chunk_id, ts_rank(words, q, 1) AS score "
            f"FROM {self.table}, to_tsquery('english', ?) AS q "
            f"WHERE {' AND '.join(['collection = ?', 'words @@ q', *clauses])} "
            "ORDER BY score DESC, chunk_id LIMIT ?"
        )
        rows = self.database.rows(sql, (" | ".join(words), self.collection, *params, n))
        return [(str(cid), float(score)) for cid, score in rows]


def build_keyword_index(collection: Collection, index: KeywordIndex, page: int = 2000) -> int:
    """Index every chunk `collection` holds (a collection stored before keyword search existed,
    or one whose index was lost), then mark the index built; returns the chunks indexed.

    Call it holding the store's ingest lock, so that no write lands in between.
    """
    total = 0
    index.clear()
    while True:
        got = collection.get(include=["documents", "metadatas"], limit=page, offset=total)
        if not got["ids"]:
            break
        metadatas: list[Any] = list(got["metadatas"] or [])
        rows = [
            KeywordChunk(
                cid,
                str(meta.get("article_id", "")),
                str(meta.get("title", "")),
                text,
                int(meta.get("published_ts", -1)),
                str(meta.get("source", "")),
            )
            for cid, text, meta in zip(got["ids"], got["documents"] or [], metadatas, strict=False)
            if text is not None and meta is not None
        ]
        index.replace([], rows)
        total += len(got["ids"])
    index.mark_built()
    return total
