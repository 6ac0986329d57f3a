"""The answer path's LangChain steps, each a small runnable or function.

`bot.answer.assistant` runs them in this order:

1. `build_condense`: with history, when configured, rewrite the follow-up as a standalone
   question (by default the assistant searches it beside the previous question instead);
2. `retrieve_passages`: the top-k passages published on or before `as_of` (and in the reader's
   date range and sources, when filtered; inside the time the question names first), grouped
   by article (`prompt_order`); a follow-up that may change the topic is searched alone too,
   the two rankings fused (`fuse_passages`);
3. `build_answer`: number the passages "[n] title (source, date)", fill the answer prompt (the
   system message, then the passages, then the rules and the question: the small model follows
   the rules best when they come last) and stream the draft;
4. `build_second_look`: when the model refused although passages were retrieved, ask once more
   over the same passages without offering the refusal (the server reuses the cached system
   message and passages);
5. `build_more`: when the answer only repeats its cited article's headline, ask for the detail
   behind it, after the answer prompt and the model's own answer (a prefix the server has
   cached).

Checking the draft and building the result is `bot.answer.assistant`'s job.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Protocol

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableLambda

from bot.answer.history import format_history
from bot.answer.question import EVERYTHING, question_window
from bot.answer.result import heading
from prompts import Prompts
from vectorstore.ranking import RRF_K
from vectorstore.records import Passage, SearchFilter


class PassageRetriever(Protocol):
    """What the chain needs from a store: `NewsStore.search` has this shape."""

    def search(
        self,
        query: str,
        k: int,
        published_before: date | None = None,
        filters: SearchFilter | None = None,
    ) -> list[Passage]: ...


@dataclass(frozen=True)
class Retrieval:
    """The passages retrieved for a question, in prompt order (`prompt_order`; passage n of the
    prompt is `passages[n - 1]`), and how long the search took."""

    passages: list[Passage]
    seconds: float


def prompt_order(passages: Sequence[Passage]) -> list[Passage]:
    """Group the passages by article (best article first), each article's chunks in text order.

    The model reads an article's chunks in their order, and a follow-up that retrieves the same
    chunks in another rank order still gets the same prompt, whose prefix llama.cpp has cached.
    """
    best: dict[str, int] = {}
    for rank, passage in enumerate(passages):
        best.setdefault(passage.article_id, rank)
    return sorted(passages, key=lambda p: (best[p.article_id], p.chunk_index))


def retrieve_passages(
    retriever: PassageRetriever,
    question: str,
    k: int,
    as_of: date,
    filters: SearchFilter = EVERYTHING,
    time_windows: bool = False,
    *,
    alone: str | None = None,
) -> Retrieval:
    """The product's retrieval: the top-k passages published by `as_of` (and passing `filters`:
    a date range, sources), in prompt order.

    With `time_windows`, a question that names a time ("this week", "in June 2022": see
    `bot.answer.question.question_window`) is searched inside that window first, and filled up
    from outside it when the window holds fewer than `k` passages. With `alone` (a follow-up
    that names its own subject, when `question` puts it beside the earlier question), both are
    searched and their rankings fused (`fuse_passages`): the follow-up's own subject is found
    even when the earlier question's words outweigh it. `newsbot ask`, the chats and
    `newsbot eval` all retrieve through this one function.
    """
    started = time.perf_counter()
    if alone is None:
        passages = _search(retriever, question, k, as_of, filters, time_windows)
    else:
        rankings = [
            _search(retriever, query, FUSION_DEPTH * k, as_of, filters, time_windows)
            for query in (alone, question)
        ]
        passages = fuse_passages(rankings, k)
    return Retrieval(passages=prompt_order(passages), seconds=time.perf_counter() - started)


FUSION_DEPTH = 2
"""Each ranking a follow-up's fusion reads, as a multiple of k."""


def fuse_passages(rankings: Sequence[Sequence[Passage]], k: int) -> list[Passage]:
    """The top `k` of several rankings (each best first) by reciprocal rank fusion, as the
    hybrid search fuses its own (`vectorstore.ranking`); a tie goes to the earlier ranking."""
    score: dict[str, float] = {}
    first: dict[str, Passage] = {}
    for ranking in rankings:
        for rank, passage in enumerate(ranking, start=1):
            score[passage.chunk_id] = score.get(passage.chunk_id, 0.0) + 1.0 / (RRF_K + rank)
            first.setdefault(passage.chunk_id, passage)
    best = sorted(score, key=lambda cid: -score[cid])[:k]  # stable: first seen wins a tie
    return [replace(first[cid], rank=n) for n, cid in enumerate(best, start=1)]


def _search(
    retriever: PassageRetriever,
    question: str,
    k: int,
    as_of: date,
    filters: SearchFilter,
    time_windows: bool,
) -> list[Passage]:
    """The top-k passages for one query, best first (`rank` 1, 2, ...): inside the time the
    question names first, when `time_windows`, then from outside it."""
    window = question_window(question, as_of) if time_windows else None
    narrowed = window.narrow(filters) if window else None
    passages: list[Passage] = []
    if narrowed is not None:
        passages = retriever.search(question, k=k, published_before=as_of, filters=narrowed)
    if len(passages) < k:
        wider = retriever.search(question, k=k, published_before=as_of, filters=filters)
        seen = {p.chunk_id for p in passages}
        passages += [p for p in wider if p.chunk_id not in seen][: k - len(passages)]
        # One ranking: the window's passages first, then those that filled up.
        passages = [replace(p, rank=n) for n, p in enumerate(passages, start=1)]
    return passages


