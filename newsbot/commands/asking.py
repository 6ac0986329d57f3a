"""The asking commands: `newsbot ask` (one question), `chat` (in the terminal) and `serve` (the
browser chat, the widget and the JSON API).

The assistant and the web app are built inside each command, so `newsbot --help` loads neither
LangChain nor the web libraries.
"""

from __future__ import annotations

import json
import sys
from datetime import date

import click

from newsbot.commands.context import Context, pass_ctx
from newsbot.commands.options import (
    as_of_option,
    check_something_stored,
    check_sources,
    filter_options,
    read_filter,
)


@click.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the full result object as JSON.")
@as_of_option
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
    if not question.strip():
        raise click.UsageError("The question is empty: ask something about the news.")
    filters = read_filter(since, until, sources, as_of)
    from bot.answer.question import Question
    from bot.terminal import format_sources, render_stream
    from newsbot.errors import InputError
    from newsbot.factories import build_assistant

    try:  # checked before the model loads
        asked = Question(question, as_of=as_of, filters=filters)
    except InputError as exc:
        raise click.UsageError(f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from None
    settings = obj.stored_settings()
    check_something_stored(settings)
    check_sources(sources, settings)
    if top_k is not None:
        settings = settings.replace(top_k=top_k)
    assistant = build_assistant(settings)
    if as_json:
        result = assistant.ask(asked)
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    stream = assistant.stream(asked)
    result = render_stream(stream, sys.stdout, progress=sys.stdout.isatty())
    click.echo(format_sources(result))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one result object per line.")
@as_of_option
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

    Each answer is followed by its sources (title, source, date, link, the passage it rests on);
    a refusal by none. In a terminal: /sources shows the last answer's sources again, /reset
    starts over, /quit leaves. From a pipe: one question per line, answered in turn.

    \b
    Example:
      newsbot chat
      printf 'What did Pakistan and the US agree on?\\nWho represented the US?\\n' \\
        | newsbot chat --json
    """
    filters = read_filter(since, until, sources, as_of)
    settings = obj.stored_settings()
    check_something_stored(settings)
    check_sources(sources, settings)
    from bot.terminal import run_chat
    from newsbot.factories import build_assistant

    assistant = build_assistant(settings)
    run_chat(
        assistant,
        input_stream=sys.stdin,
        output=sys.stdout,
        is_tty=sys.stdin.isatty(),
        json_mode=as_json,
        as_of=as_of,
        filters=filters,
    )


@click.command()
@click.option("--host", help="Address to listen on (default 127.0.0.1; env NEWSBOT_HOST).")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    help="Port to listen on (default 7860; 0: any free port; env NEWSBOT_PORT).",
)
@click.option(
    "--public",
    is_flag=True,
    help="Serve an open app (no NEWSBOT_AUTH or NEWSBOT_API_KEY) on a network address; "
    "without it that is refused. The Library tab is then left out.",
)
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Log no requests, only warnings and errors (by default: a line per question, upload "
    "or sign-in, and per failed request; never the pages and assets).",
)
@pass_ctx
def serve(obj: Context, host: str | None, port: int | None, public: bool, quiet: bool) -> None:
    """Serve the browser chat, the embeddable widget (/widget) and the JSON API (/api/ask).

    It says where it serves once it listens. On a data dir that does not exist yet it creates
    one: the Library tab stores the first articles.

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
        host=host or settings.web.host,
        port=port if port is not None else settings.web.port,
        public=public,
        quiet=quiet,
        on_allowed=obj.writable_settings,
        # Said whatever the logging level: the URL to open (`make demo` shows nothing else).
        on_ready=lambda line: click.echo(line, err=True),
    )
