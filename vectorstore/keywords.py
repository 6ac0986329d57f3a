"""The keyword side of hybrid search: the chunks' words, indexed in the registry's database.

Each stored chunk's title and text (stemmed) is indexed with its id, article, publication day and
source, in the deployment's `Database` (vectorstore.database):

- **SQLite** (`vectorstore.keywords_sqlite`): one FTS5 table per collection in the registry's
  file. FTS5 ranks with Okapi BM25 (k1 1.2, b 0.75) in C.
- **PostgreSQL** (`vectorstore.keywords_postgres`): one table of `tsvector`s with a GIN index,
  shared by every machine, ranked by `ts_rank` (term frequency, normalised by length). Fusion uses
  only the order of the hits, so the two rankings serve alike.

Both update row by row and commit with the database's own transactions, so the index follows
ingest, re-ingest and delete exactly, and every process reads the others' committed writes at once.
Each write also appends the articles it touched to the `keyword_changes` journal, in the same
transaction: a process that ranks in memory (`vectorstore.keywords_memory`, the default) reads
the journal before each search and re-reads those articles, so it never ranks from stale rows.
The database ranks while that copy is being built, and when `keywords_in_memory` is off.

The store keeps it in step with Chroma inside its write order (docs/ARCHITECTURE.md): an article's
rows are replaced after its chunks reach Chroma and before its registry row turns `done`, so an
interrupted write leaves the article `pending` and the next ingest replaces its rows again. Chroma
stays the source of truth for the text a search returns: a keyword hit whose chunk Chroma no
longer holds is skipped by the store.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from vectorstore.chunks import chunk_id, epoch_day
from vectorstore.database import Database, Transaction
from vectorstore.filters import ChunkFilter
from vectorstore.records import ArticleMeta, ChunkText

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

    from vectorstore.keywords_memory import MemoryKeywords

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


@dataclass(frozen=True)
class KeywordChunk:
    """One chunk as the keyword index stores it; `day` is days since 1970-01-01 (-1: undated)."""

    chunk_id: str
    article_id: str
    title: str
    text: str
    day: int
    source: str


def keyword_chunk(meta: ArticleMeta, chunk: ChunkText) -> KeywordChunk:
    """The keyword index's row of one chunk."""
    return KeywordChunk(
        chunk_id=chunk_id(meta.article_id, chunk.index),
        article_id=meta.article_id,
        title=meta.title,
        text=chunk.text,
        day=epoch_day(meta.published),
        source=meta.source,
    )


def query_terms(query: str) -> list[str]:
    """The words of `query` a keyword search looks for: lower-case, no stopwords, each once."""
    words = re.findall(r"\w+", query.casefold())
    kept = [w for w in words if w not in QUERY_STOPWORDS and (len(w) > 1 or w.isdigit())]
    return list(dict.fromkeys(kept))[:MAX_QUERY_TERMS]


TABLES_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS keyword_tables ("
    "collection TEXT PRIMARY KEY, table_name TEXT NOT NULL, built INTEGER NOT NULL)"
)
#: The journal of writes; `{serial}` is the engine's auto-numbered key (never reused). An entry
#: with no article means every row of the collection changed. Writers of a collection hold its
#: ingest lock (`NewsStore`), so its entries commit in the order of their numbers: a reader that
#: has applied entry n never later finds a lower one committed.
JOURNAL_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS keyword_changes ("
    "seq {serial}, collection TEXT NOT NULL, article_id TEXT);"
    "CREATE INDEX IF NOT EXISTS keyword_changes_order ON keyword_changes (collection, seq)"
)


def keyword_index(database: Database, collection: str, in_memory: bool = True) -> KeywordIndex:
    """The keyword index of `collection` in `database`, of the engine's kind; ranked in this
    process's memory once built when `in_memory`, else always by the database.

    Raises:
        StoreError: its tables cannot be created.
    """
    index: KeywordIndex
    if database.kind == "postgresql":
        from vectorstore.keywords_postgres import PostgresKeywordIndex

        index = PostgresKeywordIndex(database, collection)
    else:
        from vectorstore.keywords_sqlite import SQLiteKeywordIndex

        index = SQLiteKeywordIndex(database, collection)
    if in_memory:
        index.rank_in_memory()
    return index


