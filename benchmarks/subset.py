"""`python -m benchmarks.subset`: one half of a dataset's questions, evenly spaced, to eval.

A full-set eval on this CPU takes an hour a configuration; comparing two configurations on a
hundred questions of the tuning half first (then of the held-out half) takes a quarter of that.
The subset is written as a dataset directory of the same name under OUT (its `queries.jsonl`
and a link to the corpus), so `newsbot eval OUT/<name>` asks of the collection the full dataset
already ingested instead of ingesting it again.

    python -m benchmarks.subset ../shared/bench/realtimeqa-2022 --half tuning --questions 100 \
        --out bench-out/subsets/tuning
    NEWSBOT_CONTEXT_TOKENS=400 newsbot eval bench-out/subsets/tuning/realtimeqa-2022
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.ranking import half


def write_subset(dataset: Path, part: str, questions: int, out: Path) -> Path:
    """Write `questions` of `dataset`'s questions of half `part`, evenly spaced in its order
    (the dates), as `out/<dataset name>`; return that directory."""
    dataset = dataset.resolve()
    lines = (dataset / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [line for line in lines if line.strip() and half(json.loads(line)["id"]) == part]
    count = min(questions, len(rows))
    picked = [rows[i * len(rows) // count] for i in range(count)]
    folder = out / dataset.name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "queries.jsonl").write_text("\n".join(picked) + "\n", encoding="utf-8")
    corpus = folder / "corpus.jsonl.gz"
    corpus.unlink(missing_ok=True)
    corpus.symlink_to(dataset / "corpus.jsonl.gz")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path, help="a RealTimeQA-style dataset directory")
    parser.add_argument("--half", choices=("tuning", "held-out"), required=True)
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--out", type=Path, required=True, help="where the subset goes")
    args = parser.parse_args()
    folder = write_subset(args.dataset, args.half, args.questions, args.out)
    written = len((folder / "queries.jsonl").read_text(encoding="utf-8").splitlines())
    print(f"{folder}: {written} questions of the {args.half} half")


if __name__ == "__main__":
    main()
