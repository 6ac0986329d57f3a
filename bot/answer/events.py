"""The typed answer stream: what `Assistant.stream` yields, and `collect` to wait for the result.

`Searched` comes first, as soon as the passages are retrieved: a progress note for the reader
(the model takes seconds to read them), not part of the answer. Every event is final.
`TextDelta` text has passed the answer check sentence by sentence and is never taken back;
joined in order, the deltas are exactly `AnswerResult.answer`. `SourceCited` comes just before
the first delta that cites that source as `[n]`. `AnswerDone` is the last event and carries the
whole result.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from bot.answer.question import Question
from bot.answer.result import AnswerResult, Source


@dataclass(frozen=True)
class Searched:
    """The passages the answer will be read from are found: how many, from how many articles,
    and the question they were searched for (a follow-up made standalone)."""

    passages: int
    articles: int
    question: str

    def note(self) -> str:
        """What a reader is told while the model reads: "Reading 4 passages from 3 articles…"."""
        passages = f"{self.passages} passage{'s' * (self.passages != 1)}"
        return f"Reading {passages} from {self.articles} article{'s' * (self.articles != 1)}…"


@dataclass(frozen=True)
class TextDelta:
    """Checked answer text, to be shown as it is (it may hold `[n]` markers and line breaks)."""

    text: str


@dataclass(frozen=True)
class SourceCited:
    """A source the answer cites for the first time, numbered as its `[n]` marker."""

    source: Source


@dataclass(frozen=True)
class AnswerDone:
    """The end of the stream: the checked answer with its sources, timings and verdicts."""

    result: AnswerResult


AnswerEvent = Searched | TextDelta | SourceCited | AnswerDone


class AnswerStreamer(Protocol):
    """What a chat or the API needs from `bot.answer.assistant.Assistant`: its typed answer
    stream (`collect` waits for the result)."""

    def stream(self, question: Question) -> Iterator[AnswerEvent]: ...


def collect(events: Iterable[AnswerEvent]) -> AnswerResult:
    """Consume an answer stream and return its result."""
    for event in events:
        if isinstance(event, AnswerDone):
            return event.result
    raise RuntimeError("the answer stream ended without a result")
