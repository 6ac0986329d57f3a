"""Followed sources (feeds and sitemaps), the entries seen in each, and who polls which: rows in
the deployment's `Database`, so every replica sharing it sees the same list.

A source is polled by one process at a time: `claim` takes its lease (an owner and an expiry)
only when nobody holds an unexpired one, in one UPDATE that the database serialises; `finish`
records the poll and gives the lease back. A poller killed mid-poll never gives it back: its
lease runs out and the next process to look takes the source over. The entries table remembers
each entry by its key (guid or link), the article stored for it and whether its page is still to
be read, so a poll stores only what is new and an article pruned from the store does not come
back while its entry is still in the feed. Times are Unix seconds (`time.time()`): replicas share
them, so their clocks must agree to within a few seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from vectorstore.database import Database, in_batches

FullText = Literal["auto", "on", "off"]
EntryState = Literal["stored", "retry", "gave_up"]
"""`stored`: the article holds what there is to read; `retry`: its page could not be read yet
(stored from the feed's text, or not at all); `gave_up`: the page was tried enough times."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS followed_sources (
    collection    TEXT NOT NULL,
    url           TEXT NOT NULL,
    kind          TEXT NOT NULL,
    every_seconds DOUBLE PRECISION NOT NULL,
    full_text     TEXT NOT NULL,
    added_at      DOUBLE PRECISION NOT NULL,
    etag          TEXT,
    last_modified TEXT,
    last_check    DOUBLE PRECISION,
    last_new      DOUBLE PRECISION,
    next_check    DOUBLE PRECISION NOT NULL,
    failures      INTEGER NOT NULL,
    last_error    TEXT,
    lease_owner   TEXT,
    lease_until   DOUBLE PRECISION,
    PRIMARY KEY (collection, url)
);
CREATE TABLE IF NOT EXISTS followed_entries (
    collection TEXT NOT NULL,
    source_url TEXT NOT NULL,
    entry_key  TEXT NOT NULL,
    article_id TEXT NOT NULL,
    link       TEXT NOT NULL,
    state      TEXT NOT NULL,
    tries      INTEGER NOT NULL,
    seen_at    DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (collection, source_url, entry_key)
);
CREATE INDEX IF NOT EXISTS followed_entries_state
    ON followed_entries (collection, source_url, state);
