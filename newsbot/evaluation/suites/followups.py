"""The `followups` suite: two-turn conversations that the sample articles answer, or don't.

Each case (`data/followups.jsonl`, written for this project over the sample articles of
`examples/articles`, which `data/articles` links to and a wheel holds as files) is a first
question, then a follow-up that the articles answer ("expect": "answer", with `keys` that a right
answer holds) or one they don't ("What about toasters?" after a kettle recall; "expect":
"refuse"). The product answers the first question, then the follow-up with that history; the
follow-up's draft is cached with its condensed question and passages and scored by the check.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsbot.errors import InputError
from newsbot.evaluation.dataset import read_records
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

# Package data: a wheel installs it as files, so these are real paths (the ingest reads a folder).
DATA = Path(str(resources.files("newsbot.evaluation").joinpath("data")))
CASES = DATA / "followups.jsonl"
ARTICLES = DATA / "articles"
COLLECTION = "eval-followups"
EXPECT = ("answer", "refuse")


def load_cases(path: Path = CASES) -> list[dict[str, Any]]:
    """The conversations of a cases file (JSON lines: first, follow_up, expect, keys)."""
    if not path.is_file():
        raise InputError(f"{path} not found: pass a JSON-lines file of follow-up cases")
    cases = []
    for n, case in read_records(path):
        if not (case.get("first") and case.get("follow_up") and case.get("expect") in EXPECT):
            raise InputError(
                f"{path}:{n} is not a follow-up case: each line needs first, follow_up and "
                'expect ("answer" or "refuse")'
            )
        cases.append(case)
    return cases


def followup_rows(
    cases: list[dict[str, Any]],
    store: NewsStore,
    llm: BaseChatModel | None,
    prompts: Prompts,
    *,
    k: int,
    drafts: Drafts,
    answering: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Each case with its draft from `drafts` (asked now when not cached; with `llm=None` a case
    not in the cache is left out)."""
    from bot.answer.assistant import Assistant
    from bot.answer.chain import prompt_order
    from bot.answer.history import ChatTurn
    from bot.answer.question import Question

    retriever = SuiteRetriever(store)
    assistant = Assistant(retriever, llm, prompts, k=k, **answering) if llm else None
    rows = []
    for case in cases:

        def ask(case: dict[str, Any] = case) -> dict[str, Any]:
            assert assistant is not None
            first = assistant.ask(Question(case["first"]))
            history: list[ChatTurn] = [
                {"role": "user", "content": case["first"]},
                {"role": "assistant", "content": first.answer},
            ]
            result = assistant.ask(Question(case["follow_up"], history))
            logger.info("%s → %r", case["follow_up"], result.draft[:120])
            return {
                "first_answer": first.answer,
                "standalone": result.standalone_question,
                "passages": [dataclasses.asdict(p) for p in prompt_order(retriever.last)],
                "raw": result.draft,
                "second_look": result.second_look,
                # first checked text of each turn (the refusal's, when nothing passed)
                "first_token_s": [
                    first.timings.get("first_token_s"),
                    result.timings.get("first_token_s"),
                ],
            }

        question = {"first": case["first"], "follow_up": case["follow_up"]}
        record = drafts.get(question, ask if assistant else None)
        if record is not None:
            rows.append({**case, **record})
    return rows


def score_followups(rows: list[dict[str, Any]], k: int, context_tokens: int = 0) -> dict[str, Any]:
    """Counts per expectation: model refused, answered on a second look, refused after the check
    (and by which check), right (answered and holding an expected fact); each draft checked
    against what the model read (`context_tokens`: the compact context's budget, 0 for whole)."""
    groups: dict[str, dict[str, Any]] = {}
    cases = []
    for row in rows:
        second_look = bool(row["second_look"])
        verdict = recheck(
            row["raw"],
            [Passage(**p) for p in row["passages"]],
            row["standalone"],
            follow_up=row["follow_up"],
            second_look=second_look,
            context_tokens=context_tokens,
        )
        keys = row.get("keys", [])
        right = verdict.grounded and any(contains_answer(key, verdict.answer) for key in keys)
        tally(groups, row["expect"], verdict, second_look)
        count(groups[row["expect"]], "right", right)
        cases.append(
            {
                "follow_up": row["follow_up"],
                "expect": row["expect"],
                "raw": row["raw"][:200],
                "answer": verdict.answer[:200],
                "grounded": verdict.grounded,
                "refused_by": verdict.refused_by,
            }
        )
    return {"k": k, "groups": groups, "cases": cases, "first_token_p50_s": _latency(rows)}


def _latency(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    """Median first checked text of first questions and of their follow-ups (seconds).

    A first question recurs across the cases' conversations, and from its second time on the
    server has its prompt cached: only its first time counts. Drafts cached by older versions
    have no timings and count for neither.
    """
    from newsbot.evaluation.metrics import percentile

    timed = [row for row in rows if all(row.get("first_token_s") or [None])]
    first: dict[str, float] = {}
    for row in timed:
        first.setdefault(row["first"], row["first_token_s"][0])
    return {
        "first": percentile(list(first.values()), 50),
        "follow_up": percentile([row["first_token_s"][1] for row in timed], 50),
    }


def run_followups(
    *,
    store: NewsStore,
    llm: BaseChatModel | None,
    k: int,
    cases_path: Path = CASES,
    articles: Path = ARTICLES,
    out_path: Path | None = None,
    limit: int | None = None,
    prompts: Prompts | None = None,
    model_name: str = "",
    ingest_options: dict[str, Any] | None = None,
    answering: Mapping[str, Any],
) -> SuiteReport:
    """Ingest the sample articles into `store` if needed, ask (or read cached) and score.

    Drafts go to `out_path` (default `followups.drafts.jsonl`); `limit` keeps the first cases;
    `llm=None` re-scores the cache.
    """
    from ingest.pipeline import ingest
    from prompts import load_prompts

    started = time.perf_counter()
    cases = load_cases(cases_path)[:limit]
    ingest([str(articles)], store, **(ingest_options or {}))
    model_key = f"{model_name}:k={k}:{answering_key(answering)}"
    prompts = prompts or load_prompts()
    drafts = Drafts(
        Path(out_path or "followups.drafts.jsonl"),
        ("first", "follow_up", "prompt", "model"),
        prompts,
        model_key,
    )
    rows = followup_rows(cases, store, llm, prompts, k=k, drafts=drafts, answering=answering)
    result = score_followups(rows, k, context_budget(answering))
    return finish("followups", cases_path.name, drafts, k, model_name, result, len(rows), started)
