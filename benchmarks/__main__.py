"""`make bench` (`python -m benchmarks`): measure newsbot on real data; each part's result goes to
benchmarks/results.json (BENCHMARKS.md states the figures in prose and tables).

Parts (run all but accuracy, or some with `--only ingest,retrieval,...`); each is a module of
`benchmarks`:

- ingest: the mini corpus through the ingest pipeline, the raw embedder and LangChain's tutorial
  indexing, in one run;
- context: what the model reads (answer text kept by whole chunks and the compact context's
  levers), on mini, full 2022 and 2024-H1, no model (benchmarks/context.py);
- ranking: retrieval quality (evidence/answer hit@k, MRR) of dense, BM25, hybrid and recency,
  on a tuning and a held-out half of the questions;
- retrieval: `NewsStore.search` latency at the mini, full-2022 and a synthetic 200k size;
- answer: the product's first-token and whole-answer latency over 30 mini questions;
- prompt: the model's first-token time by prompt length, with and without a cached prefix, and
  the answer prompt's fixed tokens (benchmarks/prompt_reading.py);
- threads: the same on 1 and on 2 threads, idle and with another process on one core;
- follow: the same alone and while a followed 200-entry feed is polled beside, as `newsbot
  serve` polls (benchmarks/follow.py);
- grounding, followups: the answer-check suites of `newsbot eval` (drafts cached in the work
  dir, so a changed check is re-scored without the model);
- topics: follow-ups and changes of topic, what the model reads of the second question searched
  beside the earlier one, fused with it always, and as the product does (benchmarks/topics.py);
- golden: the answer check on the golden corpus's recorded answers, per half, no model
  (benchmarks/golden.py);
- claims: the chat model asked whether each cited sentence is stated by its passage, scored on
  the golden corpus and on claim pairs over the sample articles (benchmarks/claims.py);
- serve: peak resident memory of `newsbot serve` after one answer;
- cli: wall time of `newsbot --help` and `newsbot stats`;
- scale: 20 concurrent chats over two replicas of scripts/scale_demo.py's deployment
  (benchmarks/scale.py);
- keywords: the keyword index's search time in SQLite FTS5 and in PostgreSQL, same chunks;
- accuracy: records `newsbot eval` summaries (`--summaries a.summary.json ...`).

"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import BenchConfig

logger = logging.getLogger("bench")


def _parts() -> dict[str, Callable[[BenchConfig], dict[str, Any]]]:
    from benchmarks.accuracy import bench_accuracy
    from benchmarks.answer import bench_answer
    from benchmarks.checks import bench_followups, bench_grounding
    from benchmarks.claims import bench_claims
    from benchmarks.cli_start import bench_cli
    from benchmarks.context import bench_context
    from benchmarks.follow import bench_follow
    from benchmarks.golden import bench_golden
    from benchmarks.ingest import bench_ingest
    from benchmarks.prompt_reading import bench_prompt_reading
    from benchmarks.ranking import bench_ranking
    from benchmarks.retrieval import bench_retrieval
    from benchmarks.scale import bench_keywords, bench_scale
    from benchmarks.serve import bench_serve
    from benchmarks.threads import bench_threads
    from benchmarks.topics import bench_topics

    return {
        "ingest": bench_ingest,
        "retrieval": bench_retrieval,
        "ranking": bench_ranking,
        "context": bench_context,
        "answer": bench_answer,
        "prompt": bench_prompt_reading,
        "threads": bench_threads,
        "follow": bench_follow,
        "grounding": bench_grounding,
        "golden": bench_golden,
        "claims": bench_claims,
        "followups": bench_followups,
        "topics": bench_topics,
        "serve": bench_serve,
        "cli": bench_cli,
        "scale": bench_scale,
        "keywords": bench_keywords,
        "accuracy": bench_accuracy,
    }


PARTS = (
    "ingest",
    "retrieval",
    "ranking",
    "context",
    "answer",
    "prompt",
    "threads",
    "follow",
    "grounding",
    "golden",
    "claims",
    "followups",
    "topics",
    "serve",
    "cli",
    "scale",
    "keywords",
    "accuracy",
)


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    defaults = BenchConfig()
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--only", default=",".join(PARTS[:-1]), help="comma-separated parts")
    parser.add_argument("--mini", type=Path, default=defaults.mini)
    parser.add_argument("--full", type=Path, default=defaults.full)
    parser.add_argument("--h1", type=Path, default=defaults.h1, help="realtimeqa-2024-h1")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("NEWSBOT_DATA_DIR", defaults.data_dir)),
        help="newsbot data dir holding the eval collections (eval-realtimeqa-2022-mini, ...)",
    )
    parser.add_argument(
        "--own-data-dir",
        dest="own_data_dirs",
        type=Path,
        action="append",
        default=[],
        help="retrieval: also a data dir holding one eval collection alone (repeatable)",
    )
    parser.add_argument("--work-dir", type=Path, default=defaults.work_dir)
    parser.add_argument("--docs", type=int, default=0, help="ingest only the first N docs")
    parser.add_argument("--synthetic", type=int, default=defaults.synthetic)
    parser.add_argument("--questions", type=int, default=defaults.questions)
    parser.add_argument("--grounding-questions", type=int, default=defaults.grounding_questions)
    parser.add_argument(
        "--grounding-sets",
        default=",".join(defaults.grounding_sets),
        help="grounding: which of mini,full to run (each also asks 2024-H1's questions)",
    )
    parser.add_argument("-k", type=int, default=None, help="passages (default: newsbot's top_k)")
    parser.add_argument("--summaries", nargs="*", type=Path, default=[], help="eval summaries")
    args = parser.parse_args(argv)
    from benchmarks.results import load_results, merge, save_results
    from newsbot.settings import RetrievalSettings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown parts {unknown}; choose from {', '.join(PARTS)}")
    if "accuracy" in parts and not args.summaries:
        parser.error("the accuracy part needs --summaries")
    config = BenchConfig(
        mini=args.mini,
        full=args.full,
        h1=args.h1,
        data_dir=args.data_dir,
        work_dir=args.work_dir,
        k=args.k or RetrievalSettings.model_fields["top_k"].default,
        docs=args.docs,
        synthetic=args.synthetic,
        questions=args.questions,
        grounding_questions=args.grounding_questions,
        grounding_sets=tuple(s.strip() for s in args.grounding_sets.split(",") if s.strip()),
        summaries=args.summaries,
        own_data_dirs=args.own_data_dirs,
        argv=argv,
    )
    runners = _parts()
    for part in parts:
        logger.info("--- %s ---", part)
        result = runners[part](config)
        results = merge(load_results(), part, result)
        save_results(results)
        logger.info("%s done", part)


if __name__ == "__main__":
    main()
