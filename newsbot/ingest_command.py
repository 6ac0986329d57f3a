"""What `newsbot ingest` runs: build the store, ingest with a progress bar, print a summary.

An entry point like `newsbot.cli`: it turns settings into the pipeline's arguments (limits, and the
fetch policy: which networks URL ingest may reach) and renders the `IngestReport` for a person
(new, updated, unchanged, failed; each failure with where and why; the files of other types a
folder held, counted and named). Everything printed that came from the data (file names, titles,
dates, URLs) is escaped for rich's markup and stripped of terminal control and bidi characters.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ingest.article import InputProblem
from ingest.cleaning import printable
from ingest.loaders.addresses import AddressPolicy
from ingest.loaders.fetching import FetchPolicy
from ingest.pipeline import IngestReport, ingest
from ingest.sources import expand, unsupported_note
from newsbot.factories import build_store, chunking
from newsbot.settings import Settings
from vectorstore.store import NewsStore


def fetch_policy(settings: Settings, *, allow_private: bool = False) -> FetchPolicy:
    """What URL fetches may reach and spend: the settings' networks, plus the private ones if the
    user asked on the command line (`--allow-private`)."""
    addresses = AddressPolicy.from_strings(
        settings.fetch.allow_networks, allow_private=allow_private
    )
    return FetchPolicy(
        addresses=addresses,
        max_bytes=settings.fetch.max_bytes,
        timeout=settings.fetch.timeout,
        max_seconds=settings.fetch.max_seconds,
    )


def ingest_with_settings(
    settings: Settings,
    sources: Sequence[str],
    store: NewsStore,
    progress: Callable[[int, int, int], None] | None = None,
    *,
    allow_private: bool = False,
    key_by_file: bool = True,
) -> IngestReport:
    """Run the ingest pipeline with the limits, chunking and fetch policy the settings give;
    `key_by_file` as in `ingest.pipeline.ingest` (False for the Library's uploads)."""
    return ingest(
        list(sources),
        store,
        **chunking(settings),
        max_bytes=settings.limits.max_input_bytes,
        http_timeout=settings.fetch.timeout,
        progress=progress,
        max_article_chars=settings.limits.max_article_chars,
        fetch_policy=fetch_policy(settings, allow_private=allow_private),
        key_by_file=key_by_file,
    )


def check_inputs(sources: Sequence[str]) -> None:
    """Refuse arguments of which none names a readable input, before a data dir is created for
    them (found by a review: a mistyped path left an empty store behind).

    Raises:
        InputError: as `ingest.sources.expand` says.
    """
    expand(list(sources))


def run_ingest(
    settings: Settings, sources: Sequence[str], *, show_progress: bool, allow_private: bool = False
) -> IngestReport:
    """Ingest `sources` into the configured store; show progress and a summary on stderr.

    `allow_private` lets URL fetches reach loopback and private networks (a local feed).
    """
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

        report = ingest_with_settings(
            settings, sources, store, on_progress, allow_private=allow_private
        )
    if show_progress:
        print_summary(console, report)
    return report


def print_summary(console: Console, report: IngestReport) -> None:
    """One line of counts, one naming the unsupported files skipped, then each failure and
    warning with its origin and reason."""
    console.print(
        f"{report.new} new, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.failed} failed; {report.chunks} chunks ({report.tokens:,} tokens) "
        f"in {report.seconds:.1f} s"
    )
    # soft_wrap: one problem stays one line (for grep and logs) however wide the terminal is.
    if report.unsupported:
        note = escape(printable(unsupported_note(report.unsupported)))
        console.print(note, highlight=False, soft_wrap=True)
    for problem in report.failures:
        console.print(f"[red]failed[/red] {_shown(problem)}", highlight=False, soft_wrap=True)
    for problem in report.warnings:
        console.print(
            f"[yellow]warning[/yellow] {_shown(problem)}", highlight=False, soft_wrap=True
        )


def _shown(problem: InputProblem) -> str:
    # Origins and reasons quote the data ("[/x]" as a date, a file named "x[b]"): escape them for
    # rich's markup, and never let control or bidi characters reach the terminal.
    return escape(printable(f"{problem.origin}: {problem.reason}"))