def format_passages(passages: Sequence[Passage]) -> str:
    """Number the passages as the answer prompt shows them: "[n] title (source, date)\\ntext"."""
    blocks = []
    for n, passage in enumerate(passages, start=1):
        label = heading(passage.title, passage.source, passage.published)
        blocks.append(f"[{n}] {label}\n{passage.text.strip()}")
    return "\n\n".join(blocks)


def format_as_of(as_of: date) -> str:
    """The answer date as the prompt states it, e.g. "Saturday, 14 March 2026"."""
    return f"{as_of:%A}, {as_of.day} {as_of:%B %Y}"


def clean_standalone(text: str, fallback: str) -> str:
    """The first line of the model's rewrite, without labels or quotes; `fallback` if empty."""
    for line in text.strip().splitlines():
        line = re.sub(r"^\s*(standalone|rewritten)?\s*question\s*:\s*", "", line, flags=re.I)
        line = line.strip().strip("\"'“”").strip()
        if line:
            return line
    return fallback


def condense_inputs(inputs: dict[str, Any]) -> dict[str, str]:
    """Variables of the condense prompt."""
    return {"history": format_history(inputs["history"]), "question": inputs["question"]}


def answer_inputs(inputs: dict[str, Any]) -> dict[str, str]:
    """Variables of the answer prompt (system and user messages together)."""
    return {
        "as_of": format_as_of(inputs["as_of"]),
        "passages": format_passages(inputs["retrieval"].passages),
        "question": inputs["standalone_question"],
    }


def answer_prompt(prompts: Prompts) -> ChatPromptTemplate:
    """The system message, then the user message with the passages, the rules and the question."""
    return ChatPromptTemplate.from_messages(
        [("system", prompts.answer_system.text), ("human", prompts.answer_user.text)]
    )


def second_look_prompt(prompts: Prompts) -> ChatPromptTemplate:
    """The answer prompt without the way out: same system message and passages (the prefix the
    server has cached from the first attempt), then the instruction to answer and cite."""
    return ChatPromptTemplate.from_messages(
        [("system", prompts.answer_system.text), ("human", prompts.answer_retry.text)]
    )


def more_prompt(prompts: Prompts) -> ChatPromptTemplate:
    """The answer prompt, the model's answer to it (`draft`), then the request for more detail."""
    return ChatPromptTemplate.from_messages(
        [
            ("system", prompts.answer_system.text),
            ("human", prompts.answer_user.text),
            ("ai", "{draft}"),
            ("human", prompts.answer_more.text),
        ]
    )


def condense_prompt(prompts: Prompts) -> ChatPromptTemplate:
    """One user message that asks for the standalone question."""
    return ChatPromptTemplate.from_messages([("human", prompts.condense.text)])


def build_condense(llm: BaseChatModel, prompts: Prompts) -> Runnable[dict[str, Any], str]:
    """Rewrite a follow-up as a standalone question. Input: `{"question", "history"}`."""
    rewrite = RunnableLambda(condense_inputs) | condense_prompt(prompts) | llm | StrOutputParser()

    def condensed(inputs: dict[str, Any]) -> Runnable[Any, str]:
        return rewrite | RunnableLambda(lambda text: clean_standalone(text, inputs["question"]))

    return RunnableLambda(condensed)


def build_answer(llm: BaseChatModel, prompts: Prompts) -> Runnable[dict[str, Any], Any]:
    """The model's draft over the retrieved passages, streamed as message chunks.

    Input: `as_of`, `retrieval` and `standalone_question`.
    """
    return RunnableLambda(answer_inputs) | answer_prompt(prompts) | llm


def build_second_look(llm: BaseChatModel, prompts: Prompts) -> Runnable[dict[str, Any], Any]:
    """Ask again over the passages already retrieved, without offering the refusal.

    Small models refuse some questions their passages answer (one in five here, see
    BENCHMARKS.md); the answer check, not the model, then decides whether the answer stands.
    Input: as `build_answer`. Output: the model's message, streamed.
    """
    return RunnableLambda(answer_inputs) | second_look_prompt(prompts) | llm


def build_more(llm: BaseChatModel, prompts: Prompts) -> Runnable[dict[str, Any], Any]:
    """Ask for the detail behind an answer that only repeats a headline.

    "Pakistan and the US agreed to work together against fake visa networks [1]." answers "What
    did Pakistan and the US agree on?" with its article's title; the article goes on to name
    what they agreed. Input: as `build_answer`, and the model's `draft`. Output: the model's
    message, streamed.
    """

    def inputs(values: dict[str, Any]) -> dict[str, str]:
        return {**answer_inputs(values), "draft": values["draft"]}

    return RunnableLambda(inputs) | more_prompt(prompts) | llm
