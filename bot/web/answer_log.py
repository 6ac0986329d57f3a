"""What the web app keeps of each answer: its id, the question log's row, readers' votes, metrics.

Every web answer (`/api/ask`, `/api/ask/stream`, the chat, the widget) gets an answer id and
passes through `AnswerRecorder.watch`, which counts it (`bot.web.metrics`) and, when the
deployment keeps a question log (`NEWSBOT_LOG_QUESTIONS=true`), hands its `LoggedAnswer` to the
log: the question, the answer, its sources, `refused_by` and timings; no address, cookie or
session. A vote (`POST /api/feedback`, the chat's thumbs) is stored on that row. With no log
nothing is stored: the id is still given (clients need not care), and a vote is refused with
`FeedbackOff`.

The log itself is `newsbot.question_log` (the deployment's database); `bot/` sees only the
`QuestionLog` shape.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from bot.answer.events import AnswerDone, AnswerEvent
from bot.answer.result import AnswerResult
from bot.web.metrics import AnswerMetrics
from bot.web.stopping import answer_stopped
from newsbot.errors import NewsbotError

log = logging.getLogger(__name__)

Vote = Literal["up", "down"]
Door = Literal["api", "stream", "chat", "widget"]
MAX_COMMENT_CHARS = 500
"""The longest feedback comment kept (a sentence or two; longer ones are refused, not cut)."""
ANSWER_ID_CHARS = 32
"""An answer id: a random UUID's 32 hex digits."""
ANSWER_ID = re.compile(f"[0-9a-f]{{{ANSWER_ID_CHARS}}}")
FeedbackStored = Literal["new", "same", "missing"]
"""What storing a vote did: a new vote (the answer's first, or a changed one), the vote the
answer had (its comment replaced), or nothing (no such answer in the log)."""


class FeedbackOff(Exception):
    """This deployment keeps no question log, so it keeps no votes either."""

    def __init__(self) -> None:
        super().__init__(
            "Feedback is not stored on this server: its question log is off "
            "(NEWSBOT_LOG_QUESTIONS); nothing was kept"
        )


@dataclass(frozen=True)
class LoggedAnswer:
    """One question and its answer, as the question log keeps them (no reader's identity)."""

    answer_id: str
    asked_at: float
    """Seconds since the epoch."""
    door: str
    question: str
    answer: str
    grounded: bool
    refused_by: str | None
    sources: list[dict[str, Any]] = field(default_factory=list)
    """Each cited source's `n`, `article_id`, `title`, `url`, `source`, `published`."""
    timings: dict[str, float] = field(default_factory=dict)
    vote: str | None = None
    """A reader's `up` or `down`, once given (the log's rows; never set on the answer path)."""
    comment: str | None = None

    @classmethod
    def of(cls, answer_id: str, door: str, result: AnswerResult) -> LoggedAnswer:
        sources = [
            {
                "n": source.n,
                "article_id": source.article_id,
                "title": source.title,
                "url": source.url,
                "source": source.source,
                "published": source.published,
            }
            for source in result.sources
        ]
        return cls(
            answer_id,
            time.time(),
            door,
            result.question,
            result.answer,
            result.grounded,
            result.refused_by,
            sources,
            dict(result.timings),
        )


class QuestionLog(Protocol):
    """Where answers and their votes are kept (`newsbot.question_log.DatabaseQuestionLog`)."""

    def record(self, answer: LoggedAnswer) -> None:
        """Keep `answer`; must return at once (the answer path waits for it)."""
        ...

    def add_feedback(self, answer_id: str, vote: Vote, comment: str | None) -> FeedbackStored:
        """Store a vote (and comment) on a logged answer, replacing an earlier one."""
        ...

    def withdraw_feedback(self, answer_id: str) -> bool:
        """Remove the vote and comment of a logged answer; False when no such answer is kept."""
        ...

    def answers_since(self, since: float, newest: int | None = None) -> list[LoggedAnswer]:
        """The kept answers asked after `since` (seconds since the epoch), oldest first; only
        the `newest` ones when given."""
        ...

    def votes(self, answer_ids: Sequence[str]) -> dict[str, Vote]:
        """The votes kept on those of `answer_ids` that have one."""
        ...


def new_answer_id() -> str:
    return uuid.uuid4().hex


def outcome(result: AnswerResult) -> tuple[str, str]:
    """`("answered", "")`, or `("refused", <the check that refused>)`."""
    if result.refused_by or not result.grounded:
        return "refused", result.refused_by or "unknown"
    return "answered", ""


