"""The editors' digest of the question log: what readers asked, grouped when they ask the same
thing, the content gaps first, and the answers readers marked wrong.

Questions are grouped by the cosine similarity of their embeddings (the embedder the store
already loaded): each joins the group whose centroid is nearest when at least `SAME_QUESTION`
similar, groups whose centroids come that close merge, then each question settles in its
nearest group. Paraphrases of one story's question score 0.48-0.95 with each other and 0.76+ with
their group's centroid; questions about other stories at most 0.43 (the bundled MiniLM, on the
20 questions of tests/test_question_groups.py). Groups holding a refusal ("the articles don't
say": stories the desk has not written) come first, then the largest.

Used by the Library tab (`bot.web.library_questions`) and `newsbot questions`.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Final, Protocol

import numpy as np

from bot.web.answer_log import LoggedAnswer, QuestionLog

SAME_QUESTION: Final = 0.55
"""Least cosine similarity to a group's centroid for a question to join it."""
MAX_QUESTIONS: Final = 2000
"""Most questions grouped at once (the newest): 2,000 distinct ones group in about 20 s on 2 busy
cores, nearly all of it embedding them (the panel and `newsbot questions` run it on request)."""
DAYS = {"day": 1, "week": 7}
DAY_SECONDS: Final = 86_400


class Embedder(Protocol):
    """What grouping needs of the store's embedder (LangChain's `Embeddings`)."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...


@dataclass
class QuestionGroup:
    """Questions that ask the same thing, newest first."""

    answers: list[LoggedAnswer] = field(default_factory=list)

    @property
    def question(self) -> str:
        """The group's name: its most asked wording (the newest among equals)."""
        wordings = [answer.question for answer in self.answers]
        return max(wordings, key=wordings.count)

    @property
    def count(self) -> int:
        return len(self.answers)

    @property
    def refused(self) -> int:
        return sum(1 for answer in self.answers if is_refusal(answer))

    @property
    def wrong(self) -> int:
        return sum(1 for answer in self.answers if answer.vote == "down")

    @property
    def notes(self) -> list[str]:
        """What an editor is told beside the group: "2 refused", "1 marked wrong" (when not 0)."""
        counts = ((self.refused, "refused"), (self.wrong, "marked wrong"))
        return [f"{n} {what}" for n, what in counts if n]


@dataclass(frozen=True)
class QuestionReport:
    """The digest of one period."""

    days: int
    groups: list[QuestionGroup]
    wrong: list[LoggedAnswer]
    """Answers readers marked wrong (thumbs down), newest first."""
    more: bool = False
    """The period held more than MAX_QUESTIONS questions: only the newest are in the report."""

    @property
    def questions(self) -> int:
        return sum(group.count for group in self.groups)


def is_refusal(answer: LoggedAnswer) -> bool:
    return bool(answer.refused_by) or not answer.grounded


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


def group_labels(vectors: np.ndarray, threshold: float = SAME_QUESTION) -> list[int]:
    """A group number for each row of `vectors` (0, 1, ... in order of first member)."""
    unit = _unit(np.asarray(vectors, dtype=np.float64))
    sums: list[np.ndarray] = []
    labels: list[int] = []
    for vector in unit:  # leader pass: join the nearest centroid, else open a group
        if sums:
            similarity = _unit(np.array(sums)) @ vector
            best = int(np.argmax(similarity))
            if similarity[best] >= threshold:
                sums[best] = sums[best] + vector
                labels.append(best)
                continue
        sums.append(vector.copy())
        labels.append(len(sums) - 1)
    merged = True
    while merged and len(sums) > 1:  # groups that came to ask the same thing merge
        centroids = _unit(np.array(sums))
        similarity = centroids @ centroids.T
        np.fill_diagonal(similarity, -1.0)
        a, b = np.unravel_index(int(np.argmax(similarity)), similarity.shape)
        merged = bool(similarity[a, b] >= threshold)
        if merged:
            keep, gone = int(min(a, b)), int(max(a, b))
            sums[keep] = sums[keep] + sums.pop(gone)
            labels = [keep if x == gone else x - (x > gone) for x in labels]
    # Each question settles in its nearest group (the centroids moved as groups grew).
    nearest = np.argmax(unit @ _unit(np.array(sums)).T, axis=1)
    order: dict[int, int] = {}
    return [order.setdefault(int(x), len(order)) for x in nearest]


