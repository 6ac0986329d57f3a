"""Scoring functions for the benchmark, as defined in the benchmark README. Pure; no I/O.

- accuracy: share of questions whose picked choice is in `answer_idx`, with a 95% Wilson interval;
  an unparseable answer counts as wrong.
- answer recall@k: share of questions whose `answer_text` occurs in one of the top-k retrieved
  chunks (case-insensitive, curly quotes and whitespace normalised, surrounding quotes dropped).
- evidence hit@k: share of questions with a chunk of an `evidence_ids` + `silver_ids` document in
  the top k; MRR@10 on the same labels.
- citation precision: share of cited sources that are a labelled document or contain the answer.
- latency: p50/p95 with linear interpolation between the closest ranks.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
    }
)
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower case, straight quotes, single spaces: the form in which answers are matched."""
    return _SPACES.sub(" ", text.translate(_QUOTES).casefold()).strip()


def contains_answer(answer_text: str, text: str) -> bool:
    """True when `answer_text` (without its surrounding quotes) occurs in `text`, normalised.

    An empty answer occurs nowhere.
    """
    needle = normalise(answer_text).strip("\"' ")
    return bool(needle) and needle in normalise(text)


def first_rank(flags: Iterable[bool]) -> int | None:
    """The 1-based rank of the first True flag, or None when there is none."""
    for rank, flag in enumerate(flags, start=1):
        if flag:
            return rank
    return None


def hit_at_k(ranks: Sequence[int | None], k: int) -> float:
    """Share of questions whose first relevant rank is at most `k` (0.0 for no questions)."""
    if not ranks:
        return 0.0
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def mrr_at_k(ranks: Sequence[int | None], k: int = 10) -> float:
    """Mean reciprocal rank of the first relevant result, counting 0 beyond rank `k`."""
    if not ranks:
        return 0.0
    return sum(1.0 / r for r in ranks if r is not None and r <= k) / len(ranks)


@dataclass(frozen=True)
class Interval:
    """A proportion with its confidence interval."""

    value: float
    low: float
    high: float
    n: int


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> Interval:
    """The proportion `successes / n` with its Wilson score interval (95% for the default z).

    Raises:
        ValueError: `successes` is negative or larger than `n`.
    """
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n={n}, got {successes}")
    if n == 0:
        return Interval(value=0.0, low=0.0, high=1.0, n=0)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return Interval(value=p, low=max(0.0, centre - half), high=min(1.0, centre + half), n=n)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation (numpy's default); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class QuestionScore:
    """What one answered question contributes to the summary.

    `answer_rank` / `label_rank`: 1-based rank of the first retrieved chunk that contains the
    answer text / belongs to a labelled document (None: not retrieved). `cited_good` of
    `cited_total` cited sources are labelled or contain the answer.
    """

    correct: bool
    parsed: bool
    answer_rank: int | None
    label_rank: int | None
    cited_total: int
    cited_good: int
    ttft_s: float | None
    total_s: float


def score_question(
    *,
    choice_idx: int | None,
    answer_idx: Sequence[int],
    answer_text: str,
    labels: Iterable[str],
    retrieved: Sequence[tuple[str, str]],
    cited: Sequence[str],
    ttft_s: float | None,
    total_s: float,
) -> QuestionScore:
    """Score one question.

    Args:
        choice_idx: the picked choice (0-based) or None when the answer was unparseable.
        answer_idx: the correct choices.
        answer_text: the correct answer's text, looked for in the retrieved chunks.
        labels: ids of the documents that count as relevant (evidence + silver).
        retrieved: `(article_id, chunk_text)` in rank order.
        cited: article ids of the cited sources; a cited source is good when its article is
            labelled or one of its retrieved chunks contains the answer.
        ttft_s: seconds to the first token (None when not measured).
        total_s: seconds for the whole answer.
    """
    label_set = set(labels)
    holds_answer = [contains_answer(answer_text, text) for _, text in retrieved]
    answering_articles = {aid for (aid, _), ok in zip(retrieved, holds_answer, strict=True) if ok}
    good = sum(1 for aid in cited if aid in label_set or aid in answering_articles)
    return QuestionScore(
        correct=choice_idx is not None and choice_idx in answer_idx,
        parsed=choice_idx is not None,
        answer_rank=first_rank(holds_answer),
        label_rank=first_rank(aid in label_set for aid, _ in retrieved),
        cited_total=len(cited),
        cited_good=good,
        ttft_s=ttft_s,
        total_s=total_s,
    )


KS = (1, 5, 10)


def summarise(scores: Sequence[QuestionScore], ks: Sequence[int] = KS) -> dict[str, object]:
    """The summary of a run as JSON-ready values (floats rounded to 4 places).

    Keys: `n`, `accuracy`, `accuracy_ci95` ([low, high]), `unparseable`, `answer_recall@k` and
    `evidence_hit@k` for each k, `mrr@10`, `citation_precision` (None when nothing was cited),
    `cited`, `ttft_p50_s`, `ttft_p95_s`, `total_p50_s`, `total_p95_s`; and, to tell retrieval's
    misses from the model's, `accuracy_with_evidence` (over the questions whose retrieved chunks
    include a labelled document) and `citation_precision_right` / `_wrong` (over right and
    wrong picks).
    """
    acc = wilson_interval(sum(s.correct for s in scores), len(scores))
    answer_ranks = [s.answer_rank for s in scores]
    label_ranks = [s.label_rank for s in scores]
    cited = sum(s.cited_total for s in scores)
    ttfts = [s.ttft_s for s in scores if s.ttft_s is not None]
    totals = [s.total_s for s in scores]

    def r(value: float | None) -> float | None:
        return None if value is None else round(value, 4)

    summary: dict[str, object] = {
        "n": len(scores),
        "accuracy": r(acc.value),
        "accuracy_ci95": [r(acc.low), r(acc.high)],
        "unparseable": sum(1 for s in scores if not s.parsed),
    }
    for k in ks:
        summary[f"answer_recall@{k}"] = r(hit_at_k(answer_ranks, k))
    for k in ks:
        summary[f"evidence_hit@{k}"] = r(hit_at_k(label_ranks, k))
    summary["mrr@10"] = r(mrr_at_k(label_ranks, 10))
    summary["citation_precision"] = r(sum(s.cited_good for s in scores) / cited if cited else None)
    summary["cited"] = cited
    with_evidence = [s for s in scores if s.label_rank is not None]
    summary["accuracy_with_evidence"] = r(
        sum(s.correct for s in with_evidence) / len(with_evidence) if with_evidence else None
    )
    for name, group in (("right", True), ("wrong", False)):
        picked = [s for s in scores if s.correct is group]
        cited_here = sum(s.cited_total for s in picked)
        summary[f"citation_precision_{name}"] = r(
            sum(s.cited_good for s in picked) / cited_here if cited_here else None
        )
    summary["ttft_p50_s"] = r(percentile(ttfts, 50))
    summary["ttft_p95_s"] = r(percentile(ttfts, 95))
    summary["total_p50_s"] = r(percentile(totals, 50))
    summary["total_p95_s"] = r(percentile(totals, 95))
    return summary
