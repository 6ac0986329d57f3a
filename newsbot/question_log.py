"""The question log in the deployment's database (`bot.web.answer_log.QuestionLog`): each
answer the web app gave, with its question, sources, `refused_by`, timings and the reader's vote.

Kept only with `NEWSBOT_LOG_QUESTIONS=true`, for `NEWSBOT_LOG_RETENTION_DAYS` (rows older are
deleted when the log opens, then at most every `PURGE_SECONDS` as it writes, and never read).
A server started with the log off still deletes what an earlier run kept past that age
(`purge_expired`), creating no table.
No address, cookie, session or user name is stored. Every replica sharing the database (a
PostgreSQL URL, or one machine's SQLite file) writes to the same table.

The answer path only queues a row (`record`); a thread of its own writes the queue in one
transaction per batch, so a reader never waits for a commit. A vote waits (at most
`FLUSH_SECONDS`) for the rows queued before it, so a vote sent right after its answer finds the
row; a process that exits waits as long for what it queued, never longer, so a database that
hangs cannot keep a server from stopping.

Text is stored as given except what a database cannot hold (NUL, lone surrogates), replaced by
U+FFFD: otherwise PostgreSQL refuses the row, and with it the batch of other readers' rows.
"""

from __future__ import annotations

import atexit
import json
import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Final

from bot.web.answer_log import FeedbackStored, LoggedAnswer, Vote
from vectorstore.database import Database

log = logging.getLogger(__name__)

DAY: Final = 86_400.0
PURGE_SECONDS: Final = 3600.0
"""How often the writer deletes rows past the retention (and once when the log opens)."""
MAX_QUEUED: Final = 10_000
"""Rows waiting for the writer beyond which new ones are dropped (a database that is down)."""
FLUSH_SECONDS: Final = 5.0
"""Longest a vote, a read or the process's exit waits for the rows queued before it."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS question_log (
    answer_id  TEXT PRIMARY KEY,
    asked_at   DOUBLE PRECISION NOT NULL,
    door       TEXT NOT NULL,
    question   TEXT NOT NULL,
    answer     TEXT NOT NULL,
    grounded   INTEGER NOT NULL,
    refused_by TEXT,
    sources    TEXT NOT NULL,
    timings    TEXT NOT NULL,
    vote       TEXT,
    comment    TEXT,
    voted_at   DOUBLE PRECISION
);
CREATE INDEX IF NOT EXISTS question_log_asked_at ON question_log (asked_at);
"""
_COLUMNS = (
    "answer_id, asked_at, door, question, answer, grounded, refused_by, sources, timings, "
    "vote, comment"
)


