"""Retrieval quality by ranking configuration: the ablation of hybrid search and recency.

Each configuration (`RankingPolicy`) retrieves every question of a dataset through the product's
own retrieval (`bot.answer.chain.retrieve_passages`, as of the question's date), and is scored
on evidence hit@k (a chunk of an evidence/silver document), answer recall@k (the answer's text in
a chunk) and MRR@10, with the search time. The questions are split by a hash of their id into a
tuning half and a held-out half: weights are chosen on the tuning half only, and both are
reported, so a gain that only fits the tuning questions shows.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from benchmarks.common import BenchConfig, open_store, pct, settings_for, stamp
from newsbot.errors import InputError
from vectorstore.ranking import RankingPolicy

if TYPE_CHECKING:
    from newsbot.evaluation.dataset import Query
    from vectorstore.store import NewsStore

DEPTH = 10  # passages retrieved per question; hit@k is read off the first k


def half(query_id: str) -> str:
    """'tuning' or 'held-out': a stable split by the id's hash (not by date or topic)."""
    return "tuning" if hashlib.sha256(query_id.encode()).digest()[0] % 2 == 0 else "held-out"


GRID_KEYWORD = (0.0, 0.5, 1.0)
GRID_RECENCY = (0.5, 1.0, 2.0, 4.0)
GRID_DAYS = (14.0, 60.0, 180.0)


def tune(store: NewsStore, queries: Sequence[Query]) -> tuple[RankingPolicy, list[dict[str, Any]]]:
    """The grid's best weights on the tuning half (by MRR@10, then evidence hit@3), and every
    grid point's tuning scores. The held-out half is never looked at here."""
    tuning = [q for q in queries if half(q.id) == "tuning"]
    grid: list[dict[str, Any]] = []
    for keyword in GRID_KEYWORD:
        for recency in GRID_RECENCY:
            for days in GRID_DAYS:
                policy = RankingPolicy(keyword, recency, days)
                scores = evaluate(store, tuning, policy)["all"]
                grid.append({"keyword": keyword, "recency": recency, "days": days, **scores})
    best = max(grid, key=lambda g: (g["mrr@10"], g["ev@3"]))
    return RankingPolicy(best["keyword"], best["recency"], best["days"]), grid


def configurations(default: RankingPolicy) -> dict[str, tuple[RankingPolicy, bool]]:
    """The ablation's rows, each lever alone and together: (ranking, time windows)."""
    dense = replace(default, keyword_weight=0.0, recency_weight=0.0)
    hybrid = replace(default, recency_weight=0.0)
    return {
        "dense (before)": (dense, False),
        "BM25 alone": (replace(dense, keyword_weight=1000.0), False),  # dense breaks ties only
        "hybrid": (hybrid, False),
        "dense + recency": (replace(default, keyword_weight=0.0), False),
        "hybrid + recency (default)": (default, False),
        "hybrid + recency + time windows": (default, True),
    }


def context_rows(
    store: NewsStore,
    queries: Sequence[Query],
    policy: RankingPolicy,
    k: int,
    depth: int,
    budget: int,
) -> dict[str, Any]:
    """Answer text and evidence in what the model reads: the top `k` chunks whole against the
    compact context of the top `depth` chunks within `budget` tokens, per half."""
    from bot.answer.chain import retrieve_passages
    from bot.answer.context import compact_passages
    from newsbot.evaluation.metrics import contains_answer

    store.ranking = policy
    rows: dict[str, list[dict[str, Any]]] = {"whole": [], "compact": []}
    for query in queries:
        as_of = date.fromisoformat(query.date)
        ranked = sorted(
            retrieve_passages(store, query.question, max(k, depth), as_of).passages,
            key=lambda p: p.rank,
        )
        shown = {
            "whole": ranked[:k],
            "compact": compact_passages(ranked[:depth], query.question, budget),
        }
        for name, passages in shown.items():
            text = " ".join(p.text for p in passages)
            rows[name].append(
                {
                    "half": half(query.id),
                    "answer": contains_answer(query.answer_text, text),
                    "evidence": any(p.article_id in query.labels for p in passages),
                    "tokens": len(text) / 4,
                }
            )

    def summary(items: list[dict[str, Any]]) -> dict[str, Any]:
        n = len(items) or 1
        return {
            "answer": round(sum(r["answer"] for r in items) / n, 3),
            "evidence": round(sum(r["evidence"] for r in items) / n, 3),
            "tokens": round(sum(r["tokens"] for r in items) / n),
        }

    return {
        "k": k,
        "depth": depth,
        "budget": budget,
        "rows": {
            name: {h: summary([r for r in items if r["half"] == h]) for h in ("tuning", "held-out")}
            for name, items in rows.items()
        },
    }


