"""The terminal chat loop and the source list the CLI prints.

On a terminal, answers stream as the model writes them; when the checked answer differs (markers
renumbered or added, or an unsupported answer replaced by the refusal), the streamed lines are
redrawn with it. From a pipe, each input line is one question, answered in turn with the history;
`json_mode` prints one `AnswerResult` JSON object per line instead of text.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import IO, Protocol

from bot.answer.history import ChatTurn
from bot.answer.result import AnswerResult
from newsbot.errors import NewsbotError

HELP = "Commands: /sources (sources of the last answer), /reset (forget the conversation), /quit"
PROMPT = "> "


class Answerer(Protocol):
    """What the chat needs: `bot.answer.assistant.Assistant.stream`."""

    def stream(
        self, question: str, history: Sequence[ChatTurn] = (), as_of: date | None = None
    ) -> Iterator[str | AnswerResult]: ...


def format_sources(result: AnswerResult) -> str:
    """The sources as lines "[n] title (source, date) url", or why there are none."""
    if not result.sources:
        return "No sources: the stored articles don't answer this."
    lines = ["Sources:"]
    for source in result.sources:
        when = (source.published or "")[:10] or "date unknown"
        origin = ", ".join(part for part in (source.source, when) if part)
        lines.append(f"[{source.n}] {source.title or 'Untitled'} ({origin}) {source.url}".rstrip())
    return "\n".join(lines)


def _rows(text: str, width: int) -> int:
    """How many terminal rows `text` occupies at `width` columns."""
    return sum(max(1, -(-len(line) // width)) for line in text.split("\n"))


def render_stream(
    items: Iterable[str | AnswerResult], output: IO[str], is_tty: bool
) -> AnswerResult:
    """Write an answer as it streams and return its result.

    On a terminal the deltas are written as they come and, if the checked answer differs, the
    streamed rows are erased and the checked answer is written instead. Otherwise only the
    checked answer is written. Either way the answer ends with a newline.
    """
    streamed: list[str] = []
    for item in items:
        if isinstance(item, AnswerResult):
            shown = "".join(streamed)
            if not is_tty:
                output.write(item.answer + "\n")
            elif shown.strip() != item.answer:
                if shown:
                    width = shutil.get_terminal_size().columns
                    rows = _rows(shown, width)
                    output.write("\r" + (f"\x1b[{rows - 1}F" if rows > 1 else "") + "\x1b[J")
                output.write(item.answer + "\n")
            else:
                output.write("\n")
            output.flush()
            return item
        if is_tty:
            streamed.append(item)
            output.write(item)
            output.flush()
    raise RuntimeError("the answer stream ended without a result")


def run_chat(
    assistant: Answerer,
    input_stream: IO[str],
    output: IO[str],
    is_tty: bool,
    json_mode: bool = False,
    as_of: date | None = None,
) -> None:
    """Chat until /quit or end of input; follow-up questions see the conversation so far.

    Args:
        assistant: answers questions (an `Assistant`).
        input_stream: where questions come from, one per line.
        output: where answers go.
        is_tty: True for an interactive terminal: prompt, stream, accept /sources, /reset, /quit.
        json_mode: print one result object (JSON) per line instead of text.
        as_of: answer as of this date (default today).
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
        if interactive and question.startswith("/"):
            command = question.lower()
            if command in ("/quit", "/exit", "/q"):
                break
            if command == "/reset":
                history, last = [], None
                output.write("Conversation forgotten.\n")
            elif command == "/sources":
                output.write((format_sources(last) if last else "No answer yet.") + "\n")
            else:
                output.write(f"Unknown command {question}. {HELP}\n")
            continue
        try:
            stream = assistant.stream(question, history, as_of=as_of)
            if json_mode:
                last = next(item for item in stream if isinstance(item, AnswerResult))
                output.write(json.dumps(last.to_dict(), ensure_ascii=False) + "\n")
                output.flush()
            else:
                last = render_stream(stream, output, is_tty=interactive)
                if not interactive:
                    output.write(format_sources(last) + "\n\n")
        except NewsbotError as exc:
            if not interactive:
                raise
            output.write(f"Error: {exc}\n")
            continue
        history += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": last.answer},
        ]
