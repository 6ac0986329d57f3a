"""The article registry: one SQLite row per stored article, so that skip checks, stats and listings
never scan chunks.

A row is `pending` from the moment an article's write begins until all its chunks are in Chroma,
then `done` (see the write order in docs/ARCHITECTURE.md). Rows are kept per collection, in the
deployment's `Database` (vectorstore.database): a SQLite file in the data dir, or PostgreSQL that
every machine shares.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from vectorstore.chunks import epoch_day
from vectorstore.database import Database, in_batches, open_database
from vectorstore.records import ArticleMeta, ArticleRow

Status = Literal["pending", "done"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    collection   TEXT NOT NULL,
    article_id   TEXT NOT NULL,
    title        TEXT NOT NULL,
    url          TEXT NOT NULL,
    url_key      TEXT NOT NULL,
    source       TEXT NOT NULL,
    published    TEXT,
    content_hash TEXT NOT NULL,
    n_chunks     INTEGER NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'done')),
    ingested_at  TEXT NOT NULL,
    PRIMARY KEY (collection, article_id)
);
CREATE INDEX IF NOT EXISTS articles_url ON articles (collection, url_key);
-- Every search asks for the newest date (`newest_published`): a seek instead of a scan.
CREATE INDEX IF NOT EXISTS articles_published ON articles (collection, published);
"""
_COLUMNS = "article_id, title, url, source, published, content_hash, n_chunks, ingested_at"


TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ref|cmpid)$", re.IGNORECASE)
"""Query parameters that say who sent a reader, not which page: a URL without them is the same."""


def without_tracking(query: str) -> str:
    """A URL's query string without its tracking parameters (`TRACKING_PARAMS`)."""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, v) for k, v in pairs if not TRACKING_PARAMS.match(k)])