def group_questions(
    answers: Sequence[LoggedAnswer], embedder: Embedder, threshold: float = SAME_QUESTION
) -> list[QuestionGroup]:
    """`answers` grouped by what they ask: refused groups first, then the largest, newest
    answers first in each."""
    newest = sorted(answers, key=lambda answer: answer.asked_at, reverse=True)[:MAX_QUESTIONS]
    if not newest:
        return []
    wordings = sorted({answer.question.strip().lower() for answer in newest})
    vectors = np.array(embedder.embed_documents(wordings))
    label_of = dict(zip(wordings, group_labels(vectors, threshold), strict=True))
    groups: dict[int, QuestionGroup] = {}
    for answer in newest:
        groups.setdefault(label_of[answer.question.strip().lower()], QuestionGroup())
        groups[label_of[answer.question.strip().lower()]].answers.append(answer)
    return sorted(groups.values(), key=lambda group: (-group.refused, -group.count))


def question_report(
    answers: Sequence[LoggedAnswer], embedder: Embedder, days: int
) -> QuestionReport:
    """The digest of `answers` (those of the last `days` days)."""
    wrong = [answer for answer in answers if answer.vote == "down"]
    wrong.sort(key=lambda answer: answer.asked_at, reverse=True)
    return QuestionReport(days, group_questions(answers, embedder), wrong)


def recent_report(log: QuestionLog, embedder: Embedder, days: int) -> QuestionReport:
    """The digest of the last `days` days of `log` (the Library's panel, `newsbot questions`):
    its newest MAX_QUESTIONS questions, `more` saying whether there were older ones."""
    answers = log.answers_since(time.time() - days * DAY_SECONDS, newest=MAX_QUESTIONS + 1)
    more = len(answers) > MAX_QUESTIONS
    report = question_report(answers[-MAX_QUESTIONS:], embedder, days)
    return replace(report, more=more)


def summary(report: QuestionReport) -> str:
    """ "N questions in the last day, in G groups", and that older ones are left out if so."""
    period = "day" if report.days == 1 else f"{report.days} days"
    if not report.groups:
        return f"No questions in the last {period}."
    left_out = f" (the newest {MAX_QUESTIONS:,}: older ones are left out)" if report.more else ""
    return (
        f"{report.questions} questions in the last {period}{left_out}, "
        f"in {len(report.groups)} groups"
    )


def asked_when(answer: LoggedAnswer) -> str:
    """When `answer` was asked, to the minute, in UTC."""
    return datetime.fromtimestamp(answer.asked_at, UTC).strftime("%Y-%m-%d %H:%M")


CSV_COLUMNS = (
    "group",
    "group_question",
    "asked_at",
    "question",
    "outcome",
    "refused_by",
    "vote",
    "comment",
    "answer",
    "sources",
)


def report_csv(report: QuestionReport) -> str:
    """Every question of the report, a row each, with its group (for a spreadsheet).

    Cells a spreadsheet would run as a formula get a leading `'` (`FORMULA_START`): the
    questions and comments are readers' text.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for number, group in enumerate(report.groups, 1):
        for answer in group.answers:
            when = datetime.fromtimestamp(answer.asked_at, UTC).isoformat(timespec="seconds")
            writer.writerow(
                _cell(value)
                for value in (
                    number,
                    group.question,
                    when,
                    answer.question,
                    "refused" if is_refusal(answer) else "answered",
                    answer.refused_by or "",
                    answer.vote or "",
                    answer.comment or "",
                    answer.answer,
                    json.dumps([s.get("url") or s.get("title") for s in answer.sources]),
                )
            )
    return out.getvalue()


FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
"""What starts a formula in some spreadsheet: OWASP's list, a line break, and the full-width
forms of `= + - @` (which some spreadsheets take as the ASCII ones); spaces before them too."""


def _cell(value: object) -> str:
    text = str(value)
    return "'" + text if text.lstrip(" ")[:1] in FORMULA_START else text
