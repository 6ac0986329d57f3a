"""Where newsbot keeps the rows that decide what is stored: the article registry, the keyword
index and the ingest lock (docs/ARCHITECTURE.md, "Where the rows live").

Two kinds, one interface (`Database`): `SQLiteFile`, a file in the data dir that the processes of
one machine share (WAL mode, lock files beside it), and `vectorstore.postgres.PostgresDatabase`
(`NEWSBOT_DATABASE_URL`), which every machine of a deployment shares. Statements are written once,
with `?` placeholders; `greatest` and `like` name the two spellings that differ.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Final, Literal, Protocol

from newsbot.errors import StoreError
from vectorstore.locks import FileLock, ReentrantLock

REGISTRY_FILE: Final = "registry.sqlite3"
MAX_VARIABLES: Final = 900  # below SQLite's default limit of parameters per statement


def in_batches(ids: list[str]) -> Iterator[tuple[str, list[str]]]:
    """`ids` in parts one statement takes as parameters, each with its `?,?,...`."""
    for start in range(0, len(ids), MAX_VARIABLES):
        part = ids[start : start + MAX_VARIABLES]
        yield ",".join("?" * len(part)), part


class Transaction(Protocol):
    """The statements of one write transaction (`?` placeholders)."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Any: ...

    def executemany(self, sql: str, seq_of_params: Iterable[Sequence[Any]], /) -> Any: ...


class Database(Protocol):
    """The rows of the registry and the keyword index, and the locks that order their writers."""

    kind: Literal["sqlite", "postgresql"]
    where: str
    """Where the rows are, for messages (a path, or the URL without its password)."""
    greatest: str
    """The SQL function of the larger of two values (`MAX` in SQLite, `GREATEST` elsewhere)."""
    like: str
    """Case-insensitive LIKE (`LIKE` in SQLite, `ILIKE` in PostgreSQL), of text put through
    `fold` on both sides."""
    fold: str
    """The SQL function that folds case beyond ASCII, which SQLite's LIKE does not (`casefold`,
    registered here; `lower` in PostgreSQL)."""

    def apply(self, schema: str) -> None:
        """Create the tables and indexes of `schema` (statements separated by `;`) if missing."""

    def transaction(self) -> AbstractContextManager[Transaction]:
        """A write transaction: committed when the block ends, rolled back when it raises."""

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """The rows of one read."""

    def lock(self, name: str) -> ReentrantLock:
        """The lock called `name`, shared by every process that uses this database."""

    def close(self) -> None: ...


def open_database(
    data_dir: Path,
    chroma_host: str | None = None,
    chroma_port: int | None = None,
    url: str | None = None,
) -> Database:
    """The database of a deployment: PostgreSQL at `url`, else a SQLite file in `data_dir`
    (`registry.sqlite3`, or one file per Chroma server so two servers' rows never mix).

    Raises:
        StoreError: the database cannot be opened or reached.
    """
    if url:
        from vectorstore.postgres import PostgresDatabase

        return PostgresDatabase(url)
    if chroma_host is None:
        return SQLiteFile(data_dir / REGISTRY_FILE)
    server = f"{chroma_host}-{chroma_port}" if chroma_port else chroma_host
    return SQLiteFile(data_dir / f"registry-{re.sub(r'[^A-Za-z0-9.-]+', '_', server)}.sqlite3")


class SQLiteFile:
    """The SQLite file at `path`, shared by threads (one connection, guarded by a lock) and
    processes (WAL mode, a busy timeout, write transactions that take the write lock up front).

    Raises:
        StoreError: the file cannot be opened (the data dir is not writable, or it is not SQLite).
    """

    kind: Literal["sqlite", "postgresql"] = "sqlite"
    greatest = "MAX"
    like = "LIKE"
    fold = "casefold"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)
        self._lock = threading.Lock()
        self._file_locks: set[FileLock] = set()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self.db.create_function("casefold", 1, _casefold, deterministic=True)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA busy_timeout=10000")
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"Cannot open {path} ({exc}): check that the data dir is writable, or delete the "
                "file to rebuild it by re-ingesting"
            ) from exc

    def apply(self, schema: str) -> None:
        try:
            with self._lock:
                self.db.executescript(schema)
        except sqlite3.Error as exc:
            raise StoreError(
                f"Cannot create newsbot's tables in {self.path} ({exc}): check that the data dir "
                "is writable and this Python's SQLite has FTS5, or delete the file to rebuild it "
                "by re-ingesting"
            ) from exc

    def close(self) -> None:
        """Close the connection, and the lock files it handed out while no one holds them."""
        with self._lock:
            self.db.close()
        for lock in list(self._file_locks):
            lock.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE: other writers wait, readers go on)."""
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self.db.execute(sql, params).fetchall()

    def lock(self, name: str) -> FileLock:
        """A lock file beside the database (`registry.<name>.lock`): the kernel drops it when its
        process dies, so a crashed writer never leaves it behind."""
        lock = FileLock.at(self.path.with_name(f"{self.path.stem}.{name}.lock"))
        self._file_locks.add(lock)
        return lock


def _casefold(value: str | None) -> str | None:
    return value.casefold() if isinstance(value, str) else value