class AnswerRecorder:
    """The one place every web answer is counted and (with a log) kept."""

    def __init__(self, log: QuestionLog | None = None, metrics: AnswerMetrics | None = None):
        self.log = log
        self.metrics = metrics

    @property
    def keeps_feedback(self) -> bool:
        return self.log is not None

    def watch(
        self, events: Iterator[AnswerEvent], answer_id: str, door: Door
    ) -> Iterator[AnswerEvent]:
        """`events` passed on unchanged; the answer counted and logged as its result passes.

        Runs on the answer's worker thread: the log's `record` only queues the row.
        """
        try:
            for event in events:
                if isinstance(event, AnswerDone):
                    self._done(event.result, answer_id, door)
                yield event
        except GeneratorExit:
            raise  # the client went away: neither an answer nor an error
        except Exception as exc:
            if answer_stopped():  # the model's connection was cut because the client left
                raise
            if self.metrics is not None:
                self.metrics.answered("error", "")
            log.info(
                "answer %s via %s: error (%s)",
                answer_id,
                door,
                type(exc).__name__,
                extra={"answer_id": answer_id, "door": door, "outcome": "error"},
            )
            raise

    def _done(self, result: AnswerResult, answer_id: str, door: Door) -> None:
        kind, check = outcome(result)
        if self.metrics is not None:
            self.metrics.answered(kind, check, result.timings)
        # The answer line of the structured log (`bot.web.json_logs`): no question, no answer.
        timings = result.timings
        log.info(
            "answer %s via %s: %s%s in %.1f s",
            answer_id,
            door,
            kind,
            f" by {check}" if check else "",
            timings.get("total_s", 0.0),
            extra={
                "answer_id": answer_id,
                "door": door,
                "outcome": kind,
                "refused_by": check or None,
                "first_token_s": timings.get("first_token_s"),
                "total_s": timings.get("total_s"),
            },
        )
        if self.log is not None:
            try:
                self.log.record(LoggedAnswer.of(answer_id, door, result))
            except Exception:  # the reader's answer matters more than its log row
                log.exception("could not log answer %s", answer_id)

    def _check_id(self, answer_id: str) -> QuestionLog:
        if self.log is None:
            raise FeedbackOff()
        if not ANSWER_ID.fullmatch(answer_id):
            raise ValueError(f"not an answer id: {ANSWER_ID_CHARS} hex digits expected")
        return self.log

    def votes(self, answer_ids: Sequence[str]) -> dict[str, Vote]:
        """The votes kept on those of `answer_ids` that have one (none without a log): what a
        reloaded page shows under its answers."""
        wanted = [i for i in answer_ids if ANSWER_ID.fullmatch(i)]
        if self.log is None or not wanted:
            return {}
        try:
            return self.log.votes(wanted)
        except NewsbotError as exc:  # the conversation still comes back, its thumbs unmarked
            log.warning("votes not read: %s", exc)
            return {}

    def withdraw(self, answer_id: str) -> bool:
        """Remove a reader's vote and comment (the thumb clicked again); False when the answer
        is not in the log. The metrics keep counting it: a counter only grows.

        Raises:
            FeedbackOff: no question log is kept.
            ValueError: `answer_id` is not an answer id.
        """
        return self._check_id(answer_id).withdraw_feedback(answer_id)

    def feedback(self, answer_id: str, vote: Vote, comment: str | None) -> bool:
        """Store a reader's vote, replacing their earlier one on that answer (the last vote
        wins); False when the answer is not in the log. The metrics count a vote each time an
        answer's vote becomes that value: the same vote again, or a comment sent after it, is
        not counted again.

        Raises:
            FeedbackOff: no question log is kept.
            ValueError: `answer_id` is not an answer id, `vote` not up or down, or the comment
                is longer than MAX_COMMENT_CHARS (the chat's doors send what the browser says).
        """
        log = self._check_id(answer_id)
        if vote not in ("up", "down"):
            raise ValueError("a vote is 'up' or 'down'")
        text = (comment or "").strip() or None
        if text is not None and len(text) > MAX_COMMENT_CHARS:
            raise ValueError(f"comment too long: at most {MAX_COMMENT_CHARS} characters")
        stored = log.add_feedback(answer_id, vote, text)
        if self.metrics is not None and stored == "new":
            self.metrics.voted(vote)
        return stored != "missing"
