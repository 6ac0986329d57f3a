"""The answer record: what one question produced, ready for the CLI, the web app and JSON.

`Source` is a cited passage, numbered as in the answer text; `RetrievedPassage` is one retrieved
chunk (cited or not), kept for evaluation and debugging; `AnswerResult` ties them together with
timings and token counts. All three are plain dataclasses; `to_dict()` gives JSON-ready values.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bot.answer.grounding.checks import SentenceVerdict
from vectorstore.records import RelatedArticle


def heading(title: str, source: str, published: str | None) -> str:
    """How the prompt and the terminal name a passage or article: "title (source, date)"."""
    when = (published or "")[:10] or "date unknown"
    origin = ", ".join(part for part in (source, when) if part)
    return f"{title or 'Untitled'} ({origin})"


@dataclass(frozen=True)
class Source:
    """A passage the answer cites as `[n]`.

    `passage` is the chunk text; `char_start:char_end` locate it in the article's text.
    `published` is an ISO date string or None; `score` is the retrieval cosine similarity.
    `quotes` are the `(start, end)` spans of `passage` that the answer's sentences citing `[n]`
    rest on, as the answer check found them (`bot.answer.grounding.checks.quotes`): a sentence
    each, or the whole passage when no one sentence holds the claim.
    """

    n: int
    article_id: str
    title: str
    url: str
    source: str
    published: str | None
    passage: str
    char_start: int
    char_end: int
    score: float
    quotes: list[tuple[int, int]] = field(default_factory=list)

    @property
    def quoted(self) -> list[str]:
        """The text of each quote."""
        return [self.passage[start:end] for start, end in self.quotes]


@dataclass(frozen=True)
class RetrievedPassage:
    """One retrieved chunk, ranked by score (1 = best), whether or not the answer cites it."""

    rank: int
    chunk_id: str
    article_id: str
    title: str
    url: str
    source: str
    published: str | None
    score: float


@dataclass
class AnswerResult:
    """The outcome of one question.

    Attributes:
        answer: the checked answer text; its `[n]` markers name `sources[n-1]`.
        sources: the cited passages, numbered in order of first citation.
        grounded: True when the answer is supported by cited passages; False for "the articles
            don't say" answers and when nothing was retrieved.
        standalone_question: the question as searched (the condensed follow-up, or the question).
        question: the question as asked.
        as_of: ISO date the answer is given as of.
        timings: seconds: `retrieval_s`, `first_token_s` (first checked text shown),
            `model_first_token_s` (the model's first token), `total_s` (+ `condense_s` with
            history, `second_look_s` after a second look, `more_s` after a request for the
            detail behind a headline).
        usage: `prompt_tokens`, `completion_tokens` (0 when the model does not report them).
        retrieved: every retrieved passage in rank order.
        second_look: True when the model refused at first and `answer` comes from asking it
            once more over the same passages (see `bot.answer.chain.build_second_look`).
        refused_by: the name of the check that turned the answer into the refusal, or None.
        related: more on the story: other stored articles about what the cited ones report,
            newest first (`NewsStore.related`); none for a refusal.
        draft: the model's raw text that was checked (the second look's, after one; with the
            detail asked for after it, when it only repeated a headline); debug only.
        verdicts: the check's decision on each sentence of the draft; debug only.
    """

    answer: str
    sources: list[Source]
    grounded: bool
    standalone_question: str
    question: str
    as_of: str
    timings: dict[str, float] = field(default_factory=dict)
    usage: dict[str, int] = field(default_factory=dict)
    retrieved: list[RetrievedPassage] = field(default_factory=list)
    second_look: bool = False
    refused_by: str | None = None
    related: list[RelatedArticle] = field(default_factory=list)
    draft: str = ""
    verdicts: list[SentenceVerdict] = field(default_factory=list)

    def to_dict(self, debug: bool = False) -> dict[str, Any]:
        """The result as plain JSON-ready values (str, int, float, bool, None, lists, dicts).

        The model's draft and the per-sentence verdicts hold text the check did not let through
        (an obeyed prompt injection, an invented detail): they are left out unless `debug`.
        """
        values = asdict(self)
        if not debug:
            del values["draft"], values["verdicts"]
        return values
