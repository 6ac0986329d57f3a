"""A PostgreSQL database shared by every machine of a deployment (`NEWSBOT_DATABASE_URL`).

Through psycopg 3. One connection per process for reads and writes (guarded by a thread lock, like
the SQLite file), reopened once when the server dropped it; a writer lock opens a connection of
its own while it is held, since a PostgreSQL advisory lock belongs to the session that took it.
The server releases a session's advisory locks when its connection ends, `kill -9` of the process
included, so a crashed ingest worker never blocks the others.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from newsbot.errors import StoreError
from vectorstore.locks import ReentrantLock, one_per_process, waiting

if TYPE_CHECKING:
    import psycopg

logger = logging.getLogger(__name__)

_SCHEMA_LOCK = "newsbot.schema"


def redact(url: str) -> str:
    """`url` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def _placeholders(sql: str) -> str:
    # Statements are written with `?` (sqlite3's style); psycopg wants `%s`, and a literal `%`
    # doubled. newsbot's statements carry no `?` or `%` inside string literals.
    return re.sub(r"\?", "%s", sql.replace("%", "%%"))


def _connect(url: str) -> psycopg.Connection[tuple[Any, ...]]:
    try:
        import psycopg
    except ImportError as exc:
        raise StoreError(
            "NEWSBOT_DATABASE_URL needs the PostgreSQL driver: pip install 'psycopg[binary]' (the "
            "postgres extra of newsbot)"
        ) from exc
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise StoreError(
            f"Cannot reach the database at {redact(url)} ({' '.join(str(exc).split())}): check "
            "that PostgreSQL is running and NEWSBOT_DATABASE_URL is right"
        ) from exc


class _Cursor:
    """The `Transaction` of one PostgreSQL transaction: `?` statements, as in SQLite."""

    def __init__(self, connection: psycopg.Connection[tuple[Any, ...]]) -> None:
        self._connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._connection.execute(_placeholders(sql), params)

    def executemany(self, sql: str, seq_of_params: Any) -> Any:
        cursor = self._connection.cursor()
        cursor.executemany(_placeholders(sql), seq_of_params)
        return cursor


class PostgresDatabase:
    """The `vectorstore.database.Database` at a PostgreSQL URL.

    Raises:
        StoreError: the server cannot be reached, or the driver is not installed.
    """

    kind: Literal["sqlite", "postgresql"] = "postgresql"
    greatest = "GREATEST"
    like = "ILIKE"
    fold = "lower"

    def __init__(self, url: str) -> None:
        self.url = url
        self.where = redact(url)
        self._lock = threading.Lock()
        self._connection = _connect(url)

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def _alive(self) -> psycopg.Connection[tuple[Any, ...]]:
        if self._connection.closed:
            logger.warning("Reconnecting to %s", self.where)
            self._connection = _connect(self.url)
        return self._connection

    def apply(self, schema: str) -> None:
        # Two processes creating the same table at once collide in PostgreSQL's catalog: one
        # at a time, under a transaction-scoped advisory lock.
        import psycopg

        try:
            with self.transaction() as tx:
                tx.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", (_SCHEMA_LOCK,))
                for statement in filter(str.strip, schema.split(";")):
                    tx.execute(statement)
        except psycopg.Error as exc:
            raise StoreError(
                f"Cannot create newsbot's tables in {self.where} ({' '.join(str(exc).split())}): "
                "the database user needs the right to create tables in its schema"
            ) from exc

    @contextmanager
    def transaction(self) -> Iterator[_Cursor]:
        import psycopg

        with self._lock:
            connection = self._alive()
            try:
                with connection.transaction():
                    yield _Cursor(connection)
            except psycopg.OperationalError as exc:
                raise StoreError(f"The database at {self.where} failed ({exc})") from exc

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        import psycopg

        with self._lock:
            for attempt in (1, 2):
                try:
                    return self._alive().execute(_placeholders(sql), params).fetchall()
                except psycopg.OperationalError as exc:
                    if attempt == 2 or not self._connection.closed:
                        raise StoreError(f"The database at {self.where} failed ({exc})") from exc
            raise AssertionError("unreachable")

    def lock(self, name: str) -> AdvisoryLock:
        return AdvisoryLock.at(self.url, name)


class AdvisoryLock(ReentrantLock):
    """A PostgreSQL advisory lock named `name` (`vectorstore.locks.ReentrantLock`): exclusive or
    shared across processes and machines. Use `AdvisoryLock.at`, one per name per process."""

    def __init__(self, url: str, name: str) -> None:
        super().__init__()
        self.url = url
        self.name = name
        self._connection: psycopg.Connection[tuple[Any, ...]] | None = None

    @classmethod
    def at(cls, url: str, name: str) -> AdvisoryLock:
        return one_per_process(cls, (url, name), url, name)

    def _acquire(self, shared: bool, purpose: str, wait: bool = True) -> bool:
        self._connection = _connect(self.url)
        kind = "_shared" if shared else ""
        key = "hashtextextended(%s, 0)"
        got = self._connection.execute(
            f"SELECT pg_try_advisory_lock{kind}({key})", (self.name,)
        ).fetchone()
        if not (got and got[0]):
            if not wait:
                connection, self._connection = self._connection, None
                connection.close()
                return False
            waiting(purpose, self.name)
            self._connection.execute(f"SELECT pg_advisory_lock{kind}({key})", (self.name,))
        return True

    def _release(self) -> None:
        # Closing the session releases its advisory locks; the next hold opens a new one (a few
        # milliseconds, once per ingest batch), so no connection idles between writes.
        assert self._connection is not None
        connection, self._connection = self._connection, None
        connection.close()
