"""The question-answering assistant: the one path from a question to a checked answer.

`Assistant.stream` takes a `Question` and reads top to bottom: keep the recent history, put a
follow-up beside the question it follows (or,
when configured, have the model rewrite it), retrieve, ask the answer checks that need no model
(nothing retrieved, a follow-up about a subject the passages never mention, a question about a
time, "this week", that no passage was published in),
stream the model's draft through the `AnswerChecker`, take one second look when the model's
first sentence refuses although passages were retrieved, and ask once for the detail behind an
answer that only repeats its cited article's headline. It yields typed events
(`bot.answer.events`): only text that has passed the check, so nothing shown is ever taken back.
`Assistant.ask` is the same without the events.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Protocol, runtime_checkable

import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk
from langchain_core.runnables import Runnable

from bot.answer.chain import (
    PassageRetriever,
    Retrieval,
    build_answer,
    build_condense,
    build_more,
    build_second_look,
    retrieve_passages,
)
from bot.answer.context import compact_passages
from bot.answer.events import AnswerDone, AnswerEvent, Searched, SourceCited, TextDelta, collect
from bot.answer.grounding import (
    AnswerChecker,
    GroundingPolicy,
    SentenceVerdict,
    no_articles_within,
)
from bot.answer.history import names_own_subject, recent_turns, with_earlier_question
from bot.answer.question import Question, named_days
from bot.answer.result import AnswerResult, RetrievedPassage, Source
from newsbot.errors import ModelError
from prompts import Prompts
from vectorstore.records import Passage, RelatedArticle, SearchFilter

__all__ = ["Assistant", "PassageRetriever", "Question", "RelatedFinder"]

logger = logging.getLogger(__name__)


@runtime_checkable
class RelatedFinder(Protocol):
    """What "more on this story" needs from a store: `NewsStore.related` has this shape."""

    def related(
        self,
        article_ids: Sequence[str],
        k: int = 3,
        as_of: date | None = None,
        filters: SearchFilter | None = None,
    ) -> list[RelatedArticle]: ...


@dataclass
class _Run:
    """What one answer accumulates while it streams."""

    passages: list[Passage]
    started: float = field(default_factory=time.perf_counter)
    timings: dict[str, float] = field(default_factory=dict)
    usage: dict[str, int] = field(
        default_factory=lambda: {"prompt_tokens": 0, "completion_tokens": 0}
    )
    sources: list[Source] = field(default_factory=list)
    draft: str = ""
    verdicts: list[SentenceVerdict] = field(default_factory=list)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def shown(self, text: str) -> TextDelta:
        self.timings.setdefault("first_token_s", self.elapsed())
        return TextDelta(text)


class Assistant:
    """Answers questions about the stored articles, with citations and follow-ups.

    Its numbers come from whoever builds it (`newsbot.factories.build_assistant`, from the
    settings): `k` passages per question, `max_history_chars` of recent history read with a
    follow-up, `context_tokens` of passage text (0: the passages whole), `time_windows` to search
    the time a question names first, `condense_follow_ups` to have the model rewrite a follow-up,
    the answer check's `policy` (None: its measured defaults), and `related_k` articles of more
    on the story under a grounded answer, from `related` (None: the retriever, when it has a
    `related` method; 0: none).
    """

    def __init__(
        self,
        retriever: PassageRetriever,
        llm: BaseChatModel,
        prompts: Prompts,
        *,
        k: int,
        max_history_chars: int,
        context_tokens: int,
        time_windows: bool,
        condense_follow_ups: bool,
        policy: GroundingPolicy | None = None,
        related: RelatedFinder | None = None,
        related_k: int = 3,
    ) -> None:
        self.retriever = retriever
        self.llm = llm
        self.prompts = prompts
        self.k = k
        self.max_history_chars = max_history_chars
        self.context_tokens = context_tokens
        self.time_windows = time_windows
        self.condense_follow_ups = condense_follow_ups
        self.policy = policy or GroundingPolicy()
        if related is None and isinstance(retriever, RelatedFinder):
            related = retriever  # a NewsStore
        self.related = related
        self.related_k = related_k
        self.condense = build_condense(llm, prompts)
        self.answer = build_answer(llm, prompts)
        self.second_look = build_second_look(llm, prompts)
        self.more = build_more(llm, prompts)

    def retrieve(self, question: Question) -> tuple[str, Retrieval]:
        """The standalone question and its passages, exactly as `stream` retrieves them (for
        `newsbot eval`, which asks its own prompt over the product's retrieval)."""
        standalone, alone = question.text, None
        history = recent_turns(question.history, self.max_history_chars)
        if history and self.condense_follow_ups:
            with _model_errors():
                standalone = self.condense.invoke({"question": question.text, "history": history})
        elif history:  # no model call: the follow-up beside the question it follows
            standalone = with_earlier_question(question.text, history)
            if names_own_subject(question.text, history):  # and alone: it may change the topic
                alone = question.text
        retrieval = retrieve_passages(
            self.retriever,
            standalone,
            self.k,
            question.day,
            question.filters,
            self.time_windows,
            alone=alone,
        )
        if self.context_tokens > 0:  # only the sentences that bear on the question
            compact = compact_passages(retrieval.passages, standalone, self.context_tokens)
            retrieval = replace(retrieval, passages=compact)
        return standalone, retrieval

    def stream(self, question: Question) -> Iterator[AnswerEvent]:
        """Yield `Searched` once the passages are found, then checked text and the sources it
        cites as they are ready, then `AnswerDone`."""
        as_of = question.day
        started = time.perf_counter()
        standalone, retrieval = self.retrieve(replace(question, as_of=as_of))
        passages = retrieval.passages
        run = _Run(passages, started=started)
        run.timings["retrieval_s"] = retrieval.seconds
        if question.history and self.condense_follow_ups:
            run.timings["condense_s"] = time.perf_counter() - started - retrieval.seconds
        yield Searched(len(passages), len({p.article_id for p in passages}), standalone)
        follow_up = question.text if question.history else ""
        # The follow-up's own time, not the earlier question's.
        checker = AnswerChecker(
            retrieval.passages,
            standalone,
            follow_up,
            policy=self.policy,
            named_time=named_days(question.text, as_of),
        )
        inputs = {"as_of": as_of, "retrieval": retrieval, "standalone_question": standalone}
        second_look = False
        if checker.before_answer() is None:
            yield from self._checked_draft(self.answer, inputs, checker, run)
            if checker.refused_by == "refusal":
                logger.info(
                    "model refused %r over %d passages: second look",
                    standalone,
                    len(retrieval.passages),
                )
                second_look = True
                looked = time.perf_counter()
                run.verdicts += checker.verdicts
                checker = AnswerChecker(
                    retrieval.passages, standalone, follow_up, True, self.policy
                )
                yield from self._checked_draft(self.second_look, inputs, checker, run)
                run.timings["second_look_s"] = time.perf_counter() - looked
            if checker.echoes_headline():
                logger.info("answer %r repeats its headline: asking for more", run.draft)
                asked_more = time.perf_counter()
                checker.go_on()
                more = {**inputs, "draft": run.draft}
                yield from self._checked_draft(self.more, more, checker, run, go_on=True)
                run.timings["more_s"] = time.perf_counter() - asked_more
        checked = checker.result()
        if checked.refused_by == "no_passages":  # say what the filters let it search
            checked = replace(checked, text=no_articles_within(question.filters))
        if not checked.grounded:
            logger.info("answer refused by %s: %r", checked.refused_by, run.draft)
            yield run.shown(checked.text)
        related = self._related(run, as_of, question.filters) if checked.grounded else []
        run.timings["total_s"] = time.perf_counter() - started
        yield AnswerDone(
            AnswerResult(
                answer=checked.text,
                sources=[
                    replace(s, quotes=q) for s, q in zip(run.sources, checked.quotes, strict=True)
                ]
                if checked.grounded
                else [],
                grounded=checked.grounded,
                standalone_question=standalone,
                question=question.text,
                as_of=as_of.isoformat(),
                timings=run.timings,
                usage=run.usage,
                retrieved=_ranked(retrieval.passages),
                second_look=second_look,
                refused_by=checked.refused_by,
                related=related,
                draft=run.draft,
                verdicts=run.verdicts + checker.verdicts,
            )
        )

    def _related(self, run: _Run, as_of: date, filters: SearchFilter) -> list[RelatedArticle]:
        """More on the story of the cited articles, within the question's filters (no model
        call, no embedding); a failure costs the list, never the answer."""
        cited = [source.article_id for source in run.sources]
        if self.related is None or self.related_k < 1 or not cited:
            return []
        started = time.perf_counter()
        try:
            found = self.related.related(cited, k=self.related_k, as_of=as_of, filters=filters)
        except Exception:
            logger.warning("Finding more on the story failed", exc_info=True)
            found = []
        run.timings["related_s"] = time.perf_counter() - started
        return found

    def ask(self, question: Question) -> AnswerResult:
        """Answer one question (the result of `stream`)."""
        return collect(self.stream(question))

    def _checked_draft(
        self,
        step: Runnable[dict[str, Any], Any],
        inputs: dict[str, Any],
        checker: AnswerChecker,
        run: _Run,
        go_on: bool = False,
    ) -> Iterator[AnswerEvent]:
        """Stream one draft through the checker; stop the model as soon as it refuses. With
        `go_on`, the draft continues the one before (`run.draft` keeps both, as one text for
        `check_answer`)."""
        run.draft = f"{run.draft} " if go_on else ""
        with _model_errors():
            for message in step.stream(inputs):
                if not isinstance(message, AIMessageChunk):
                    continue
                _add_usage(run.usage, message)
                if message.text:
                    # What a raw token stream would have shown first, beside `first_token_s`
                    # (the first checked text): the price of checking before showing.
                    run.timings.setdefault("model_first_token_s", run.elapsed())
                run.draft += message.text
                yield from self._events(checker.feed(message.text), run)
                if checker.refused_by:
                    return  # closing the stream stops the model's generation
        yield from self._events(checker.close(), run)

    def _events(self, releases: Sequence[Any], run: _Run) -> Iterator[AnswerEvent]:
        for release in releases:
            for index in release.new_citations:
                quotes = release.quotes.get(index, [])
                source = _source(len(run.sources) + 1, run.passages[index], quotes)
                run.sources.append(source)
                yield SourceCited(source)
            yield run.shown(release.text)


@contextmanager
def _model_errors() -> Iterator[None]:
    """An unreachable or failing model becomes a ModelError.

    The CLI and the web app show a ModelError as one line; a raw openai exception would be a
    traceback for what is usually a configuration or capacity problem on the user's side.
    """
    try:
        yield
    except openai.APITimeoutError as exc:
        raise ModelError(
            "The chat model did not answer in time: raise NEWSBOT_LLM_TIMEOUT, or use a smaller "
            "model or a faster server"
        ) from exc
    except openai.APIConnectionError as exc:
        raise ModelError(
            f"Cannot reach the chat model ({exc}): check NEWSBOT_LLM_BASE_URL and that the server "
            "is running"
        ) from exc
    except openai.APIStatusError as exc:
        raise ModelError(
            f"The chat model server refused the request (HTTP {exc.status_code}: {exc.message}): "
            "check NEWSBOT_LLM_MODEL and NEWSBOT_LLM_API_KEY"
        ) from exc


def _article(passage: Passage) -> dict[str, Any]:
    """The fields that say which article a passage comes from."""
    return {
        "article_id": passage.article_id,
        "title": passage.title,
        "url": passage.url,
        "source": passage.source,
        "published": passage.published,
    }


def _source(n: int, passage: Passage, quotes: list[tuple[int, int]]) -> Source:
    return Source(
        n=n,
        quotes=quotes,
        passage=passage.text,
        char_start=passage.char_start,
        char_end=passage.char_end,
        score=passage.score,
        **_article(passage),
    )


def _ranked(passages: Sequence[Passage]) -> list[RetrievedPassage]:
    # The search's own rank when it gave one (a hybrid search orders by more than `score`).
    ranked = sorted(passages, key=lambda p: (p.rank or 10**9, -p.score))
    return [
        RetrievedPassage(rank=rank, chunk_id=p.chunk_id, score=p.score, **_article(p))
        for rank, p in enumerate(ranked, 1)
    ]


def _add_usage(usage: dict[str, int], message: AIMessageChunk) -> None:
    meta: Any = message.usage_metadata
    if meta:
        usage["prompt_tokens"] += int(meta.get("input_tokens", 0))
        usage["completion_tokens"] += int(meta.get("output_tokens", 0))
