"""The `claims` part of `python -m benchmarks`: can the configured chat model check claims?

The answer check is lexical (bot/answer/grounding); a wrong detail built from a passage's own
words ("the strike resumes on Thursday" where the talks do) passes it. This part measures the
alternative the issue proposed: ask the model, for each cited sentence of a shown answer,
whether its passage states it (a fresh prompt with only the cited passage and the sentence),
and read P(yes) from the first token's log-probabilities.

Asking inside the answer's own conversation instead (its prompt and draft, then the question,
so a caching server reads only the new tokens) was tried first, by hand, on the same answers:
the model answered "no" to nearly every sentence, right or wrong (docs/grounding.md). It is
not part of this bench because replaying it costs every answer's whole prompt again (~30 min).

Scored on the golden corpus's shown answers (tests/golden: right = holds an expected fact,
wrong = shown without one), per half: how well the least-supported sentence's P(yes) separates
right from wrong answers (AUC; 0.5 is chance), what the model's own yes/no (P(yes) >= 0.5, no
threshold tuned) keeps and catches, and the seconds per sentence. Also scored on
benchmarks/data/claim_pairs.jsonl: sentences we wrote over our sample articles, each stated by its
paragraph or a changed detail away from it.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from benchmarks.common import BenchConfig, pct, stamp
from bot.answer.grounding.draft import split_draft
from bot.answer.grounding.markers import cited_numbers, strip_markers
from tests.golden import corpus, scoring

PAIRS = Path(__file__).resolve().parent / "data" / "claim_pairs.jsonl"
SAMPLES = Path(__file__).resolve().parents[1] / "examples" / "articles"
JUDGE_SYSTEM = "You check facts. Answer only yes or no."
JUDGE_QUESTION = (
    "Passage:\n{passage}\n\nStatement: {claim}\n\nDoes the passage state this? Answer yes or no."
)


def p_yes(llm: Any, messages: list[tuple[str, str]]) -> tuple[float, float]:
    """P(yes) against P(no) for the model's first reply token, and the seconds it took."""
    judge = llm.bind(max_tokens=1, logprobs=True, top_logprobs=10, temperature=0)
    started = time.perf_counter()
    reply = judge.invoke(messages)
    seconds = time.perf_counter() - started
    top = reply.response_metadata["logprobs"]["content"][0]["top_logprobs"]
    probs = {t["token"].strip().lower(): math.exp(t["logprob"]) for t in top}
    yes, no = probs.get("yes", 0.0), probs.get("no", 0.0)
    return (yes / (yes + no) if yes + no else 0.5), seconds


def judged(llm: Any, passage: str, claim: str) -> tuple[float, float]:
    """P(yes) that `passage` states `claim`, and the seconds the model took."""
    return p_yes(
        llm,
        [("system", JUDGE_SYSTEM), ("human", JUDGE_QUESTION.format(passage=passage, claim=claim))],
    )


def _shown_answers() -> list[dict[str, Any]]:
    """Each golden case the check shows: its half, outcome and cited sentences (the passage
    each cites, the sentence without its markers)."""
    cases = corpus.load_cases()
    articles = corpus.read_shared_articles(corpus.shared_refs(cases))
    shown = []
    for case in cases:
        passages = corpus.load_passages(case["passages"], articles)
        checked = scoring.answer(case, passages)
        outcome = scoring.outcome(case, checked)
        if outcome == "refused" or case["expect"] == "unknown":
            continue
        claims = []
        for sentence in split_draft(checked.text):  # the product's sentences and markers
            numbers = cited_numbers(sentence.text)
            if numbers:
                passage = passages[checked.cited[numbers[0] - 1]]
                claims.append((passage.text.strip(), strip_markers(sentence.text)))
        if claims:
            shown.append({"half": case["half"], "outcome": outcome, "claims": claims})
    return shown


def auc(positives: list[float], negatives: list[float]) -> float | None:
    """P(a random positive scores above a random negative), ties counting half."""
    if not positives or not negatives:
        return None
    wins = sum((p > q) + 0.5 * (p == q) for p in positives for q in negatives)
    return round(wins / (len(positives) * len(negatives)), 3)


def _score_golden(llm: Any, shown: list[dict[str, Any]]) -> dict[str, Any]:
    halves: dict[str, Any] = {}
    seconds: list[float] = []
    for half in ("tuning", "heldout"):
        least: dict[str, list[float]] = {"right": [], "wrong": []}
        for answer in (a for a in shown if a["half"] == half):
            probs = []
            for passage, claim in answer["claims"]:
                p, s = judged(llm, passage, claim)
                probs.append(p)
                seconds.append(s)
            least[answer["outcome"]].append(min(probs))
        halves[half] = {
            "right": len(least["right"]),
            "wrong": len(least["wrong"]),
            "auc": auc(least["right"], least["wrong"]),
            "right_kept": sum(p >= 0.5 for p in least["right"]),
            "wrong_caught": sum(p < 0.5 for p in least["wrong"]),
        }
    return {
        "halves": halves,
        "sentences": len(seconds),
        "p50_s": pct(seconds, 50),
        "p95_s": pct(seconds, 95),
    }


def _score_pairs(llm: Any) -> dict[str, Any]:
    pairs = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines() if line]
    stated: list[float] = []
    changed: list[float] = []
    for pair in pairs:
        text = (SAMPLES / pair["article"]).read_text(encoding="utf-8")
        paragraph = next(p for p in text.split("\n\n") if pair["paragraph"] in p)
        p, _ = judged(llm, paragraph, pair["claim"])
        (stated if pair["stated"] else changed).append(p)
    return {
        "stated": len(stated),
        "changed": len(changed),
        "auc": auc(stated, changed),
        "stated_kept": sum(p >= 0.5 for p in stated),
        "changed_caught": sum(p < 0.5 for p in changed),
    }


def bench_claims(config: BenchConfig) -> dict[str, Any]:
    from newsbot.factories import build_llm
    from newsbot.settings import get_settings

    settings = get_settings()
    llm = build_llm(settings)
    shown = _shown_answers()
    return stamp(
        "claims",
        config,
        {
            "model": f"{settings.model.provider}: {llm.model_name}",
            "answers": len(shown),
            "golden": _score_golden(llm, shown),
            "pairs": _score_pairs(llm),
        },
    )
