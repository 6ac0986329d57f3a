"""Which file each article of a one-article file (.md, .txt, .html) was last stored from.

An article's id comes from what its file names (an id, a url) or else from the file's path, so
an edit that drops a front-matter `id:` or `url:`, or a renamed file, gives the same article
another id. The ingest looks its files up here to retire the version stored under the old id
(`ingest.pipeline`) instead of keeping both. Each row keeps the content hash the file wrote: an
old id is retired only while the registry still holds that version (no feed, dump or other file
has written the article since). Rows live beside the registry's, in the deployment's database.
"""

from __future__ import annotations

from collections.abc import Iterable

from vectorstore.database import Database, in_batches

_SCHEMA = """
CREATE TABLE IF NOT EXISTS file_versions (
    collection   TEXT NOT NULL,
    path         TEXT NOT NULL,
    article_id   TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    PRIMARY KEY (collection, path)
);
CREATE INDEX IF NOT EXISTS file_versions_article ON file_versions (collection, article_id);
CREATE INDEX IF NOT EXISTS file_versions_content ON file_versions (collection, content_hash);
"""

FileRecord = tuple[str, str, str]
"""`(path, article_id, content_hash)`: what a file wrote last."""


class ArticleFiles:
    """The file each article of `collection` was last stored from, by the file's full path."""

    def __init__(self, database: Database, collection: str) -> None:
        self.database = database
        self.collection = collection
        database.apply(_SCHEMA)

    def _select(self, where: str, values: Iterable[str], join: bool = False) -> list[FileRecord]:
        """Rows whose `where` column is one of `values`; with `join`, only those whose
        article the registry still holds in the version the file wrote."""
        sql = "SELECT f.path, f.article_id, f.content_hash FROM file_versions f"
        if join:
            sql += (
                " JOIN articles a ON a.collection = f.collection AND a.article_id = f.article_id"
                " AND a.content_hash = f.content_hash"
            )
        found: list[FileRecord] = []
        for marks, part in in_batches(list(dict.fromkeys(values))):
            rows = self.database.rows(
                f"{sql} WHERE f.collection = ? AND f.{where} IN ({marks})",
                (self.collection, *part),
            )
            found += [(str(p), str(i), str(h)) for p, i, h in rows]
        return found

    def of_paths(self, paths: Iterable[str]) -> dict[str, FileRecord]:
        """What these files wrote last, by path."""
        return {record[0]: record for record in self._select("path", paths)}

    def of_articles(self, article_ids: Iterable[str]) -> list[FileRecord]:
        """The files these articles were last stored from."""
        return self._select("article_id", article_ids)

    def still_stored(self, content_hashes: Iterable[str]) -> list[FileRecord]:
        """The files that wrote these contents, whose version the registry still holds."""
        return self._select("content_hash", content_hashes, join=True)

    def record(self, records: Iterable[FileRecord]) -> None:
        """Remember what each file wrote last."""
        with self.database.transaction() as db:
            db.executemany(
                "INSERT INTO file_versions (collection, path, article_id, content_hash) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (collection, path) DO UPDATE SET "
                "article_id = excluded.article_id, content_hash = excluded.content_hash",
                [(self.collection, *record) for record in records],
            )

    def forget(self, paths: Iterable[str]) -> None:
        """Drop the rows of files that are gone (their article was taken over)."""
        with self.database.transaction() as db:
            db.executemany(
                "DELETE FROM file_versions WHERE collection = ? AND path = ?",
                [(self.collection, path) for path in paths],
            )
