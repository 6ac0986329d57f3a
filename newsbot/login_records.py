"""Web sign-in sessions and failed sign-ins in the deployment's database (`bot.web.auth`'s
`LoginRecords`), so that every `newsbot serve` replica sharing it honours a sign-in made on another
and counts the same failures; with the SQLite file of one machine, sign-ins also outlive a restart.
"""

from __future__ import annotations

import time

from bot.web.auth import LOGIN_WINDOW_SECONDS
from vectorstore.database import Database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS web_sessions (
    session_key TEXT PRIMARY KEY,
    expires     DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS web_login_failures (
    client TEXT NOT NULL,
    kind   TEXT NOT NULL,
    at     DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS web_login_failures_client ON web_login_failures (client, kind, at);
"""


class DatabaseLoginRecords:
    """`LoginRecords` in `database` (the registry's: a SQLite file, or PostgreSQL)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        database.apply(_SCHEMA)

    def add_session(self, key: str, expires: float) -> None:
        with self.database.transaction() as db:
            db.execute("DELETE FROM web_sessions WHERE expires < ?", (time.time(),))
            db.execute(
                "INSERT INTO web_sessions (session_key, expires) VALUES (?, ?) "
                "ON CONFLICT (session_key) DO UPDATE SET expires = excluded.expires",
                (key, expires),
            )

    def session_expires(self, key: str) -> float | None:
        rows = self.database.rows("SELECT expires FROM web_sessions WHERE session_key = ?", (key,))
        return float(rows[0][0]) if rows else None

    def end_session(self, key: str) -> None:
        with self.database.transaction() as db:
            db.execute("DELETE FROM web_sessions WHERE session_key = ?", (key,))

    def add_failure(self, client: str, kind: str, at: float) -> None:
        with self.database.transaction() as db:
            db.execute("DELETE FROM web_login_failures WHERE at < ?", (at - LOGIN_WINDOW_SECONDS,))
            db.execute(
                "INSERT INTO web_login_failures (client, kind, at) VALUES (?, ?, ?)",
                (client, kind, at),
            )

    def failures_since(self, client: str, kind: str, since: float) -> list[float]:
        rows = self.database.rows(
            "SELECT at FROM web_login_failures WHERE client = ? AND kind = ? AND at > ? "
            "ORDER BY at",
            (client, kind, since),
        )
        return [float(row[0]) for row in rows]
