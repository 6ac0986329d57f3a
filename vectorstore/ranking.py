"""How a hybrid search orders its candidates (docs/ARCHITECTURE.md, "Fusion"): reciprocal rank
fusion of the dense and keyword rankings (Cormack et al., SIGIR 2009: `w / (k + rank)` summed over
the lists a chunk is in, no score calibration needed), plus a soft recency prior worth at most a
first place, shrinking with age (`scale / (scale + days)`) and scaled by the chunk's similarity
over the best candidate's, so recency decides among chunks about the same story and never lifts
unrelated recent news over an older story that answers. Undated chunks get the prior's median.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

RRF_K: Final = 60


@dataclass(frozen=True)
class RankingPolicy:
    """The weights of a hybrid search (see the module docstring).

    `keyword_weight` 0 makes the search dense only; `recency_weight` 0 turns the prior off.
    `candidates` is how many chunks each ranking offers to the fusion, at least. The defaults
    were chosen on the tuning half of the mini questions and checked on the held-out half
    (BENCHMARKS.md, ranking); `NEWSBOT_TUNING` overrides them by name.
    """

    keyword_weight: float = 0.5
    recency_weight: float = 4.0
    recency_days: float = 14.0
    candidates: int = 30


def fuse(
    dense: Sequence[str],
    keyword: Sequence[str],
    ages: Mapping[str, int | None],
    policy: RankingPolicy,
    similarity: Mapping[str, float] | None = None,
) -> list[str]:
    """The candidate chunk ids, best first.

    Args:
        dense: Chunk ids by embedding similarity, best first.
        keyword: Chunk ids by BM25, best first.
        ages: Each candidate's age in days at the question's date (None: undated).
        policy: The weights.
        similarity: Each candidate's cosine similarity to the question (missing: as the best).
    """
    score: dict[str, float] = {}
    for rank, cid in enumerate(dense, start=1):
        score[cid] = score.get(cid, 0.0) + 1.0 / (RRF_K + rank)
    if policy.keyword_weight > 0:
        for rank, cid in enumerate(keyword, start=1):
            score[cid] = score.get(cid, 0.0) + policy.keyword_weight / (RRF_K + rank)
    if policy.recency_weight > 0 and score:
        prior = recency_prior({cid: ages.get(cid) for cid in score}, policy.recency_days)
        similar = similarity or {}
        best = max((max(v, 0.0) for v in similar.values()), default=0.0)
        for cid, decay in prior.items():
            share = max(similar[cid], 0.0) / best if cid in similar and best > 0 else 1.0
            score[cid] += policy.recency_weight / (RRF_K + 1) * decay * share
    first_seen = {cid: n for n, cid in enumerate([*dense, *keyword])}
    return sorted(score, key=lambda cid: (-score[cid], first_seen[cid]))


def recency_prior(ages: Mapping[str, int | None], scale_days: float) -> dict[str, float]:
    """`scale_days / (scale_days + age)` per chunk, 1 for today (ages below 0, published after
    the question's date, count as 0); undated chunks get the median of the dated ones (0 when
    none is dated)."""
    dated = {
        cid: scale_days / (scale_days + max(age, 0)) for cid, age in ages.items() if age is not None
    }
    neutral = statistics.median(dated.values()) if dated else 0.0
    return {cid: dated.get(cid, neutral) for cid in ages}
