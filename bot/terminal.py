"""The terminal chat loop and the source list the CLI prints.

Answers stream sentence by sentence as they pass the answer check; nothing written is taken back.
Each answer is followed by its sources (a refusal, which cites nothing, by none).
From a pipe, each input line is one question, answered in turn with the history; `json_mode`
prints one `AnswerResult` JSON object per line instead of text.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict
from datetime import date
from typing import IO

from bot.answer.events import (
    AnswerDone,
    AnswerEvent,
    AnswerStreamer,
    Searched,
    TextDelta,
    collect,
)
from bot.answer.history import ChatTurn
from bot.answer.links import LinkFilter
from bot.answer.question import EVERYTHING, Question, SearchFilter
from bot.answer.result import AnswerResult, heading
from newsbot.errors import InputError, NewsbotError

HELP = "Commands: /sources (sources of the last answer), /reset (forget the conversation), /quit"
PROMPT = "> "
ERASE_LINE = "\r\x1b[K"
"""Back to the start of the line and clear it (a terminal's progress note)."""


def printable(text: str, keep: str = "") -> str:
    """`text` with control and format characters (escape sequences, bidi overrides) shown as
    `\\uXXXX`, so an article's title or the model's text cannot move the cursor, recolour or
    reorder the terminal; characters in `keep` (a line break) pass."""
    return "".join(
        char
        if char in keep or unicodedata.category(char) not in ("Cc", "Cf")
        else f"\\u{ord(char):04x}"
        for char in text
    )


def format_sources(result: AnswerResult) -> str:
    """The sources as lines "[n] title (source, date) url", each followed by the passage text
    the answer rests on (the check's quotes, at most 300 characters each), then more on the
    story as lines "- title (source, date) url"; or why there are no sources."""
    if not result.sources:
        return "No sources: the stored articles don't answer this."
    lines = ["Sources:"]
    for source in result.sources:
        label = heading(source.title, source.source, source.published)
        line = f"[{source.n}] {label} {source.url}".rstrip()
        lines.append(printable(line))
        for quote in source.quoted:
            flat = " ".join(quote.split())
            flat = flat if len(flat) <= 300 else flat[:299] + "…"
            lines.append(printable(f"    \u201c{flat}\u201d"))
    if result.related:
        lines.append("More on this story:")
        for article in result.related:
            label = heading(article.title, article.source, article.published)
            line = f"- {label} {article.url}".rstrip()
            lines.append(printable(line))
    return "\n".join(lines)


def render_stream(
    events: Iterable[AnswerEvent], output: IO[str], progress: bool = False
) -> AnswerResult:
    """Write the checked answer as it streams (each piece is final) and return its result.

    With `progress` (a terminal), a note says what the model is reading until the answer's first
    text erases it.
    """
    noted = False
    links = LinkFilter()  # links and URLs in the model's text are shown as plain text
    try:
        for event in events:
            if isinstance(event, Searched) and progress and event.passages:
                output.write(event.note())
                output.flush()
                noted = True
            elif isinstance(event, TextDelta):
                if noted:
                    output.write(ERASE_LINE)
                    noted = False
                output.write(printable(links.feed(event.text), keep="\n"))
                output.flush()
            elif isinstance(event, AnswerDone):
                output.write(printable(links.flush(), keep="\n") + "\n")
                output.flush()
                return event.result
    finally:
        if noted:  # an error before any text: the note goes, the error takes its line
            output.write(ERASE_LINE)
            output.flush()
    raise RuntimeError("the answer stream ended without a result")


def _sources_text(result: AnswerResult | None) -> str:
    return format_sources(result) if result else "No answer yet."


def run_chat(
    assistant: AnswerStreamer,
    input_stream: IO[str],
    output: IO[str],
    is_tty: bool,
    json_mode: bool = False,
    as_of: date | None = None,
    filters: SearchFilter = EVERYTHING,
) -> None:
    """Chat until /quit or end of input; follow-up questions see the conversation so far.

    Args:
        assistant: answers questions (an `Assistant`).
        input_stream: where questions come from, one per line.
        output: where answers go.
        is_tty: True for an interactive terminal: greet and prompt. /sources, /reset and /quit
            work from a pipe too (a line that starts with "/" is never sent as a question).
        json_mode: print one result object (JSON) per line instead of text.
        as_of: answer as of this date (default today).
        filters: a date range and sources for every question (follow-ups keep it).
    """
    interactive = is_tty and not json_mode
    history: list[ChatTurn] = []
    last: AnswerResult | None = None
    if interactive:
        output.write(f"Ask about the news. {HELP}\n")
    while True:
        if interactive:
            output.write(PROMPT)
            output.flush()
        line = input_stream.readline()
        if not line:
            break
        question = line.strip()
        if not question:
            continue
        if question.startswith("/"):
            command = question.lower()
            if command in ("/quit", "/exit", "/q"):
                break
            if command == "/reset":
                history, last = [], None
                reply: object = {"reset": True} if json_mode else "Conversation forgotten."
            elif command == "/sources":
                sources = [asdict(source) for source in last.sources] if last else []
                reply = {"sources": sources} if json_mode else _sources_text(last)
            else:
                error = f"Unknown command {question}. {HELP}"
                reply = {"error": error} if json_mode else error
            output.write((json.dumps(reply) if json_mode else str(reply)) + "\n")
            continue
        try:
            stream = assistant.stream(Question(question, tuple(history), as_of, filters))
            if json_mode:
                last = collect(stream)
                output.write(json.dumps(last.to_dict(), ensure_ascii=False) + "\n")
                output.flush()
            else:
                last = render_stream(stream, output, progress=interactive)
                if last.sources:  # a refusal cites nothing: no list under it
                    output.write(format_sources(last) + "\n")
                output.write("\n")
        except InputError as exc:  # this question's own mistake: say so, take the next one
            output.write((json.dumps({"error": str(exc)}) if json_mode else f"Error: {exc}") + "\n")
            continue
        except NewsbotError as exc:
            if not interactive:
                raise
            output.write(f"Error: {exc}\n")
            continue
        history += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": last.answer},
        ]
