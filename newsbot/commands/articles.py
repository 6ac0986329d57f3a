"""The article commands: `newsbot ingest`, `stats`, `list`, `delete` and `repair`.

Each parses its options and calls the module that does the work (`newsbot.ingest_command`,
`newsbot.article_list`, the store), imported inside the command so `newsbot --help` stays fast.
"""

from __future__ import annotations

import json
import shutil
import sys

import click

from newsbot.commands.context import EXIT_OK, EXIT_PARTIAL, Context, pass_ctx
from newsbot.errors import NewsbotError


@click.command()
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
    from newsbot.ingest_command import check_inputs, run_ingest

    check_inputs(sources)
    report = run_ingest(
        obj.writable_settings(),
        list(sources),
        show_progress=not as_json,
        allow_private=allow_private,
    )
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    sys.exit(EXIT_PARTIAL if report.failures else EXIT_OK)


@click.command()
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

    settings = obj.stored_settings()
    registry = build_registry(settings)
    info = {
        "articles": registry.count(),
        "chunks": registry.chunk_count(),
        "pending": len(registry.pending()),
        "collection": settings.storage.collection,
        "embedder": embedder_setting(settings),
        "data_dir": str(settings.storage.data_dir),
    }
    if as_json:
        click.echo(json.dumps(info, indent=2))
    else:
        for key, value in info.items():
            click.echo(f"{key:>10}: {printable(str(value))}")


@click.command(name="list")
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(min=1, max=1_000_000),
    help="Most articles to show.",
)
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
    from newsbot.factories import build_registry

    # The registry alone: opening the store would load Chroma and LangChain (seconds) for a list.
    rows = build_registry(obj.stored_settings()).list_articles(limit=limit, query=query)
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


@click.command()
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
    store = build_store(obj.stored_settings())
    deleted = [article_id] if article_id and store.delete_article(article_id) else []
    if url:
        deleted = store.delete_url(url)
    if not deleted:
        raise NewsbotError(
            f"No stored article matches {article_id or url}: see `newsbot list --search ...`"
        )
    from ingest.cleaning import printable

    click.echo(printable(f"Deleted {', '.join(deleted)}"))


@click.command()
@pass_ctx
def repair(obj: Context) -> None:
    """Rebuild the collection's vector index from its stored chunks.

    Opening the store rebuilds an index that a killed process left unreadable by itself; this
    is for one that opens but whose searches fail. Every chunk is embedded again, which takes
    about as long as its ingest did; other processes wait for the rebuild, then see it.

    \b
    Example:
      newsbot repair
    """
    from newsbot.factories import repaired_store

    settings = obj.stored_settings()
    store = repaired_store(settings)
    chunks = store.stats()["chunks"]
    click.echo(f"Rebuilt the vector index of {settings.storage.collection!r}: {chunks} chunks")
