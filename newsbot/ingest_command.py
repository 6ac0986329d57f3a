"""What `newsbot ingest` runs: build the store, ingest with a progress bar, print a summary.

An entry point like `newsbot.cli`: it turns settings into the pipeline's arguments and renders the
`IngestReport` for a person (new, updated, unchanged, failed; each failure with where and why).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ingest.pipeline import IngestReport, ingest
from newsbot.factories import build_store
from newsbot.settings import Settings
from vectorstore.store import NewsStore


def ingest_with_settings(
    settings: Settings,
    sources: Sequence[str],
    store: NewsStore,
    progress: Callable[[int, int, int], None] | None = None,
) -> IngestReport:
    """Run the ingest pipeline with the limits and chunking the settings give."""
    return ingest(
        list(sources),
        store,
        tiktoken_cache_dir=settings.data_dir / "tiktoken",
        chunk_tokens=settings.chunk_tokens,
        overlap=settings.chunk_overlap,
        max_bytes=settings.max_input_bytes,
        http_timeout=settings.http_timeout,
        progress=progress,
    )


def run_ingest(settings: Settings, sources: Sequence[str], *, show_progress: bool) -> IngestReport:
    """Ingest `sources` into the configured store; show progress and a summary on stderr."""
    console = Console(stderr=True)
    store = build_store(settings)
    started = time.perf_counter()
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(bar_width=None),
        TextColumn("{task.fields[stats]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, disable=not show_progress, transient=True) as bar:
        task = bar.add_task("Ingesting", total=None, stats="")

        def on_progress(articles: int, chunks: int, tokens: int) -> None:
            rate = tokens / max(time.perf_counter() - started, 1e-6)
            bar.update(task, stats=f"{articles} articles, {chunks} chunks, {rate:,.0f} tokens/s")

        report = ingest_with_settings(settings, sources, store, on_progress)
    if show_progress:
        print_summary(console, report)
    return report


def print_summary(console: Console, report: IngestReport) -> None:
    """One line of counts, then each failure and warning with its origin and reason."""
    console.print(
        f"{report.new} new, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.failed} failed; {report.chunks} chunks ({report.tokens:,} tokens) "
        f"in {report.seconds:.1f} s"
    )
    for problem in report.failures:
        console.print(f"[red]failed[/red] {problem.origin}: {problem.reason}", highlight=False)
    for problem in report.warnings:
        console.print(
            f"[yellow]warning[/yellow] {problem.origin}: {problem.reason}", highlight=False
        )
