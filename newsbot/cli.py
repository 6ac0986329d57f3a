"""The `newsbot` command line: the top-level group, its options and the commands it registers.

This is an entry point: it reads the settings once (through `newsbot.commands.context.Context`),
and turns every `NewsbotError` into a one-line message (exit 1) instead of a traceback. The
commands live in `newsbot/commands/`, one module a group; each builds its parts with
`newsbot.factories` only when it runs.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from newsbot.commands.articles import delete, ingest, list_articles, repair, stats
from newsbot.commands.asking import ask, chat, serve
from newsbot.commands.context import EXIT_FATAL, EXIT_INTERRUPTED, Context
from newsbot.commands.evaluate import eval_command
from newsbot.commands.follow import follow
from newsbot.commands.model import model
from newsbot.commands.questions import questions
from newsbot.commands.retention import pin, prune, unpin
from newsbot.errors import NewsbotError


class NewsbotGroup(click.Group):
    """A click group that reports user errors as one line instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewsbotError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(EXIT_FATAL)
        except UnicodeEncodeError as exc:
            # An argument or a line typed in a terminal of another encoding: Python keeps the
            # bytes that are not UTF-8 as lone surrogates, which no database or model can take.
            bad = exc.object[exc.start : exc.end] if isinstance(exc.object, str) else ""
            raw = bad.encode("utf-8", "surrogateescape")
            click.echo(
                f"Error: an argument or line holds bytes that are not UTF-8 text ({raw!r}): "
                "set your terminal to UTF-8, or rename the file",
                err=True,
            )
            ctx.exit(EXIT_FATAL)
        except BrokenPipeError:
            # `newsbot list --json | head`: the reader has what it wanted. Python would report
            # the pipe again when it flushes stdout at exit, so stdout goes nowhere first.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)
        except OSError as exc:
            # A data dir or path that cannot be made or opened (not a folder, no permission, a
            # full disk): the system's reason in one line.
            where = f": {exc.filename}" if exc.filename else ""
            click.echo(f"Error: {exc.strerror or exc}{where}", err=True)
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


# The articles, asking, the local model and evaluation (see each command's module).
for _command in (
    ingest,
    stats,
    list_articles,
    delete,
    repair,
    ask,
    chat,
    serve,
    model,
    eval_command,
):
    cli.add_command(_command)
# Followed feeds and retention (newsbot/commands/follow.py, retention.py).
for _command in (follow, prune, pin, unpin):
    cli.add_command(_command)

cli.add_command(questions)  # the question log's editors' view (issue 28)


def main() -> None:
    """Console entry point."""
    cli()
