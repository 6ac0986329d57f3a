"""The `golden` part of `python -m benchmarks`: the answer check scored on the golden corpus.

No model: tests/golden/cases.jsonl holds the local model's recorded raw answers (grounding and
follow-up cases, each half written separately; tests/golden/README.md). Recorded with
`python -m tests.golden.record`; this part scores today's check on them, per half.
"""

from __future__ import annotations

import json
from typing import Any

from benchmarks.common import BenchConfig, stamp
from tests.golden import corpus, scoring


def bench_golden(config: BenchConfig) -> dict[str, Any]:
    cases = corpus.load_cases()
    rows = scoring.check_all(cases, corpus.read_shared_articles(corpus.shared_refs(cases)))
    meta = json.loads(corpus.META.read_text(encoding="utf-8"))
    return stamp(
        "golden",
        config,
        {
            "cases": len(cases),
            "recorded": [run["recorded"] for run in meta["runs"]],
            "halves": scoring.score(rows),
            "by_suite": {
                suite: scoring.score([r for r in rows if r[0]["suite"] == suite])
                for suite in ("grounding", "followups")
            },
        },
    )
