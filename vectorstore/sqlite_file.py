"""A SQLite file shared by threads and processes: WAL mode, a busy timeout, one connection per
object guarded by a lock, write transactions that take the write lock up front, and lock files
beside it for the writers of every process (see `vectorstore.database`).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from newsbot.errors import StoreError
from vectorstore.locks import FileLock


class SQLiteFile:
    """A connection to the SQLite file at `path`.

    Raises:
        StoreError: the file cannot be opened (the data dir is not writable, or it is not SQLite).
    """

    kind: Literal["sqlite", "postgresql"] = "sqlite"
    greatest = "MAX"
    like = "LIKE"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA busy_timeout=10000")
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"Cannot open {path} ({exc}): check that the data dir is writable, or delete the "
                "file to rebuild it by re-ingesting"
            ) from exc

    def apply(self, schema: str) -> None:
        with self._lock:
            self.db.executescript(schema)

    def close(self) -> None:
        with self._lock:
            self.db.close()

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
        return FileLock.at(self.path.with_name(f"{self.path.stem}.{name}.lock"))