def normalize_url(url: str) -> str:
    """A comparison key for URLs: lower-case scheme and host, http as https, no `www.`, no
    fragment, no trailing slash, no tracking parameters."""
    url = url.strip()
    if not url:
        return ""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    if parts.port and (parts.scheme, parts.port) not in {("http", 80), ("https", 443)}:
        host = f"{host}:{parts.port}"
    scheme = parts.scheme.lower()
    scheme = "https" if scheme == "http" else scheme  # the same page under either scheme
    return urlunsplit((scheme, host, parts.path.rstrip("/"), without_tracking(parts.query), ""))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ArticleRegistry:
    """The registry rows of one collection in `database` (safe across threads and processes).

    Raises:
        StoreError: the registry's table cannot be created.
    """

    def __init__(self, database: Database, collection: str) -> None:
        self.database = database
        self.collection = collection
        database.apply(_SCHEMA)

    @classmethod
    def for_collection(
        cls,
        data_dir: Path,
        collection: str,
        chroma_host: str | None = None,
        port: int | None = None,
        database_url: str | None = None,
    ) -> ArticleRegistry:
        """The registry of `collection` in the deployment's database (see `open_database`)."""
        return cls(open_database(data_dir, chroma_host, port, database_url), collection)

    def close(self) -> None:
        self.database.close()

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        return self.database.rows(sql, (self.collection, *params))

    # --- reads -----------------------------------------------------------------------------------

    def get(self, article_id: str) -> ArticleRow | None:
        """The row of one article (pending or done), or None."""
        rows = self._query(
            f"SELECT {_COLUMNS} FROM articles WHERE collection = ? AND article_id = ?",
            (article_id,),
        )
        return ArticleRow(*rows[0]) if rows else None

    def _rows_of(self, columns: str, article_ids: Iterable[str]) -> list[tuple[Any, ...]]:
        """`article_id` and `columns` of the rows of `article_ids`, in batches SQLite accepts."""
        rows: list[tuple[Any, ...]] = []
        for marks, part in in_batches(list(dict.fromkeys(article_ids))):
            rows += self._query(
                f"SELECT article_id, {columns} FROM articles "
                f"WHERE collection = ? AND article_id IN ({marks})",
                part,
            )
        return rows

    def state_of(self, article_ids: Iterable[str]) -> dict[str, tuple[str, Status]]:
        """`{article_id: (content_hash, status)}` for the ids that have a row."""
        return {
            str(article_id): (str(content_hash), status)
            for article_id, content_hash, status in self._rows_of(
                "content_hash, status", article_ids
            )
        }

    def find_by_url(self, url: str) -> list[str]:
        """Ids of the articles stored under `url` (compared after `normalize_url`)."""
        key = normalize_url(url)
        if not key:
            return []
        # Rows stored before tracking parameters were left out of the key have them in it:
        # the same page with any query is read and compared anew.
        page = key.split("?", 1)[0] + "?"
        rows = self._query(
            "SELECT article_id, url FROM articles WHERE collection = ? "
            "AND (url_key = ? OR substr(url_key, 1, ?) = ?) ORDER BY 1",
            (key, len(page), page),
        )
        return [str(r[0]) for r in rows if normalize_url(str(r[1])) == key]

    def count(self) -> int:
        """Articles fully stored (status done)."""
        rows = self._query("SELECT COUNT(*) FROM articles WHERE collection = ? AND status = 'done'")
        return int(rows[0][0])

    def newest_published(self) -> str | None:
        """The latest publication date (ISO text) of the collection's articles, written or not."""
        rows = self._query("SELECT MAX(published) FROM articles WHERE collection = ?")
        return str(rows[0][0]) if rows and rows[0][0] else None

    def sources(self) -> list[str]:
        """The distinct source names of the collection's articles (written or not), as stored."""
        rows = self._query("SELECT DISTINCT source FROM articles WHERE collection = ?")
        return [str(r[0]) for r in rows]

    def chunk_count(self) -> int:
        """Chunks of the fully stored articles."""
        rows = self._query(
            "SELECT COALESCE(SUM(n_chunks), 0) FROM articles "
            "WHERE collection = ? AND status = 'done'"
        )
        return int(rows[0][0])

    def list_articles(
        self, limit: int = 20, offset: int = 0, query: str | None = None
    ) -> list[ArticleRow]:
        """Stored articles, newest publication first (undated last).

        `query` keeps the articles whose title or source contains it (case-insensitive).
        """
        where = "collection = ? AND status = 'done'"
        params: list[object] = []
        if query:
            pattern = (
                "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            )
            like, fold = self.database.like, self.database.fold
            where += (
                f" AND ({fold}(title) {like} {fold}(?) ESCAPE '\\'"
                f" OR {fold}(source) {like} {fold}(?) ESCAPE '\\')"
            )
            params += [pattern, pattern]
        rows = self._query(
            f"SELECT {_COLUMNS} FROM articles WHERE {where} "
            "ORDER BY published IS NULL, published DESC, ingested_at DESC, article_id "
            "LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [ArticleRow(*r) for r in rows]

    def dates_and_sources(self, article_ids: Iterable[str]) -> dict[str, tuple[int, str]]:
        """`{article_id: (publication day since 1970-01-01 or -1, source)}` of the ids that have
        a row: what a date or source filter needs, without reading Chroma's metadata."""
        return {
            str(article_id): (epoch_day(published), str(source))
            for article_id, published, source in self._rows_of("published, source", article_ids)
        }

    def rows(self, article_ids: Iterable[str]) -> dict[str, ArticleRow]:
        """`{article_id: row}` of the ids that have a row (pending or done)."""
        columns = _COLUMNS.split(", ", 1)[1]
        return {str(r[0]): ArticleRow(*r) for r in self._rows_of(columns, article_ids)}

    def chunk_counts(self, keep: Callable[[int, str], bool]) -> list[tuple[str, int]]:
        """`(article_id, n_chunks)` of the articles whose (day, source) `keep` accepts."""
        rows = self._query(
            "SELECT article_id, published, source, n_chunks FROM articles WHERE collection = ?"
        )
        return [
            (str(article_id), int(n_chunks))
            for article_id, published, source, n_chunks in rows
            if keep(epoch_day(published), str(source))
        ]

    def dated_before(self, day: str) -> list[str]:
        """Ids of the articles (written or not) published before `day` (YYYY-MM-DD); an undated
        one counts from the day it was stored."""
        rows = self._query(
            "SELECT article_id FROM articles WHERE collection = ? "
            "AND SUBSTR(COALESCE(published, ingested_at), 1, 10) < ? ORDER BY article_id",
            (day,),
        )
        return [str(r[0]) for r in rows]

    def pending(self) -> list[ArticleRow]:
        """Articles whose write began but did not finish (an interrupted run)."""
        rows = self._query(
            f"SELECT {_COLUMNS} FROM articles WHERE collection = ? AND status = 'pending' "
            "ORDER BY article_id"
        )
        return [ArticleRow(*r) for r in rows]

    # --- writes ----------------------------------------------------------------------------------

    def mark_pending(self, items: Sequence[tuple[ArticleMeta, int]]) -> None:
        """Step 1 of a write: each article pending, new metadata, `max(old, new)` chunk count."""
        now = _now()
        with self.database.transaction() as db:
            db.executemany(
                "INSERT INTO articles (collection, article_id, title, url, url_key, source, "
                "published, content_hash, n_chunks, status, ingested_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?) "
                "ON CONFLICT (collection, article_id) DO UPDATE SET title = excluded.title, "
                "url = excluded.url, url_key = excluded.url_key, source = excluded.source, "
                "published = excluded.published, content_hash = excluded.content_hash, "
                f"n_chunks = {self.database.greatest}(articles.n_chunks, excluded.n_chunks), "
                "status = 'pending'",
                [(self.collection, *_meta_values(meta), n, now) for meta, n in items],
            )

    def mark_done(self, items: Sequence[tuple[ArticleMeta, int]]) -> None:
        """Step 4 of a write: each article done with its new hash and exact chunk count."""
        now = _now()
        with self.database.transaction() as db:
            db.executemany(
                "UPDATE articles SET content_hash = ?, n_chunks = ?, status = 'done', "
                "ingested_at = ? WHERE collection = ? AND article_id = ?",
                [(m.content_hash, n, now, self.collection, m.article_id) for m, n in items],
            )

    def delete(self, article_id: str) -> bool:
        """Remove an article's row; False when there was none."""
        with self.database.transaction() as db:
            cursor = db.execute(
                "DELETE FROM articles WHERE collection = ? AND article_id = ?",
                (self.collection, article_id),
            )
            return int(cursor.rowcount) > 0

    def clear(self) -> int:
        """Remove every row of this collection (its Chroma collection is gone); returns how many."""
        with self.database.transaction() as db:
            cursor = db.execute("DELETE FROM articles WHERE collection = ?", (self.collection,))
            return int(cursor.rowcount)


def _meta_values(meta: ArticleMeta) -> tuple[object, ...]:
    return (
        meta.article_id,
        meta.title,
        meta.url,
        normalize_url(meta.url),
        meta.source,
        meta.published,
        meta.content_hash,
    )
