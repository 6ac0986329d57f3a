"""The `grounding` suite: does the answer check answer when the evidence is there, and refuse
when it is not?

The first questions of a dataset are each answered by the product (`Assistant.stream`, k
passages) over their own retrieved passages ("matched") and, separately, over the passages
retrieved for another question whose evidence they do not hold ("mismatched"). Over its own
passages the bot should answer when the evidence was retrieved; over another's it should refuse.

With `later` (another dataset, of a later year), that dataset's questions are also asked as a
user would ask them, as of their own dates, of this dataset's store ("later year"): the store
cannot answer them, but its passages are look-alike stories of the earlier year, the hard case
of refusing. Every answer shown there is listed in the report for a reader to judge.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsbot.evaluation.corpus import ingest_corpus
from newsbot.evaluation.dataset import load_queries
from newsbot.evaluation.metrics import contains_answer
from newsbot.evaluation.suites.drafts import (
    Drafts,
    SuiteRetriever,
    answering_key,
    context_budget,
    count,
    recheck,
    tally,
)
from newsbot.evaluation.suites.report import SuiteReport, finish
from vectorstore.records import Passage

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from prompts import Prompts
    from vectorstore.store import NewsStore

logger = logging.getLogger(__name__)

#: Questions of the dataset the suite asks by default (each twice: matched and mismatched).
DEFAULT_QUESTIONS = 40
GROUPS = ("matched, evidence retrieved", "matched, no evidence", "mismatched", "later year")


@dataclass(frozen=True)
class GroundingCase:
    """One cached draft with what scoring it needs."""

    record: dict[str, Any]
    question: str
    answer_text: str
    group: str
    passages: list[Passage]
    as_of: date | None = None


def grounding_cases(
    dataset_dir: Path,
    store: NewsStore,
    llm: BaseChatModel | None,
    prompts: Prompts,
    *,
    k: int,
    questions: int,
    drafts: Drafts,
    answering: Mapping[str, Any],
    later: Path | None = None,
) -> list[GroundingCase]:
    """The cases of the suite, their drafts from `drafts` (asked now when not cached).

    With `llm=None` nothing is asked: drafts not in the cache are left out.
    """
    from bot.answer.assistant import Assistant
    from bot.answer.chain import retrieve_passages
    from bot.answer.question import Question

    # The product's retrieval, a time the question names included (`time_windows`).
    windows = bool(answering.get("time_windows"))
    queries = load_queries(dataset_dir, questions)
    retrieved = [
        retrieve_passages(store, q.question, k, query_day(q), time_windows=windows).passages
        for q in queries
    ]
    cases: list[GroundingCase] = []

    def draft(query: Any, kind: str, passages: list[Passage]) -> dict[str, Any] | None:
        def ask() -> dict[str, Any]:
            assert llm is not None
            assistant = Assistant(SuiteRetriever(passages=passages), llm, prompts, k=k, **answering)
            result = assistant.ask(Question(query.question, as_of=query_day(query)))
            logger.info("%s %s: %r", query.id, kind, result.draft[:120])
            return {"raw": result.draft, "second_look": result.second_look}

        chunks = [p.chunk_id for p in passages]
        return drafts.get({"id": query.id, "kind": kind, "chunks": chunks}, ask if llm else None)

    half = len(queries) // 2
    for i, query in enumerate(queries):
        # Another question's passages that hold none of this one's evidence.
        other = next(
            (
                j
                for j in [(i + half + step) % len(queries) for step in range(len(queries))]
                if j != i and not ({p.article_id for p in retrieved[j]} & query.labels)
            ),
            None,
        )
        kinds = [("matched", retrieved[i])]
        if other is not None:
            kinds.append(("mismatched", retrieved[other]))
        for kind, passages in kinds:
            record = draft(query, kind, passages)
            if record is None:
                continue
            evidence = bool({p.article_id for p in passages} & query.labels)
            group = kind if kind == "mismatched" else GROUPS[0] if evidence else GROUPS[1]
            cases.append(
                GroundingCase(
                    record, query.question, query.answer_text, group, passages, query_day(query)
                )
            )
    for query in load_queries(later, questions) if later else []:
        found = retrieve_passages(store, query.question, k, query_day(query), time_windows=windows)
        record = draft(query, "later", found.passages)
        if record is not None:
            cases.append(
                GroundingCase(
                    record, query.question, "", GROUPS[3], found.passages, query_day(query)
                )
            )
    return cases


def query_day(query: Any) -> date:
    """The day a dataset question is asked as of."""
    return date.fromisoformat(query.date)


def score_grounding(cases: list[GroundingCase], k: int, context_tokens: int = 0) -> dict[str, Any]:
    """Counts per group: model refused, answered on a second look, refused after the check (and
    by which check), right (answered and holding the correct choice's text); each draft checked
    against what the model read (`context_tokens`: the compact context's budget, 0 for whole)."""
    groups: dict[str, dict[str, Any]] = {}
    examples: list[dict[str, str]] = []
    shown_later: list[dict[str, str]] = []
    for case in cases:
        second_look = bool(case.record["second_look"])
        verdict = recheck(
            case.record["raw"],
            case.passages,
            case.question,
            second_look=second_look,
            as_of=case.as_of,
            context_tokens=context_tokens,
        )
        tally(groups, case.group, verdict, second_look)
        c = groups[case.group]
        right = verdict.grounded and contains_answer(case.answer_text, verdict.answer)
        count(c, "right_answered", right)
        count(c, "wrong_grounded", verdict.grounded and not right)
        if case.group == GROUPS[3] and verdict.grounded:
            shown_later.append({"question": case.question, "answer": verdict.answer})
        held_back = (
            case.group not in ("mismatched", GROUPS[3]) and not verdict.grounded and not second_look
        )
        if held_back and len(examples) < 8:
            examples.append(
                {
                    "question": case.question,
                    "raw": case.record["raw"][:300],
                    "correct": case.answer_text,
                    "refused_by": verdict.refused_by or "",
                }
            )
    ordered = {name: groups[name] for name in GROUPS if name in groups}
    return {
        "k": k,
        "groups": ordered,
        "refused_examples": examples,
        "later_shown": shown_later,
    }


def run_grounding(
    dataset_dir: Path,
    *,
    store: NewsStore,
    llm: BaseChatModel | None,
    k: int,
    questions: int = DEFAULT_QUESTIONS,
    out_path: Path | None = None,
    prompts: Prompts | None = None,
    model_name: str = "",
    ingest_options: Mapping[str, Any] | None = None,
    answering: Mapping[str, Any],
    later: Path | None = None,
) -> SuiteReport:
    """Ingest the dataset's corpus if needed, ask (or read from the cache) and score the suite.

    Drafts go to `out_path` (default `<dataset>-grounding.drafts.jsonl`); `llm=None` re-scores
    the cached drafts only.
    """
    from prompts import load_prompts

    started = time.perf_counter()
    dataset_dir = Path(dataset_dir)
    prompts = prompts or load_prompts()
    ingest_corpus(dataset_dir, store, options=ingest_options, progress=True)
    drafts = Drafts(
        Path(out_path or f"{dataset_dir.name}-grounding.drafts.jsonl"),
        ("id", "kind", "prompt", "model", "chunks"),
        prompts,
        f"{model_name}:{answering_key(answering)}",
    )
    cases = grounding_cases(
        dataset_dir,
        store,
        llm,
        prompts,
        k=k,
        questions=questions,
        drafts=drafts,
        answering=answering,
        later=later,
    )
    result = score_grounding(cases, k, context_budget(answering))
    return finish("grounding", dataset_dir.name, drafts, k, model_name, result, len(cases), started)
