"""What the model reads: the answer text kept by each way of building the context, no model.

Dev-only (not shipped); a part of `python -m benchmarks` (`--only context`), or alone on one set.
For each question of a dataset, retrieves the product's passages once (as of the question's
date, cached in the work dir), then builds the context each candidate would give the model and
counts how often the answer's text is in it, per half of the questions (tuning / held-out,
`benchmarks.ranking.half`), with the evidence article kept and the mean prompt
size (characters / 4).

    python -m benchmarks.context ../shared/bench/realtimeqa-2022-mini --data-dir bench-out/data
"""

from __future__ import annotations

import argparse
import json
import pickle
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.common import BenchConfig, stamp
from benchmarks.ranking import half
from bot.answer.chain import format_passages, retrieve_passages
from newsbot.evaluation.metrics import contains_answer
from vectorstore.records import Passage

REPO = Path(__file__).resolve().parents[1]

Builder = Callable[[Sequence[Passage], str], list[Passage]]


def retrieved(dataset: Path, data_dir: Path, work: Path, depth: int) -> list[dict[str, Any]]:
    """Each question with its top `depth` passages in rank order (cached)."""
    cache = work / f"context-{dataset.name}-{depth}.pkl"
    if cache.is_file():
        return pickle.loads(cache.read_bytes())  # type: ignore[no-any-return]
    from benchmarks.common import open_store, settings_for
    from newsbot.evaluation.corpus import eval_collection_name
    from newsbot.evaluation.dataset import load_queries

    store = open_store(settings_for(data_dir), eval_collection_name(dataset))
    rows: list[dict[str, Any]] = []
    for query in load_queries(dataset):
        as_of = date.fromisoformat(query.date)
        passages = retrieve_passages(store, query.question, depth, as_of).passages
        rows.append(
            {
                "id": query.id,
                "half": half(query.id),
                "question": query.question,
                "answer": query.answer_text,
                "labels": set(query.evidence_ids) | set(query.silver_ids),
                "passages": sorted(passages, key=lambda p: p.rank),
            }
        )
    work.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(pickle.dumps(rows))
    return rows


def score(rows: Sequence[dict[str, Any]], build: Builder) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("tuning", "held-out", "all"):
        chosen = [r for r in rows if name == "all" or r["half"] == name]
        answer = evidence = tokens = 0.0
        for row in chosen:
            shown = build(row["passages"], row["question"])
            text = " ".join(p.text for p in shown)
            answer += contains_answer(row["answer"], text)
            evidence += any(p.article_id in row["labels"] for p in shown)
            tokens += len(format_passages(shown)) / 4
        n = len(chosen) or 1
        out[name] = {
            "answer": round(answer / n, 3),
            "evidence": round(evidence / n, 3),
            "tokens": round(tokens / n),
        }
    return out


def candidates() -> dict[str, Builder]:
    """The contexts compared: whole chunks, and the compact context's levers one by one."""
    from bot.answer import context

    def whole(k: int) -> Builder:
        return lambda passages, question: list(passages[:k])

    def compact(budget: int, paragraph: int, leads: int) -> Builder:
        return lambda passages, question: context.compact_passages(
            passages, question, budget, paragraph, leads
        )

    out: dict[str, Builder] = {"4 chunks whole": whole(4), "3 chunks whole": whole(3)}
    for budget in BUDGETS:
        out[f"{budget}: single sentences and the next"] = compact(budget, 0, 0)
        out[f"{budget}: paragraphs"] = compact(budget, context.PARAGRAPH_TOKENS, 0)
        out[f"{budget}: paragraphs + lead"] = compact(budget, context.PARAGRAPH_TOKENS, 1)
    return out


BUDGETS = (200, 300, 400)


def bench_context(config: BenchConfig) -> dict[str, Any]:
    """`python -m benchmarks --only context`: every candidate on the mini, full 2022 and 2024-H1
    sets (those whose collection is in the data dir), per half."""
    from newsbot.settings import RetrievalSettings

    default = RetrievalSettings.model_fields["context_tokens"].default
    datasets: dict[str, Any] = {}
    for dataset in (config.mini, config.full, config.h1):
        if not _ingested(config.data_dir, dataset):
            continue
        rows = retrieved(dataset, config.data_dir, config.work_dir, 4)
        datasets[dataset.name] = {
            "questions": len(rows),
            "contexts": {name: score(rows, build) for name, build in candidates().items()},
        }
    return stamp("context", config, {"default_budget": default, "datasets": datasets})


def _ingested(data_dir: Path, dataset: Path) -> bool:
    """True when the dataset's whole corpus is in its collection (an ingest may be under way)."""
    import gzip
    import sqlite3

    from newsbot.evaluation.corpus import eval_collection_name

    registry = data_dir / "registry.sqlite3"
    if not registry.is_file():
        return False
    with sqlite3.connect(registry) as db:
        found = db.execute(
            "SELECT count(*) FROM articles WHERE collection = ?", (eval_collection_name(dataset),)
        ).fetchone()
    with gzip.open(dataset / "corpus.jsonl.gz", "rt", encoding="utf-8") as corpus:
        documents = sum(1 for line in corpus if line.strip())
    return bool(found and found[0] >= documents)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--data-dir", type=Path, default=REPO / "bench-out" / "data")
    parser.add_argument("--work-dir", type=Path, default=REPO / "bench-out" / "work")
    parser.add_argument("--depth", type=int, default=4)
    args = parser.parse_args(argv)
    rows = retrieved(args.dataset, args.data_dir, args.work_dir, args.depth)
    for name, build in candidates().items():
        print(json.dumps({"dataset": args.dataset.name, "context": name, **score(rows, build)}))


if __name__ == "__main__":
    main()