def _score(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    n = len(rows)
    if n == 0:
        return {"n": 0}

    def share(key: str, k: int) -> float:
        return round(sum(1 for r in rows if r[key] is not None and r[key] <= k) / n, 3)

    mrr = sum(1.0 / r["label_rank"] for r in rows if r["label_rank"]) / n
    return {
        "n": n,
        **{f"ev@{k}": share("label_rank", k) for k in (1, 3, 5, 10)},
        **{f"ans@{k}": share("answer_rank", k) for k in (3, 10)},
        "mrr@10": round(mrr, 3),
    }


def evaluate(
    store: NewsStore, queries: Sequence[Query], policy: RankingPolicy, time_windows: bool = False
) -> dict[str, Any]:
    """Scores per half and overall, and search latency, of one configuration."""
    from bot.answer.chain import retrieve_passages
    from newsbot.evaluation.metrics import contains_answer, first_rank

    store.ranking = policy
    rows: list[dict[str, Any]] = []
    seconds: list[float] = []
    for query in queries:
        started = time.perf_counter()
        retrieval = retrieve_passages(
            store, query.question, DEPTH, date.fromisoformat(query.date), time_windows=time_windows
        )
        seconds.append(time.perf_counter() - started)
        ranked = sorted(retrieval.passages, key=lambda p: p.rank)
        rows.append(
            {
                "half": half(query.id),
                "label_rank": first_rank(p.article_id in query.labels for p in ranked),
                "answer_rank": first_rank(
                    contains_answer(query.answer_text, p.text) for p in ranked
                ),
            }
        )
    return {
        "all": _score(rows),
        **{h: _score([r for r in rows if r["half"] == h]) for h in ("tuning", "held-out")},
        "search_ms_p50": round(1000 * (pct(seconds, 50) or 0), 1),
        "search_ms_p95": round(1000 * (pct(seconds, 95) or 0), 1),
    }


def bench_ranking(config: BenchConfig) -> dict[str, Any]:
    """The ablation table, the tuning grid and the compact context's share of answers, on the
    mini set (and the full 2022 set when its corpus is ingested)."""
    from newsbot.evaluation.corpus import eval_collection_name
    from newsbot.evaluation.dataset import load_queries
    from newsbot.factories import ranking

    settings = settings_for(config.data_dir)
    default = ranking(settings)
    datasets: dict[str, Any] = {}
    for label, path in (("mini", config.mini), ("full 2022", config.full)):
        store = open_store(settings, eval_collection_name(path))
        if store.stats()["chunks"] == 0 or store.stats()["pending"]:
            if label == "mini":
                raise InputError(
                    f"No mini collection in {config.data_dir}: run `newsbot --data-dir "
                    f"{config.data_dir} eval {config.mini} --limit 1` first (it ingests the corpus)"
                )
            continue
        queries = load_queries(path)
        store.embeddings.embed_query(queries[0].question)  # load the embedder outside the timing
        _, grid = tune(store, queries)
        datasets[label] = {
            "chunks": store.stats()["chunks"],
            "rows": {
                name: evaluate(store, queries, policy, windows)
                for name, (policy, windows) in configurations(default).items()
            },
            "grid": sorted(grid, key=lambda g: (-g["mrr@10"], -g["ev@3"]))[:8],
            "context": context_rows(
                store,
                queries,
                default,
                3,
                settings.retrieval.top_k,
                settings.retrieval.context_tokens or 200,
            ),
        }
    return stamp(
        "ranking", config, {"depth": DEPTH, "default": asdict(default), "datasets": datasets}
    )
