"""What `newsbot eval` runs: build the parts from the settings, evaluate, print the table.

An entry point (like `newsbot.cli`): it reads nothing itself but the `Settings` it is given, builds
the store of the dataset's own collection and the chat model, and calls `run_eval`.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from newsbot.evaluation.corpus import eval_collection_name
from newsbot.evaluation.report import summary_table
from newsbot.evaluation.runner import EvalReport, Mode, run_eval
from newsbot.settings import Settings


def run_eval_command(
    settings: Settings,
    dataset_dir: Path,
    *,
    limit: int | None = None,
    out: Path | None = None,
    top_k: int | None = None,
    mode: str = "newsbot",
    progress: bool = True,
    console: Console | None = None,
) -> EvalReport:
    """Evaluate `mode` on `dataset_dir` with the configured model and embedder; print the table.

    The dataset's corpus goes into its own collection (`eval-<dataset folder name>`) in the
    configured data dir, chunked with the configured chunk size, so a second run embeds nothing.

    Raises:
        NewsbotError: a bad dataset folder, settings, model or predictions file.
    """
    from newsbot.factories import build_llm, build_store

    chosen: Mode = mode  # type: ignore[assignment]  # click restricts the choices
    store = None
    if chosen in ("newsbot", "plain_rag", "plain_retrieval"):
        store = build_store(settings, collection=eval_collection_name(dataset_dir))
    llm = build_llm(settings)
    report = run_eval(
        dataset_dir,
        store=store,
        llm=llm,
        k=top_k or settings.top_k,
        limit=limit,
        out_path=out,
        mode=chosen,
        progress=progress,
        model_name=llm.model_name,
        ingest_options={
            "tiktoken_cache_dir": settings.data_dir / "tiktoken",
            "chunk_tokens": settings.chunk_tokens,
            "overlap": settings.chunk_overlap,
            "max_bytes": settings.max_input_bytes,
        },
    )
    console = console or Console()
    console.print(summary_table([(f"{report.mode} (k={report.k})", report.summary)]))
    console.print(
        f"{report.asked} asked, {report.resumed} resumed, {report.seconds:.0f} s "
        f"({report.answer_seconds / 60:.0f} min answering all of them); "
        f"predictions: {report.out_path}; summary: {report.summary_path}"
    )
    return report