class DatabaseQuestionLog:
    """The question log in `database`, keeping rows `retention_days` days.

    Raises:
        StoreError: the table cannot be created.
    """

    def __init__(
        self,
        database: Database,
        retention_days: float = 30,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.database = database
        self.retention = retention_days * DAY
        self.clock = clock
        database.apply(_SCHEMA)
        self._queue: queue.Queue[LoggedAnswer] = queue.Queue(MAX_QUEUED)
        self._writer: threading.Thread | None = None
        self._start = threading.Lock()
        # Rows queued and rows written (or given up): a flush waits for the count queued when
        # it began, not for an empty queue, which a busy server may never have.
        self._queued = 0
        self._settled = 0
        self._progress = threading.Condition()
        self._purged = 0.0
        self.purge()
        atexit.register(self.flush)  # a stopping server writes what it queued

    def cutoff(self) -> float:
        """The oldest `asked_at` kept."""
        return self.clock() - self.retention

    # --- the answer path ------------------------------------------------------------------

    def record(self, answer: LoggedAnswer) -> None:
        """Queue `answer` for the writer thread (microseconds; never blocks)."""
        with self._progress:  # the count and the queue's order agree
            try:
                self._queue.put_nowait(answer)
            except queue.Full:
                log.warning(
                    "question log: %d rows unwritten, dropping %s",
                    self._queue.maxsize,
                    answer.answer_id,
                )
                return
            self._queued += 1
        if self._writer is None:
            with self._start:
                if self._writer is None:
                    self._writer = threading.Thread(
                        target=self._write_forever, name="question-log", daemon=True
                    )
                    self._writer.start()

    def flush(self, timeout: float = FLUSH_SECONDS) -> bool:
        """Wait until the rows queued so far are written (or given up), at most `timeout`
        seconds; False when they are not by then (a database that hangs)."""
        with self._progress:
            target = self._queued
            done = self._progress.wait_for(lambda: self._settled >= target, timeout)
        if not done:
            log.warning("question log: %d rows still unwritten", target - self._settled)
        return done

    def _write_forever(self) -> None:
        while True:
            batch = [self._queue.get()]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._write(batch)
            except Exception:  # a database that is down loses these rows, not the server
                log.exception("question log: could not write %d rows", len(batch))
            finally:
                with self._progress:
                    self._settled += len(batch)
                    self._progress.notify_all()

    def _write(self, batch: list[LoggedAnswer]) -> None:
        with self.database.transaction() as db:
            db.executemany(
                "INSERT INTO question_log (answer_id, asked_at, door, question, answer, "
                "grounded, refused_by, sources, timings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (answer_id) DO NOTHING",
                [
                    (
                        row.answer_id,
                        row.asked_at,
                        row.door,
                        storable(row.question),
                        storable(row.answer),
                        int(row.grounded),
                        row.refused_by,
                        storable(json.dumps(row.sources, ensure_ascii=False)),
                        json.dumps(row.timings),
                    )
                    for row in batch
                ],
            )
        if self.clock() - self._purged > PURGE_SECONDS:
            self.purge()

    def purge(self) -> int:
        """Delete the rows past the retention; how many."""
        self._purged = self.clock()
        return _delete_before(self.database, self.cutoff())

    # --- votes and reading ----------------------------------------------------------------

    def add_feedback(self, answer_id: str, vote: Vote, comment: str | None) -> FeedbackStored:
        """Store `vote` and `comment` on the answer, replacing any earlier ones (the last vote
        wins); whether that vote is new, the same again, or there is no such answer."""
        self.flush()
        kept = (self.clock(), answer_id, self.cutoff())
        text = storable(comment) if comment is not None else None
        with self.database.transaction() as db:
            # One statement per case, so two replicas storing the same vote at once count it
            # once: the row's lock orders them, and the second finds the vote already there.
            changed = db.execute(
                "UPDATE question_log SET vote = ?, comment = ?, voted_at = ? "
                "WHERE answer_id = ? AND asked_at >= ? AND (vote IS NULL OR vote <> ?)",
                (vote, text, *kept, vote),
            )
            if _rowcount(changed):
                return "new"
            same = db.execute(
                "UPDATE question_log SET comment = ?, voted_at = ? "
                "WHERE answer_id = ? AND asked_at >= ?",
                (text, *kept),
            )
        return "same" if _rowcount(same) else "missing"

    def withdraw_feedback(self, answer_id: str) -> bool:
        """Remove the answer's vote and comment; False when no such answer is kept."""
        self.flush()
        with self.database.transaction() as db:
            cursor = db.execute(
                "UPDATE question_log SET vote = NULL, comment = NULL, voted_at = NULL "
                "WHERE answer_id = ? AND asked_at >= ?",
                (answer_id, self.cutoff()),
            )
        return _rowcount(cursor) > 0

    def answers_since(self, since: float, newest: int | None = None) -> list[LoggedAnswer]:
        """The kept answers asked after `since` (seconds since the epoch), oldest first; only
        the `newest` ones when given (the database picks them: a busy week is not all read)."""
        self.flush()
        sql = f"SELECT {_COLUMNS} FROM question_log WHERE asked_at >= ? ORDER BY asked_at DESC"
        kept = max(since, self.cutoff())
        rows = self.database.rows(
            sql if newest is None else sql + " LIMIT ?",
            (kept,) if newest is None else (kept, newest),
        )
        return [_answer(row) for row in reversed(rows)]

    def votes(self, answer_ids: Sequence[str]) -> dict[str, Vote]:
        """The votes kept on those of `answer_ids` that have one."""
        if not answer_ids:
            return {}
        places = ", ".join("?" * len(answer_ids))
        rows = self.database.rows(
            f"SELECT answer_id, vote FROM question_log WHERE answer_id IN ({places}) "
            "AND vote IS NOT NULL AND asked_at >= ?",
            (*answer_ids, self.cutoff()),
        )
        return {str(answer_id): vote for answer_id, vote in rows}

    def count(self) -> int:
        self.flush()
        return int(self.database.rows("SELECT COUNT(*) FROM question_log")[0][0])


def open_question_log(
    database: Database, on: bool, retention_days: float
) -> DatabaseQuestionLog | None:
    """The log in `database` when `on` (`NEWSBOT_LOG_QUESTIONS`); when off, none, after deleting
    what an earlier run kept past the retention, which holds either way."""
    if on:
        return DatabaseQuestionLog(database, retention_days)
    purge_expired(database, retention_days)
    return None


def purge_expired(
    database: Database, retention_days: float, clock: Callable[[], float] = time.time
) -> int:
    """With the log off: delete the rows an earlier run kept that are past `retention_days`
    (the retention holds whether the log is on or not); how many. Creates no table."""
    exists = (
        "SELECT to_regclass('question_log') IS NOT NULL"
        if database.kind == "postgresql"
        else "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'question_log'"
    )
    if not database.rows(exists)[0][0]:
        return 0
    return _delete_before(database, clock() - retention_days * DAY)


def _delete_before(database: Database, cutoff: float) -> int:
    with database.transaction() as db:
        cursor = db.execute("DELETE FROM question_log WHERE asked_at < ?", (cutoff,))
    removed = _rowcount(cursor)
    if removed > 0:
        log.info("question log: %d rows past the retention deleted", removed)
    return removed


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """`text` with what no database column holds (NUL, lone surrogates) as U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", text)


def _rowcount(cursor: Any) -> int:
    return int(getattr(cursor, "rowcount", 0) or 0)


def _answer(row: tuple[Any, ...]) -> LoggedAnswer:
    return LoggedAnswer(
        answer_id=row[0],
        asked_at=float(row[1]),
        door=row[2],
        question=row[3],
        answer=row[4],
        grounded=bool(row[5]),
        refused_by=row[6],
        sources=json.loads(row[7]),
        timings=json.loads(row[8]),
        vote=row[9],
        comment=row[10],
    )
