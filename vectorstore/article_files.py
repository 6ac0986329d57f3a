"""Which file each article of a one-article file (.md, .txt, .html) was last stored from.

An article's id comes from what its file names (an id, a url) or else from the file's path, so
an edit that adds or drops a front-matter `id:` or `url:`, or a renamed file, gives the same
article another id. The ingest looks its files up here to retire the version stored under the
old id (`ingest.pipeline`) instead of keeping both. Rows live beside the registry's, in the
deployment's database; one naming an article since deleted is harmless (the registry is asked
whether the article is still stored) and is overwritten when its file is stored again.
"""

from __future__ import annotations

from collections.abc import Iterable

from vectorstore.database import Database, in_batches

_SCHEMA = """
CREATE TABLE IF NOT EXISTS article_files (
    collection TEXT NOT NULL,
    path       TEXT NOT NULL,
    article_id TEXT NOT NULL,
    PRIMARY KEY (collection, path)
);
"""


class ArticleFiles:
    """The file each article of `collection` was last stored from, by the file's full path."""

    def __init__(self, database: Database, collection: str) -> None:
        self.database = database
        self.collection = collection
        database.apply(_SCHEMA)

    def articles_of(self, paths: Iterable[str]) -> dict[str, str]:
        """`{path: article_id}` last stored from these files."""
        found: dict[str, str] = {}
        for marks, part in in_batches(list(dict.fromkeys(paths))):
            rows = self.database.rows(
                "SELECT path, article_id FROM article_files "
                f"WHERE collection = ? AND path IN ({marks})",
                (self.collection, *part),
            )
            found.update({str(path): str(article_id) for path, article_id in rows})
        return found

    def files_of(self, article_ids: Iterable[str]) -> dict[str, set[str]]:
        """`{article_id: paths}`: the files these articles were last stored from."""
        found: dict[str, set[str]] = {}
        for marks, part in in_batches(list(dict.fromkeys(article_ids))):
            rows = self.database.rows(
                "SELECT article_id, path FROM article_files "
                f"WHERE collection = ? AND article_id IN ({marks})",
                (self.collection, *part),
            )
            for article_id, path in rows:
                found.setdefault(str(article_id), set()).add(str(path))
        return found

    def stored_with_content(self, content_hashes: Iterable[str]) -> list[tuple[str, str, str]]:
        """`(content_hash, path, article_id)` of the stored articles with these content
        hashes (as the registry keeps them) that came from a file."""
        found: list[tuple[str, str, str]] = []
        for marks, part in in_batches(list(dict.fromkeys(content_hashes))):
            rows = self.database.rows(
                "SELECT a.content_hash, f.path, f.article_id FROM article_files f "
                "JOIN articles a ON a.collection = f.collection AND a.article_id = f.article_id "
                f"WHERE f.collection = ? AND a.content_hash IN ({marks})",
                (self.collection, *part),
            )
            found += [(str(h), str(p), str(i)) for h, p, i in rows]
        return found

    def record(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Remember that each `(path, article_id)`'s article was stored from that file."""
        with self.database.transaction() as db:
            db.executemany(
                "INSERT INTO article_files (collection, path, article_id) VALUES (?, ?, ?) "
                "ON CONFLICT (collection, path) DO UPDATE SET article_id = excluded.article_id",
                [(self.collection, path, article_id) for path, article_id in pairs],
            )