CREATE TABLE IF NOT EXISTS followed_entry_details (
    collection TEXT NOT NULL,
    source_url TEXT NOT NULL,
    entry_key  TEXT NOT NULL,
    title      TEXT NOT NULL,
    published  TEXT,
    source     TEXT NOT NULL,
    PRIMARY KEY (collection, source_url, entry_key)
);
"""
# `followed_entry_details`: what a feed or sitemap says of an entry whose page is still to be read
# (title, date, source), kept until the page is: with no feed text stored, nothing else holds it
# (after a 304, not even the feed). A table of its own, so stores made before it need no change.
_COLUMNS = (
    "url, kind, every_seconds, full_text, added_at, etag, last_modified, last_check, last_new, "
    "next_check, failures, last_error, lease_owner, lease_until"
)
DAY = 86_400.0


@dataclass(frozen=True)
class FollowedSource:
    """One followed feed or sitemap as stored; `kind` is "unknown" until its first fetch."""

    url: str
    kind: str
    every_seconds: float
    full_text: FullText
    added_at: float
    etag: str | None = None
    last_modified: str | None = None
    last_check: float | None = None
    last_new: float | None = None
    next_check: float = 0.0
    failures: int = 0
    last_error: str | None = None
    lease_owner: str | None = None
    lease_until: float | None = None


@dataclass(frozen=True)
class SeenEntry:
    """An entry of a source already handled: its article (`""`: none stored) and state."""

    key: str
    article_id: str
    link: str
    state: EntryState
    tries: int
    title: str = ""
    published: str | None = None
    source: str = ""
    """What the feed or sitemap said of the entry (kept while its page is to be read)."""


@dataclass(frozen=True)
class PollOutcome:
    """What one poll found, for `FollowedSources.finish`."""

    checked_at: float
    next_check: float
    failures: int
    error: str | None = None
    new_articles: int = 0
    kind: str | None = None
    etag: str | None = None
    last_modified: str | None = None


def _iso_second(moment: float) -> str:
    """A Unix time as the registry writes `ingested_at` (UTC, to the second, rounded down)."""
    return datetime.fromtimestamp(int(moment), UTC).isoformat(timespec="seconds")


class FollowedSources:
    """The followed sources of one collection in `database` (safe across threads and processes).

    Raises:
        StoreError: the tables cannot be created.
    """

    def __init__(self, database: Database, collection: str) -> None:
        self.database = database
        self.collection = collection
        database.apply(_SCHEMA)

    def _rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        return self.database.rows(sql, (self.collection, *params))

    # --- the list ----------------------------------------------------------------------------

    def add(self, url: str, every_seconds: float, full_text: FullText, now: float) -> bool:
        """Follow `url` (first check at once); an already followed url gets the new interval
        and full-text choice. True when it was not followed before."""
        with self.database.transaction() as db:
            cursor = db.execute(
                "UPDATE followed_sources SET every_seconds = ?, full_text = ?, next_check = ? "
                "WHERE collection = ? AND url = ?",
                (every_seconds, full_text, now, self.collection, url),
            )
            if int(cursor.rowcount) > 0:
                return False
            db.execute(
                "INSERT INTO followed_sources (collection, url, kind, every_seconds, full_text, "
                "added_at, next_check, failures) VALUES (?, ?, 'unknown', ?, ?, ?, ?, 0)",
                (self.collection, url, every_seconds, full_text, now, now),
            )
            return True

    def remove(self, url: str) -> bool:
        """Stop following `url` and forget its entries (its stored articles stay)."""
        with self.database.transaction() as db:
            for table in ("followed_entries", "followed_entry_details"):
                db.execute(
                    f"DELETE FROM {table} WHERE collection = ? AND source_url = ?",
                    (self.collection, url),
                )
            cursor = db.execute(
                "DELETE FROM followed_sources WHERE collection = ? AND url = ?",
                (self.collection, url),
            )
            return int(cursor.rowcount) > 0

    def get(self, url: str) -> FollowedSource | None:
        rows = self._rows(
            f"SELECT {_COLUMNS} FROM followed_sources WHERE collection = ? AND url = ?", (url,)
        )
        return FollowedSource(*rows[0]) if rows else None

    def all(self) -> list[FollowedSource]:
        """Every followed source, in the order they were added."""
        rows = self._rows(
            f"SELECT {_COLUMNS} FROM followed_sources WHERE collection = ? ORDER BY added_at, url"
        )
        return [FollowedSource(*row) for row in rows]

    def due(self, now: float) -> list[FollowedSource]:
        """The sources whose check is due and that nobody holds, the longest waiting first."""
        rows = self._rows(
            f"SELECT {_COLUMNS} FROM followed_sources WHERE collection = ? AND next_check <= ? "
            "AND (lease_until IS NULL OR lease_until < ?) ORDER BY next_check",
            (now, now),
        )
        return [FollowedSource(*row) for row in rows]

    def next_due(self) -> float | None:
        """When the next source falls due and free: its next check, or when another process's
        lease on it runs out if that is later. None when no source is followed."""
        rows = self._rows(
            "SELECT next_check, lease_until FROM followed_sources WHERE collection = ?"
        )
        if not rows:
            return None
        return min(max(float(check), float(until or 0.0)) for check, until in rows)

    # --- the lease ---------------------------------------------------------------------------

    def claim(self, url: str, owner: str, now: float, seconds: float) -> bool:
        """Take (or renew) the lease on `url` until `now + seconds`: True when `owner` holds it.

        One UPDATE whose condition the database re-checks under the row's write lock, so of two
        processes claiming at once exactly one succeeds.
        """
        with self.database.transaction() as db:
            cursor = db.execute(
                "UPDATE followed_sources SET lease_owner = ?, lease_until = ? "
                "WHERE collection = ? AND url = ? "
                "AND (lease_owner IS NULL OR lease_until < ? OR lease_owner = ?)",
                (owner, now + seconds, self.collection, url, now, owner),
            )
            return int(cursor.rowcount) > 0

    def finish(self, url: str, owner: str, outcome: PollOutcome) -> None:
        """Record a poll of `url` and give back `owner`'s lease (validators kept when the poll
        brought none, as a 304 or a failure does)."""
        with self.database.transaction() as db:
            db.execute(
                "UPDATE followed_sources SET last_check = ?, next_check = ?, failures = ?, "
                "last_error = ?, kind = COALESCE(?, kind), etag = COALESCE(?, etag), "
                "last_modified = COALESCE(?, last_modified), "
                "last_new = CASE WHEN ? > 0 THEN ? ELSE last_new END, "
                "lease_owner = CASE WHEN lease_owner = ? THEN NULL ELSE lease_owner END, "
                "lease_until = CASE WHEN lease_owner = ? THEN NULL ELSE lease_until END "
                "WHERE collection = ? AND url = ?",
                (
                    outcome.checked_at,
                    outcome.next_check,
                    outcome.failures,
                    outcome.error,
                    outcome.kind,
                    outcome.etag,
                    outcome.last_modified,
                    outcome.new_articles,
                    outcome.checked_at,
                    owner,
                    owner,
                    self.collection,
                    url,
                ),
            )

    def release(self, url: str, owner: str) -> None:
        """Give back `owner`'s lease on `url` without recording a check (a poll cut short)."""
        with self.database.transaction() as db:
            db.execute(
                "UPDATE followed_sources SET lease_owner = NULL, lease_until = NULL "
                "WHERE collection = ? AND url = ? AND lease_owner = ?",
                (self.collection, url, owner),
            )

    # --- entries -----------------------------------------------------------------------------

    def seen(self, url: str, keys: Iterable[str]) -> dict[str, SeenEntry]:
        """The entries of `url` among `keys` that were handled before."""
        found: dict[str, SeenEntry] = {}
        for marks, part in in_batches(list(dict.fromkeys(keys))):
            for key, article_id, link, state, tries in self._rows(
                "SELECT entry_key, article_id, link, state, tries FROM followed_entries "
                f"WHERE collection = ? AND source_url = ? AND entry_key IN ({marks})",
                (url, *part),
            ):
                found[str(key)] = SeenEntry(str(key), str(article_id), str(link), state, int(tries))
        return found

    def to_retry(self, url: str) -> list[SeenEntry]:
        """The entries of `url` whose page is still to be read."""
        rows = self._rows(
            "SELECT e.entry_key, e.article_id, e.link, e.state, e.tries, d.title, d.published, "
            "d.source FROM followed_entries e LEFT JOIN followed_entry_details d "
            "ON d.collection = e.collection AND d.source_url = e.source_url "
            "AND d.entry_key = e.entry_key "
            "WHERE e.collection = ? AND e.source_url = ? AND e.state = 'retry' ORDER BY e.seen_at",
            (url,),
        )
        return [
            SeenEntry(str(k), str(a), str(li), s, int(t), title or "", published, source or "")
            for k, a, li, s, t, title, published, source in rows
        ]

    def record(self, url: str, entries: Sequence[SeenEntry], now: float) -> None:
        """Remember `entries` of `url` (first sight keeps its time; state and tries move on)."""
        with self.database.transaction() as db:
            db.executemany(
                "INSERT INTO followed_entries (collection, source_url, entry_key, article_id, "
                "link, state, tries, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (collection, source_url, entry_key) DO UPDATE SET "
                "article_id = excluded.article_id, state = excluded.state, "
                "tries = excluded.tries",
                [
                    (self.collection, url, e.key, e.article_id, e.link, e.state, e.tries, now)
                    for e in entries
                ],
            )
            waiting = [e for e in entries if e.state == "retry"]
            db.executemany(
                "INSERT INTO followed_entry_details (collection, source_url, entry_key, title, "
                "published, source) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (collection, source_url, entry_key) DO UPDATE SET "
                "title = excluded.title, published = excluded.published, "
                "source = excluded.source",
                [(self.collection, url, e.key, e.title, e.published, e.source) for e in waiting],
            )
            db.executemany(
                "DELETE FROM followed_entry_details "
                "WHERE collection = ? AND source_url = ? AND entry_key = ?",
                [(self.collection, url, e.key) for e in entries if e.state != "retry"],
            )

    def added_since(self, url: str, since: float) -> int:
        """Articles that `url`'s entries first seen after `since` stored or updated: written
        when the entry was first read, not before (a story stored from a file or by another
        feed is seen, not added) and still stored. (The registry shares this database.)"""
        rows = self._rows(
            "SELECT e.article_id, e.seen_at, a.ingested_at FROM followed_entries e "
            "JOIN articles a ON a.collection = e.collection AND a.article_id = e.article_id "
            "WHERE e.collection = ? AND e.source_url = ? AND e.seen_at > ?",
            (url, since),
        )
        return len(
            {
                article_id
                for article_id, seen_at, ingested_at in rows
                if str(ingested_at) >= _iso_second(float(seen_at))
            }
        )
