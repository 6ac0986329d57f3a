"""Where newsbot keeps the rows that decide what is stored: the article registry, the keyword
index and the ingest lock.

Two kinds, one interface (`Database`):

- **A SQLite file in the data dir** (`vectorstore.sqlite_file`): zero setup, for the embedded store
  and for a Chroma server used from one machine. Processes of one machine share it (WAL mode) and
  order their writes with a lock file beside it.
- **A PostgreSQL database** (`vectorstore.postgres`, `NEWSBOT_DATABASE_URL`): for more than one
  machine. Every replica and ingest worker reads and writes the same rows, and the ingest lock is a
  PostgreSQL advisory lock, so it orders writers on every machine and is released by the server
  when a writer dies.

Statements are written once, with `?` placeholders; `greatest` and `like` name the two spellings
that differ between the engines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Literal, Protocol

REGISTRY_FILE = "registry.sqlite3"


class Transaction(Protocol):
    """The statements of one write transaction (`?` placeholders)."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Any: ...

    def executemany(self, sql: str, seq_of_params: Iterable[Sequence[Any]], /) -> Any: ...


class WriterLock(Protocol):
    """A lock every process that writes the same rows takes (re-entrant for its thread)."""

    def hold(
        self, *, shared: bool = False, purpose: str = "write", wait: bool = True
    ) -> AbstractContextManager[bool]:
        """Held for the `with` block (True); with `wait=False`, False at once when another
        thread or process has it."""
        ...


class Database(Protocol):
    """The rows of the registry and the keyword index, and the locks that order their writers."""

    kind: Literal["sqlite", "postgresql"]
    where: str
    """Where the rows are, for messages (a path, or the URL without its password)."""
    greatest: str
    """The SQL function of the larger of two values (`MAX` in SQLite, `GREATEST` elsewhere)."""
    like: str
    """Case-insensitive LIKE (`LIKE` in SQLite, `ILIKE` in PostgreSQL)."""

    def apply(self, schema: str) -> None:
        """Create the tables and indexes of `schema` (statements separated by `;`) if missing."""

    def transaction(self) -> AbstractContextManager[Transaction]:
        """A write transaction: committed when the block ends, rolled back when it raises."""

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """The rows of one read."""

    def lock(self, name: str) -> WriterLock:
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
    from vectorstore.sqlite_file import SQLiteFile

    if chroma_host is None:
        return SQLiteFile(data_dir / REGISTRY_FILE)
    server = f"{chroma_host}-{chroma_port}" if chroma_port else chroma_host
    return SQLiteFile(data_dir / f"registry-{re.sub(r'[^A-Za-z0-9.-]+', '_', server)}.sqlite3")
