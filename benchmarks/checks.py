"""The answer-check parts: the `grounding` and `followups` suites of `newsbot eval`, run with the
benchmark's data dir and with their drafts cached in its work dir."""

from __future__ import annotations

from typing import Any

from benchmarks.common import BenchConfig, open_store, settings_for, stamp
from newsbot.evaluation.command import suite_answering


def bench_grounding(config: BenchConfig) -> dict[str, Any]:
    """How often the answer check answers over a question's own passages and refuses over
    another question's (see `newsbot.evaluation.suites.grounding`), on the mini set and on the
    full 2022 set (the first `grounding_questions` of each; `grounding_sets` names which), and
    over the 2022 store for the first questions of 2024-H1 (`--later`), which it cannot
    answer."""
    from newsbot.evaluation.corpus import eval_collection_name
    from newsbot.evaluation.suites.grounding import run_grounding
    from newsbot.factories import build_llm

    settings = settings_for(config.data_dir)
    llm = build_llm(settings)
    datasets: dict[str, Any] = {}
    sets = {"mini": config.mini, "full": config.full}
    for dataset in (sets[name] for name in config.grounding_sets):
        report = run_grounding(
            dataset,
            store=open_store(settings, eval_collection_name(dataset)),
            llm=llm,
            k=config.k,
            questions=config.grounding_questions,
            out_path=config.work_dir / f"grounding-{dataset.name}.drafts.jsonl",
            model_name=llm.model_name,
            ingest_options={"tiktoken_cache_dir": settings.storage.data_dir / "tiktoken"},
            answering=suite_answering(settings),
            later=config.h1,
        )
        datasets[dataset.name] = report.result
    return stamp("grounding", config, {"k": config.k, "datasets": datasets})


def bench_followups(config: BenchConfig) -> dict[str, Any]:
    """Follow-ups over two corpora: the suite's own sample articles and cases, and the shared seed
    article (`benchmarks/data/followups-seed.jsonl`), each answered or not by the articles (see
    `newsbot.evaluation.suites.followups`)."""
    from benchmarks.common import DATA, SHARED
    from newsbot.evaluation.suites.followups import ARTICLES, CASES, COLLECTION, run_followups
    from newsbot.factories import build_llm

    corpora = {
        "samples": (ARTICLES, CASES),
        "seed": (SHARED / "corpus" / "seed", DATA / "followups-seed.jsonl"),
    }
    results: dict[str, Any] = {}
    for name, (articles, cases) in corpora.items():
        settings = settings_for(config.work_dir / f"followups-{name}-data")
        llm = build_llm(settings)
        report = run_followups(
            store=open_store(settings, COLLECTION),
            llm=llm,
            k=config.k,
            cases_path=cases,
            articles=articles,
            out_path=config.work_dir / f"followups-{name}.drafts.jsonl",
            model_name=llm.model_name,
            ingest_options={"tiktoken_cache_dir": settings.storage.data_dir / "tiktoken"},
            answering=suite_answering(settings),
        )
        results[name] = report.result
    return stamp("followups", config, {"k": config.k, "corpora": results})