class KeywordIndex(ABC):
    """The keyword index of one collection's chunks (see the module docstring)."""

    table: str

    def __init__(self, database: Database, collection: str) -> None:
        self.database = database
        self.collection = collection
        self._transaction = database.transaction
        self.memory: MemoryKeywords | None = None

    def rank_in_memory(self) -> MemoryKeywords:
        """Rank in this process's memory from now on (once built; see the module docstring)."""
        from vectorstore.keywords_memory import Journal, MemoryKeywords

        if self.memory is None:
            self.memory = MemoryKeywords(Journal(self.latest_change, self.changes_since, self.rows))
        return self.memory

    # --- state -----------------------------------------------------------------------------------

    def built(self) -> bool:
        """True once the index holds every chunk the collection had when it was first built (an
        older data dir's collection is built from Chroma on first open)."""
        rows = self.database.rows(
            "SELECT built FROM keyword_tables WHERE collection = ?", (self.collection,)
        )
        return bool(rows and rows[0][0])

    def mark_built(self) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO keyword_tables (collection, table_name, built) VALUES (?, ?, 1) "
                "ON CONFLICT (collection) DO UPDATE SET built = 1",
                (self.collection, self.table),
            )

    @abstractmethod
    def count(self) -> int:
        """Chunks indexed."""

    # --- writes ----------------------------------------------------------------------------------

    def replace(self, article_ids: Iterable[str], chunks: Sequence[KeywordChunk]) -> None:
        """Make `chunks` the only rows of `article_ids`, in one transaction."""
        ids = list(dict.fromkeys(article_ids))
        with self._transaction() as db:
            self._delete(db, ids)
            self._insert(db, chunks)
            self._journal(db, [*ids, *(c.article_id for c in chunks)])

    def delete(self, article_ids: Iterable[str]) -> None:
        """Remove every row of `article_ids`."""
        ids = list(dict.fromkeys(article_ids))
        with self._transaction() as db:
            self._delete(db, ids)
            self._journal(db, ids)

    def clear(self) -> None:
        """Remove every row (the collection is gone) and forget that it was built."""
        with self._transaction() as db:
            self._clear(db)
            db.execute("DELETE FROM keyword_tables WHERE collection = ?", (self.collection,))
            # The older entries no longer matter: one that says "everything" replaces them.
            db.execute("DELETE FROM keyword_changes WHERE collection = ?", (self.collection,))
            db.execute(
                "INSERT INTO keyword_changes (collection, article_id) VALUES (?, NULL)",
                (self.collection,),
            )

    def _journal(self, db: Transaction, article_ids: Iterable[str]) -> None:
        db.executemany(
            "INSERT INTO keyword_changes (collection, article_id) VALUES (?, ?)",
            [(self.collection, a) for a in dict.fromkeys(article_ids)],
        )

    @abstractmethod
    def _insert(self, db: Transaction, chunks: Sequence[KeywordChunk]) -> None: ...

    @abstractmethod
    def _delete(self, db: Transaction, ids: list[str]) -> None: ...

    @abstractmethod
    def _clear(self, db: Transaction) -> None: ...

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

    @abstractmethod
    def rows(self, article_ids: Sequence[str] | None = None) -> Iterator[KeywordChunk]:
        """The rows of `article_ids` (None: every row, read a page at a time)."""


def filter_clauses(where: ChunkFilter | None) -> tuple[list[str], list[object]]:
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
        rows: list[KeywordChunk] = []
        metadatas: list[Any] = list(got["metadatas"] or [])
        for cid, text, meta in zip(got["ids"], got["documents"] or [], metadatas, strict=False):
            if text is None or meta is None:
                continue
            rows.append(
                KeywordChunk(
                    chunk_id=cid,
                    article_id=str(meta.get("article_id", "")),
                    title=str(meta.get("title", "")),
                    text=text,
                    day=int(meta.get("published_ts", -1)),
                    source=str(meta.get("source", "")),
                )
            )
        index.replace([], rows)
        total += len(got["ids"])
    index.mark_built()
    return total
