"""What `newsbot eval` runs: build the parts from the settings, run one suite, print its table.

An entry point (like `newsbot.cli`): it reads nothing itself but the `Settings` it is given,
builds the store of the dataset's own collection and the chat model with `newsbot.factories`, and
calls the suite (`registry.SUITES`): `mc` runs `run_eval` in one mode, `grounding` and
`followups` the answer-check suites.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsbot.errors import InputError
from newsbot.evaluation import registry

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from newsbot.settings import Settings


def _ingest_options(settings: Settings) -> dict[str, Any]:
    from newsbot.factories import chunking

    return {**chunking(settings), "max_bytes": settings.limits.max_input_bytes}


def _answering(settings: Settings) -> dict[str, Any]:
    """The product's retrieval options the newsbot mode answers with (from the settings)."""
    from dataclasses import asdict

    from newsbot.factories import ranking

    return {**suite_answering(settings), "ranking": asdict(ranking(settings))}


def suite_answering(settings: Settings) -> dict[str, Any]:
    """The `Assistant` options the suites answer with, as the product's factory reads them from
    the settings (but `k`, which a suite takes itself, and the grounding policy, its default)."""
    from newsbot.factories import answer_options

    options = answer_options(settings)
    names = ("max_history_chars", "context_tokens", "time_windows", "condense_follow_ups")
    return {name: options[name] for name in names}


def run_eval_command(
    settings: Settings,
    dataset_dir: Path | None,
    *,
    suite: str = "mc",
    limit: int | None = None,
    out: Path | None = None,
    top_k: int | None = None,
    mode: str = "newsbot",
    later: Path | None = None,
    progress: bool = True,
    console: Console | None = None,
) -> Any:
    """Run `suite` with the configured model and embedder; print its table; return its report.

    A dataset's corpus goes into its own collection (`eval-<dataset folder name>`) in the
    configured data dir, chunked with the configured chunk size, so a second run embeds nothing.

    Raises:
        NewsbotError: a bad dataset folder, settings, model or predictions file.
    """
    from rich.console import Console

    from newsbot.evaluation.corpus import eval_collection_name
    from newsbot.factories import build_llm, build_store

    spec = registry.SUITES.get(suite)
    if spec is None:
        raise InputError(f"Unknown eval suite {suite!r}: use one of {', '.join(registry.SUITES)}")
    if spec.needs_dataset and dataset_dir is None:
        raise InputError(f"The {suite} suite needs a DATASET folder, e.g. ../shared/bench/...")
    if later is not None and suite != "grounding":
        raise InputError("--later goes with --suite grounding")
    if not spec.needs_dataset and dataset_dir is not None:
        raise InputError(f"The {suite} suite takes no DATASET (it brings its own sample articles)")
    console = console or Console()
    llm = build_llm(settings)
    common: dict[str, Any] = {
        "llm": llm,
        "k": top_k or settings.retrieval.top_k,
        "out_path": out,
        "model_name": llm.model_name,
        "ingest_options": _ingest_options(settings),
    }
    if suite == "followups":
        from newsbot.evaluation.suites.followups import COLLECTION, run_followups

        report = run_followups(
            store=build_store(settings, collection=COLLECTION),
            limit=limit,
            answering=suite_answering(settings),
            **common,
        )
        latency = report.result.get("first_token_p50_s") or {}
        if latency.get("first") is not None:
            console.print(
                f"first checked text p50: {latency['first']:.1f} s for first questions (each "
                "the first time), "
                f"{latency['follow_up']:.1f} s for their follow-ups"
            )
        return _print_suite(console, report)
    assert dataset_dir is not None
    if suite == "grounding":
        from newsbot.evaluation.suites.grounding import DEFAULT_QUESTIONS, run_grounding

        report = run_grounding(
            dataset_dir,
            store=build_store(settings, collection=eval_collection_name(dataset_dir)),
            questions=limit or DEFAULT_QUESTIONS,
            answering=suite_answering(settings),
            later=later,
            **common,
        )
        for shown in report.result.get("later_shown", []):
            console.print(f"shown for a later year: {shown['question']} -> {shown['answer']}")
        return _print_suite(console, report)
    from newsbot.evaluation.report import summary_table
    from newsbot.evaluation.runner import run_eval

    store = None
    if registry.mode(mode).needs_store:
        store = build_store(settings, collection=eval_collection_name(dataset_dir))
    result = run_eval(
        dataset_dir,
        store=store,
        limit=limit,
        mode=mode,
        progress=progress,
        answering=_answering(settings),
        **common,
    )
    print_table(console, summary_table([(f"{result.mode} (k={result.k})", result.summary)]))
    console.print(
        f"{result.asked} asked, {result.resumed} resumed, {result.seconds:.0f} s "
        f"({result.answer_seconds / 60:.0f} min answering all of them); "
        f"predictions: {result.out_path}; summary: {result.summary_path}"
    )
    return result


def _print_suite(console: Console, report: Any) -> Any:
    from newsbot.evaluation.report import suite_table

    print_table(console, suite_table(f"{report.suite} (k={report.k})", report.result["groups"]))
    console.print(
        f"{report.asked} asked, {report.cached} from the cache, {report.seconds:.0f} s; "
        f"drafts: {report.out_path}; summary: {report.summary_path}"
    )
    return report


def print_table(console: Console, table: Table) -> None:
    """Print `table` whole: on a terminal within its width; elsewhere (a log, CI, a pipe, where
    rich assumes 80 columns and would cut every cell to "…") as wide as the table needs."""
    if console.is_terminal:
        console.print(table)
        return
    needed = console.measure(table, options=console.options.update_width(10_000)).maximum
    width = console.width
    console.width = max(width, needed)
    try:
        console.print(table)
    finally:
        console.width = width
