"""What the model reads: the answer text kept by each way of building the context, no model.

Dev-only (not shipped). For each question of a dataset, retrieves the product's passages once
(as of the question's date, cached in the work dir), then builds the context each candidate
would give the model and counts how often the answer's text is in it, per half of the
questions (tuning / held-out, `newsbot.evaluation.bench.ranking.half`), with the evidence
article kept and the mean prompt size (characters / 4).

    python scripts/bench_context.py ../shared/bench/realtimeqa-2022-mini --data-dir bench-out/data
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bot.answer.chain import format_passages, retrieve_passages  # noqa: E402
from newsbot.evaluation.bench.ranking import half  # noqa: E402
from newsbot.evaluation.metrics import contains_answer  # noqa: E402
from vectorstore.records import Passage  # noqa: E402

Builder = Callable[[Sequence[Passage], str], list[Passage]]


def retrieved(dataset: Path, data_dir: Path, work: Path, depth: int) -> list[dict[str, Any]]:
    """Each question with its top `depth` passages in rank order (cached)."""
    cache = work / f"context-{dataset.name}-{depth}.pkl"
    if cache.is_file():
        return pickle.loads(cache.read_bytes())  # type: ignore[no-any-return]
    from newsbot.evaluation.bench.common import open_store, settings_for
    from newsbot.evaluation.corpus import eval_collection_name
    from newsbot.evaluation.dataset import load_queries

    store = open_store(settings_for(data_dir), eval_collection_name(dataset))
    rows = []
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
    from bot.answer import context

    def whole(k: int) -> Builder:
        return lambda passages, question: list(passages[:k])

    def compact(budget: int, paragraph: int, leads: int = 0) -> Builder:
        return lambda passages, question: context.compact_passages(
            passages, question, budget, paragraph, leads
        )

    out: dict[str, Builder] = {"whole k=4": whole(4), "whole k=3": whole(3)}
    for budget in (200, 250, 300, 350, 400):
        out[f"sentences {budget}"] = compact(budget, 0)  # a sentence and its follower
        for paragraph in (80, 150):
            out[f"paragraphs<={paragraph} {budget}"] = compact(budget, paragraph)
            for leads in (1, 2, 4):
                out[f"paragraphs<={paragraph} leads{leads} {budget}"] = compact(
                    budget, paragraph, leads
                )
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--data-dir", type=Path, default=REPO / "bench-out" / "data")
    parser.add_argument("--work-dir", type=Path, default=REPO / "bench-out" / "work")
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--only", default="", help="comma-separated candidate names")
    args = parser.parse_args(argv)
    rows = retrieved(args.dataset, args.data_dir, args.work_dir, args.depth)
    only = {n.strip() for n in args.only.split(",") if n.strip()}
    for name, build in candidates().items():
        if only and name not in only:
            continue
        result = score(rows, build)
        print(json.dumps({"dataset": args.dataset.name, "context": name, **result}))


if __name__ == "__main__":
    main()
