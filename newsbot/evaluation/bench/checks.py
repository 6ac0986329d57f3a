"""The answer-check parts: the `grounding` and `followups` suites of `newsbot eval`, run with the
benchmark's data dir and with their drafts cached in its work dir."""

from __future__ import annotations

from typing import Any

from newsbot.evaluation.bench.common import BenchConfig, open_store, settings_for, stamp
from newsbot.evaluation.command import suite_answering


def bench_grounding(config: BenchConfig) -> dict[str, Any]:
    """How often the answer check answers over a question's own passages and refuses over
    another question's (see `newsbot.evaluation.suites.grounding`)."""
    from newsbot.evaluation.corpus import eval_collection_name
    from newsbot.evaluation.suites.grounding import run_grounding
    from newsbot.factories import build_llm

    settings = settings_for(config.data_dir)
    llm = build_llm(settings)
    report = run_grounding(
        config.mini,
        store=open_store(settings, eval_collection_name(config.mini)),
        llm=llm,
        k=config.k,
        questions=config.grounding_questions,
        out_path=config.work_dir / "grounding.drafts.jsonl",
        model_name=llm.model_name,
        ingest_options={"tiktoken_cache_dir": settings.data_dir / "tiktoken"},
        answering=suite_answering(settings),
    )
    return stamp("grounding", config, report.result)


def bench_followups(config: BenchConfig) -> dict[str, Any]:
    """Follow-ups the sample articles answer or don't (see
    `newsbot.evaluation.suites.followups`)."""
    from newsbot.evaluation.suites.followups import COLLECTION, run_followups
    from newsbot.factories import build_llm

    settings = settings_for(config.work_dir / "followups-data")
    llm = build_llm(settings)
    report = run_followups(
        store=open_store(settings, COLLECTION),
        llm=llm,
        k=config.k,
        out_path=config.work_dir / "followups.drafts.jsonl",
        model_name=llm.model_name,
        ingest_options={"tiktoken_cache_dir": settings.data_dir / "tiktoken"},
        answering=suite_answering(settings),
    )
    return stamp("followups", config, report.result)
