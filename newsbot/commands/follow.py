"""The follow commands: `newsbot follow add`, `list`, `remove` and `run`.

Each parses its options and calls `newsbot.follow_command`, imported inside the command so
`newsbot --help` stays fast.
"""

from __future__ import annotations

import json
import signal
import sys
import threading

import click

from newsbot.commands.context import EXIT_OK, EXIT_PARTIAL, Context, pass_ctx
from newsbot.errors import InputError, NewsbotError


@click.group()
def follow() -> None:
    """Follow RSS/Atom feeds and sitemaps: their new articles are stored as they appear.

    `newsbot serve` checks the followed sources in the background; on a worker machine,
    `newsbot follow run` does. Every replica sharing the database sees the same list, and
    each source is checked by one process at a time.

    \b
    Example:
      newsbot follow add https://example.com/feed.xml --every 15m
      newsbot follow list
      newsbot follow run --once
    """


@follow.command()
@click.argument("url")
@click.option(
    "--every",
    default="15m",
    show_default=True,
    metavar="INTERVAL",
    help="How often to check it: 90s, 15m, 2h, 1d (a failing source is checked less often).",
)
@click.option(
    "--full-text/--no-full-text",
    default=None,
    help="Read each new entry's linked page for the whole article (default: only for entries "
    "whose feed text is short; sitemap entries always).",
)
@pass_ctx
def add(obj: Context, url: str, every: str, full_text: bool | None) -> None:
    """Follow a feed or sitemap URL (again: change its interval or full-text choice).

    A source on this machine or a private network is fetched only when
    NEWSBOT_FETCH_ALLOW_NETWORKS allows it.

    \b
    Example:
      newsbot follow add https://example.com/feed.xml
      newsbot follow add https://example.com/news-sitemap.xml --every 5m --full-text
    """

    from ingest.cleaning import printable
    from ingest.follow.schedule import parse_every, say_every
    from newsbot.follow_command import follow_url, followed_sources, full_text_choice

    try:
        seconds = parse_every(every)
    except InputError as exc:
        raise click.BadParameter(str(exc), param_hint="--every") from None
    sources = followed_sources(obj.writable_settings())
    url, new = follow_url(sources, url, seconds, full_text_choice(full_text))
    verb = "Following" if new else "Still following"
    click.echo(
        printable(
            f"{verb} {url} every {say_every(seconds)}; `newsbot serve` or "
            "`newsbot follow run` checks it"
        )
    )


@follow.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per source.")
@pass_ctx
def list_sources(obj: Context, as_json: bool) -> None:
    """Show each followed source: last check, last new article, next check, articles added in
    the last day, and its last error.

    \b
    Example:
      newsbot follow list --json
    """
    from newsbot.follow_command import followed_sources, status, status_lines

    rows = status(followed_sources(obj.stored_settings()))
    if as_json:
        for row in rows:
            click.echo(json.dumps(row.to_dict()))
        return
    if not rows:
        click.echo("No followed sources: add one with `newsbot follow add URL`", err=True)
        return
    for line in status_lines(rows):
        click.echo(line)


@follow.command()
@click.argument("url")
@pass_ctx
def remove(obj: Context, url: str) -> None:
    """Stop following a source (the articles stored from it stay).

    \b
    Example:
      newsbot follow remove https://example.com/feed.xml
    """
    from ingest.cleaning import printable
    from newsbot.follow_command import followed_sources, unfollow

    if not unfollow(followed_sources(obj.stored_settings()), url):
        raise NewsbotError(
            printable(f"{url} is not followed: see `newsbot follow list` for the URLs")
        )
    click.echo(printable(f"Stopped following {url.strip()}"))


@follow.command()
@click.option(
    "--once", is_flag=True, help="Check the due sources once, then exit (2 when a check failed)."
)
@pass_ctx
def run(obj: Context, once: bool) -> None:
    """Check the followed sources as they fall due, until stopped (Ctrl-C or SIGTERM).

    For a worker machine beside `newsbot serve` replicas (set NEWSBOT_FOLLOW_IN_SERVE=false
    on them, or let them share the work: each source is checked by one process at a time).

    \b
    Example:
      newsbot follow run
      newsbot follow run --once
    """
    from ingest.cleaning import printable
    from newsbot.factories import build_store
    from newsbot.follow_command import build_worker

    settings = obj.stored_settings()  # no data dir: nothing is followed there (a typo)
    worker = build_worker(settings, build_store(settings))
    if once:
        failed = False
        for url, outcome in worker.run_once():
            said = f"failed: {outcome.error}" if outcome.error else f"{outcome.new_articles} new"
            click.echo(printable(f"{url}: {said}"))
            failed = failed or outcome.error is not None
        sys.exit(EXIT_PARTIAL if failed else EXIT_OK)  # so cron and scripts see a failed check
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo("Checking the followed sources; Ctrl-C stops", err=True)
    try:
        worker.run(stop)
    except KeyboardInterrupt:
        stop.set()
