"""The retention commands: `newsbot prune`, `pin` and `unpin`.

Each parses its options and calls `newsbot.retention_command`, imported inside the command so
`newsbot --help` stays fast.
"""

from __future__ import annotations

import json

import click

from newsbot.commands.context import Context, pass_ctx
from newsbot.errors import InputError


@click.command()
@click.option(
    "--older-than",
    metavar="AGE",
    help="Remove articles published longer ago than this: 180d, 12h (a bare number is days; "
    "default: NEWSBOT_KEEP_DAYS).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the removed ids as JSON.")
@pass_ctx
def prune(obj: Context, older_than: str | None, as_json: bool) -> None:
    """Remove old articles from the store (chunks, registry and keyword index); pinned ones stay.

    An undated article counts from the day it was stored. An interrupted prune is finished by
    the next one.

    \b
    Example:
      newsbot prune --older-than 180d
    """
    from ingest.cleaning import printable
    from ingest.follow.schedule import parse_age
    from newsbot.factories import build_store
    from newsbot.retention_command import older_than_seconds, run_prune

    try:
        age = parse_age(older_than) if older_than is not None else None
    except InputError as exc:
        raise click.BadParameter(str(exc), param_hint="--older-than") from None
    settings = obj.stored_settings()
    seconds = older_than_seconds(settings, age)
    day, removed = run_prune(build_store(settings), seconds)
    if as_json:
        click.echo(json.dumps({"kept_from": day, "removed": removed}))
        return
    click.echo(printable(f"Removed {len(removed)} article(s) published before {day}"))


@click.command()
@click.argument("article_id")
@pass_ctx
def pin(obj: Context, article_id: str) -> None:
    """Keep an article whatever its age (prune and NEWSBOT_KEEP_DAYS leave it).

    \b
    Example:
      newsbot pin 5f7d7c89d0e4636c
    """
    _set_pin(obj, article_id, pinned=True)


@click.command()
@click.argument("article_id")
@pass_ctx
def unpin(obj: Context, article_id: str) -> None:
    """Let an article go with age again.

    \b
    Example:
      newsbot unpin 5f7d7c89d0e4636c
    """
    _set_pin(obj, article_id, pinned=False)


def _set_pin(obj: Context, article_id: str, *, pinned: bool) -> None:
    from ingest.cleaning import printable
    from newsbot.factories import build_registry
    from newsbot.retention_command import set_pin

    registry = build_registry(obj.stored_settings())
    changed = set_pin(registry, article_id, pinned)
    what = "Pinned" if pinned else "Unpinned"
    if not changed:
        what = "Already pinned:" if pinned else "Was not pinned:"
    click.echo(printable(f"{what} {article_id}"))
