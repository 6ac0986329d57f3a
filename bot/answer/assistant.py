"""The question-answering assistant: the RAG chain plus timing, citation checking and the result.

`Assistant.stream()` yields answer text deltas as the model writes them, then exactly one
`AnswerResult` whose `answer` is the checked text: markers renumbered in order of first
citation, unknown ones removed, unmarked sentences attributed by word overlap, and a plain
"the articles I have don't say" (grounded=False) when nothing supports an answer.
`Assistant.ask()` is the same without the deltas.

When the model refuses although passages were retrieved, the assistant takes one second look
(the same passages, without offering the refusal) and lets the answer check decide; the refusal
it held back is then never shown.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any, TypeVar

import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk

from bot.answer.chain import (
    NO_ARTICLES,
    REFUSAL,
    PassageRetriever,
    Retrieval,
    build_chain,
    build_condense,
    build_second_look,
    retrieve_passages,
)
from bot.answer.grounding.citations import (
    COVERAGE_THRESHOLD,
    SUBJECT_THRESHOLD,
    attribute_sentences,
    check_citations,
    drop_unsupported_names,
    enforce_support,
    is_refusal,
    question_coverage,
    split_sentences,
    strip_markers,
    subject_coverage,
)
from bot.answer.history import ChatTurn
from bot.answer.result import AnswerResult, RetrievedPassage, Source
from newsbot.errors import ModelError
from prompts import Prompts
from vectorstore.records import Passage

__all__ = ["Assistant", "PassageRetriever", "check_answer"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Assistant:
    """Answers questions about the stored articles, with citations and follow-ups."""

    def __init__(
        self, retriever: PassageRetriever, llm: BaseChatModel, prompts: Prompts, k: int = 5
    ) -> None:
        self.retriever = retriever
        self.llm = llm
        self.prompts = prompts
        self.k = k
        self.chain = build_chain(retriever, llm, prompts, k)
        self.second_look = build_second_look(llm, prompts)
        self.condense = build_condense(llm, prompts)

    def retrieve(
        self, question: str, history: Sequence[ChatTurn] = (), as_of: date | None = None
    ) -> tuple[str, Retrieval]:
        """The standalone question and its passages, exactly as `stream` would retrieve them
        (for `newsbot eval`, which asks its own prompt over the product's retrieval)."""
        standalone = question
        if history:
            inputs = {"question": question, "history": list(history)}
            standalone = self.condense.invoke(inputs)
        return standalone, retrieve_passages(
            self.retriever, standalone, self.k, as_of or date.today()
        )

    def stream(
        self, question: str, history: Sequence[ChatTurn] = (), as_of: date | None = None
    ) -> Iterator[str | AnswerResult]:
        """Yield answer text deltas, then one final `AnswerResult` (the checked answer).

        The deltas are the model's raw text; the result's `answer` may differ (renumbered
        citations, or the refusal sentence when nothing supports the answer). A draft that
        starts like the refusal is held back until it turns into something else, so a refusal
        followed by a second look shows only the second answer.
        """
        as_of = as_of or date.today()
        started = time.perf_counter()
        timings: dict[str, float] = {}
        usage = {"prompt_tokens": 0, "completion_tokens": 0}
        standalone = question
        retrieval = Retrieval(passages=[], seconds=0.0)
        parts: list[str] = []
        held = ""
        inputs = {"question": question, "history": list(history), "as_of": as_of}
        for chunk in _model_errors_as_newsbot_errors(self.chain.stream(inputs)):
            if "standalone_question" in chunk and history:
                standalone = chunk["standalone_question"]
            if "retrieval" in chunk:
                retrieval = chunk["retrieval"]
                timings["retrieval_s"] = retrieval.seconds
                if history:
                    since = time.perf_counter() - started
                    timings["condense_s"] = max(since - retrieval.seconds, 0.0)
            message = chunk.get("answer")
            if isinstance(message, AIMessageChunk):
                _add_usage(usage, message)
                parts.append(message.text)
                held += message.text
                if held and not _may_be_refusal(held):
                    timings.setdefault("first_token_s", time.perf_counter() - started)
                    yield held
                    held = ""
        raw = "".join(parts)
        second_look = bool(retrieval.passages) and is_refusal(raw)
        if second_look:
            looked = time.perf_counter()
            logger.info(
                "model refused %r over %d passages: second look",
                standalone,
                len(retrieval.passages),
            )
            parts = []
            again = {"as_of": as_of, "retrieval": retrieval, "standalone_question": standalone}
            for message in _model_errors_as_newsbot_errors(self.second_look.stream(again)):
                _add_usage(usage, message)
                if message.text:
                    timings.setdefault("first_token_s", time.perf_counter() - started)
                    parts.append(message.text)
                    yield message.text
            timings["second_look_s"] = time.perf_counter() - looked
            raw = "".join(parts)
        elif held:
            timings.setdefault("first_token_s", time.perf_counter() - started)
            yield held
        timings["total_s"] = time.perf_counter() - started
        by_score = sorted(retrieval.passages, key=lambda p: -p.score)
        answer, sources, grounded = check_answer(
            raw,
            retrieval.passages,
            standalone,
            follow_up=question if history else "",
            second_look=second_look,
        )
        yield AnswerResult(
            answer=answer,
            sources=sources,
            grounded=grounded,
            standalone_question=standalone,
            question=question,
            as_of=as_of.isoformat(),
            timings=timings,
            usage=usage,
            retrieved=[_retrieved(rank, p) for rank, p in enumerate(by_score, 1)],
            second_look=second_look,
        )

    def ask(
        self, question: str, history: Sequence[ChatTurn] = (), as_of: date | None = None
    ) -> AnswerResult:
        """Answer one question; `history` holds the earlier turns of the conversation."""
        for item in self.stream(question, history, as_of):
            if isinstance(item, AnswerResult):
                return item
        raise AssertionError("Assistant.stream ended without a result")  # pragma: no cover


def _may_be_refusal(draft: str) -> bool:
    """True while the draft so far is the start of the stock refusal, or begins with all of it."""
    text = draft.replace("\u2019", "'").lstrip().lower()
    refusal = REFUSAL.lower()
    return refusal.startswith(text) or text.startswith(refusal)


def _model_errors_as_newsbot_errors(chunks: Iterator[T]) -> Iterator[T]:
    """Pass the chain's chunks through; an unreachable or failing model becomes a ModelError.

    The CLI and the web app show a ModelError as one line; a raw openai exception would be a
    traceback for what is usually a configuration or capacity problem on the user's side.
    """
    try:
        yield from chunks
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


def check_answer(
    raw: str,
    passages: Sequence[Passage],
    question: str = "",
    follow_up: str = "",
    subject_threshold: float = SUBJECT_THRESHOLD,
    second_look: bool = False,
) -> tuple[str, list[Source], bool]:
    """Turn the model's raw answer into (checked answer, cited sources, grounded).

    `question` is the (standalone) question answered; `follow_up` the user's own words when it
    was asked with chat history. No passages → NO_ARTICLES. The model's refusal → its first
    sentence, ungrounded. Otherwise invalid markers and a tacked-on refusal sentence are dropped,
    unmarked sentences attributed by overlap, cited sentences that their passages don't support
    removed, and so are sentences with a name or number that neither the passages (titles
    included) nor the question mention; markers renumbered. The answer becomes REFUSAL when no
    cited sentence is left, or when neither it nor the passages mention most of what the
    follow-up asks (a fluent answer to the earlier question), or when the passages hold less than
    `subject_threshold` of the subject the follow-up names ("What about China?"; 0 turns that
    rule off). An answer given on a `second_look` (the model had refused) must also restate most
    of what the question asks: a sentence copied from passages about something else is supported
    by them, but answers nothing.
    """
    if not passages:
        return NO_ARTICLES, [], False
    raw = raw.strip()
    if not raw or is_refusal(raw):
        first = split_sentences(strip_markers(raw))
        return (first[0] if first else REFUSAL), [], False
    texts = [p.text for p in passages]
    valid = check_citations(raw, len(passages), renumber=False).text
    attributed = attribute_sentences(_without_stock_refusal(valid), texts, question)
    vocabulary = "\n".join(
        [question, follow_up, *texts, *(f"{p.title} {p.source} {p.published}" for p in passages)]
    )
    supported = drop_unsupported_names(enforce_support(attributed, texts, question), vocabulary)
    checked = check_citations(supported, len(passages))
    if not checked.cited:
        logger.info("answer without support in the passages replaced by refusal: %r", raw)
        return REFUSAL, [], False
    if follow_up and (
        question_coverage(follow_up, checked.text, texts) < COVERAGE_THRESHOLD
        or subject_coverage(follow_up, texts) < subject_threshold
    ):
        logger.info("answer that misses what %r asks replaced by refusal: %r", follow_up, raw)
        return REFUSAL, [], False
    if second_look and question_coverage(question, checked.text, []) < COVERAGE_THRESHOLD:
        logger.info("second-look answer that doesn't restate %r refused: %r", question, raw)
        return REFUSAL, [], False
    sources = [_source(n, passages[index]) for n, index in enumerate(checked.cited, 1)]
    return checked.text, sources, True


def _without_stock_refusal(text: str) -> str:
    """The answer without the refusal sentence that small models tack onto an answer ("... is
    Sofia Brandt [1]. The articles I have don't say."), which would contradict it."""
    refusal = REFUSAL.lower()
    return " ".join(
        sentence
        for sentence in split_sentences(text)
        if strip_markers(sentence).replace("\u2019", "'").lower() != refusal
    )


def _source(n: int, passage: Passage) -> Source:
    return Source(
        n=n,
        article_id=passage.article_id,
        title=passage.title,
        url=passage.url,
        source=passage.source,
        published=passage.published,
        passage=passage.text,
        char_start=passage.char_start,
        char_end=passage.char_end,
        score=passage.score,
    )


def _retrieved(rank: int, passage: Passage) -> RetrievedPassage:
    return RetrievedPassage(
        rank=rank,
        chunk_id=passage.chunk_id,
        article_id=passage.article_id,
        title=passage.title,
        url=passage.url,
        source=passage.source,
        published=passage.published,
        score=passage.score,
    )


def _add_usage(usage: dict[str, int], message: AIMessageChunk) -> None:
    meta: Any = message.usage_metadata
    if meta:
        usage["prompt_tokens"] += int(meta.get("input_tokens", 0))
        usage["completion_tokens"] += int(meta.get("output_tokens", 0))
