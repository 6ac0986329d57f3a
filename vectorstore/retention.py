"""Retention: old articles leave the store (Chroma, the registry and the keyword index together),
pinned ones stay.

`prune` removes each article through `NewsStore.delete_article`, the one delete path, which marks
the article's row pending before it removes the chunks and the row last: a prune killed midway
leaves rows that are still old (pending or not), so the next prune finds and finishes them. Pins
are rows of their own (`article_pins`) in the registry's database, shared by every replica.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from vectorstore.database import Database

if TYPE_CHECKING:
    from vectorstore.store import NewsStore

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS article_pins (
    collection TEXT NOT NULL,
    article_id TEXT NOT NULL,
    pinned_at  DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (collection, article_id)
);
"""


class Pins:
    """The pinned articles of one collection: kept whatever their age."""

    def __init__(self, database: Database, collection: str) -> None:
        self.database = database
        self.collection = collection
        database.apply(_SCHEMA)

    def pin(self, article_id: str) -> bool:
        """Pin an article; False when it was pinned already."""
        with self.database.transaction() as db:
            cursor = db.execute(
                "INSERT INTO article_pins (collection, article_id, pinned_at) VALUES (?, ?, ?) "
                "ON CONFLICT (collection, article_id) DO NOTHING",
                (self.collection, article_id, time.time()),
            )
            return int(cursor.rowcount) > 0

    def unpin(self, article_id: str) -> bool:
        """Unpin an article; False when it was not pinned."""
        with self.database.transaction() as db:
            cursor = db.execute(
                "DELETE FROM article_pins WHERE collection = ? AND article_id = ?",
                (self.collection, article_id),
            )
            return int(cursor.rowcount) > 0

    def carry_over(self, replaced: dict[str, str]) -> None:
        """Move the pins of replaced articles (`{old id: new id}`) to what replaced them: a
        renamed file's article must stay pinned under its new id."""
        for old in self.pinned() & set(replaced) if replaced else ():
            self.pin(replaced[old])
            self.unpin(old)

    def pinned(self) -> set[str]:
        rows = self.database.rows(
            "SELECT article_id FROM article_pins WHERE collection = ?", (self.collection,)
        )
        return {str(row[0]) for row in rows}


def cutoff_day(older_than_seconds: float, now: datetime | None = None) -> str:
    """The first day kept (YYYY-MM-DD) when articles older than `older_than_seconds` go; an age
    reaching back before year 1 keeps everything."""
    try:
        moment = (now or datetime.now(UTC)) - timedelta(seconds=older_than_seconds)
    except OverflowError:
        return date.min.isoformat()
    return moment.date().isoformat()


def prune(
    store: NewsStore,
    pins: Pins,
    keep_from: date | str,
    progress: Callable[[int, int], None] | None = None,
) -> list[str]:
    """Remove the articles published before `keep_from` (undated: stored before it), except the
    pinned ones, from every store; returns their ids. Safe to run again after a crash.

    `progress` is called with (removed, total) after each article.
    """
    day = keep_from if isinstance(keep_from, str) else keep_from.isoformat()
    keep = pins.pinned()
    old = [a for a in store.registry.dated_before(day) if a not in keep]
    for done, article_id in enumerate(old, start=1):
        store.delete_article(article_id)
        if progress is not None:
            progress(done, len(old))
    if old:
        logger.info("Pruned %d article(s) published before %s", len(old), day)
    return old
