"""The chat handler behind the web chat and the widget.

`make_chat_fn(assistant)` returns the function that `gr.ChatInterface` calls with the new message
and the session's history (Gradio's "messages" format). Until the first checked sentence it shows
a progress note ("Reading 4 passages from 3 articles…"); then the answer as it passes the answer
check, sentence by sentence (nothing shown is taken back), then a "Sources" block.
History lives in each browser session's chatbot state; nothing here is shared between sessions.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import gradio as gr

from bot.answer.events import AnswerDone, AnswerStreamer, Searched, TextDelta
from bot.answer.history import ChatTurn
from bot.answer.question import Question
from bot.answer.result import AnswerResult
from bot.web.answer_log import AnswerRecorder, Door, new_answer_id
from bot.web.filter_row import page_filter
from bot.web.render import (
    answer_markdown,
    plain_answer,
    related_html,
    result_markdown,
    result_sources_html,
)
from bot.web.stopping import answer_stopped
from bot.web.suggest import next_questions
from newsbot.errors import InputError, ModelError, NewsbotError

log = logging.getLogger(__name__)

SOURCES_TITLE = "Sources"
RELATED_TITLE = "More on this story"
"""Title of the collapsible block under each answer; such blocks are not sent back as history."""

Message = dict[str, Any]
ChatFn = Callable[..., Iterator[str | list[Message]]]
"""`(message, history, request=None)`: the chat's outputs for one question."""


ChatAssistant = AnswerStreamer
"""What the web app needs from `bot.answer.assistant.Assistant`."""


_INVISIBLE = frozenset("\u115f\u1160\u2800\u3164\uffa0\u180e")
"""Characters that draw nothing though Unicode does not class them as format or space."""


def is_blank(text: str) -> bool:
    """True when `text` shows nothing: only spaces, zero-width and other format characters
    (U+200B, U+200D, U+FEFF, U+200E...), controls, lone combining marks or blank fillers."""
    return all(
        char.isspace()
        or char in _INVISIBLE
        or unicodedata.category(char) in ("Cf", "Cc", "Mn", "Me", "Zs", "Zl", "Zp")
        for char in text
    )


def message_text(content: Any) -> str:
    """The text of a Gradio message's content: a string or a list of `{"type": "text"}` parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, Mapping):
        text = content.get("text")
        return text if isinstance(text, str) else ""
    if isinstance(content, list):
        return "\n".join(part for part in (message_text(item) for item in content) if part)
    return ""


def history_turns(messages: Sequence[Mapping[str, Any]]) -> list[ChatTurn]:
    """The session's chat messages as `ChatTurn`s: questions with their answers, without the
    sources blocks and notes. A question left without an answer (stopped, or the page reloaded
    while it was answered) is no context for the next one."""
    turns: list[ChatTurn] = []
    for message in messages:
        metadata = message.get("metadata") or {}
        if isinstance(metadata, Mapping) and metadata.get("title"):
            continue
        text = message_text(message.get("content")).strip()
        if not text:
            continue
        role = message.get("role")
        if role == "user":
            if turns and turns[-1]["role"] == "user":
                turns.pop()  # the one before it was never answered
            turns.append({"role": "user", "content": text})
        elif role == "assistant":
            # Answers were escaped (and their [n] made links) for display: the model sees the text.
            turns.append({"role": "assistant", "content": plain_answer(text)})
    if turns and turns[-1]["role"] == "user":
        turns.pop()
    return turns


STOPPED = "Stopped before an answer"
"""The note left where a stopped answer's progress note was."""


def progress_message(searched: Searched | None = None) -> Message:
    """The note shown while the model reads (seconds on a CPU); the answer replaces it. A titled
    message, so it is never sent back as history."""
    title = searched.note() if searched else "Searching the articles…"
    return {"role": "assistant", "content": "", "metadata": {"title": title, "status": "pending"}}


def _pending(message: Mapping[str, Any]) -> bool:
    return bool((message.get("metadata") or {}).get("status") == "pending")


def settled(messages: Sequence[Message]) -> list[Message]:
    """`messages` as Gradio can show them again, each progress note still pending saying its
    answer was stopped (a titled message, so it and its question are no history)."""
    done = {"title": STOPPED, "status": "done"}
    said = "The stop button ended it before the model answered."  # an empty one shows a skeleton
    # Gradio reads a message back as a list of parts: given back, they must be text again.
    return [
        {**m, "content": said, "metadata": done}
        if _pending(m)
        else {**m, "content": message_text(m.get("content"))}
        for m in messages
    ]


def questions_asked(messages: Sequence[Mapping[str, Any]]) -> int:
    """How many questions `messages` hold (the page counts them the same way)."""
    return sum(m.get("role") == "user" for m in messages)


def answer_begun(messages: Sequence[Mapping[str, Any]]) -> bool:
    """Whether the last question's answer has begun to show its text (not only a note)."""
    last_question = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    return any(
        m.get("role") == "assistant" and not (m.get("metadata") or {}).get("title")
        for m in messages[last_question + 1 :]
    )


def stopped_notes(messages: list[Message]) -> list[Message] | None:
    """The conversation after the stop button (`settled`), with a note under a question that
    got none (stopped while it waited for its turn); None when there is nothing to settle (the
    answer ended before the stop took)."""
    bare = bool(messages) and messages[-1].get("role") == "user"
    if not bare and not any(_pending(m) for m in messages):
        return None
    return settled([*messages, progress_message()] if bare else messages)


def answer_messages(result: AnswerResult, answer_id: str | None = None) -> list[Message]:
    """The final chat messages for one answer: the checked text, then its sources and more on
    the story (each if any); the last offers the questions to ask next (`bot.web.suggest`) as
    Gradio's message options, which ask when clicked.

    The text's `[n]` link to the sources; while it streams they are still plain (the sources
    come with the end of the answer). The text carries its `answer_id` as `metadata.id` (an id
    without a title is no "thought" for Gradio): the feedback buttons name the answer by it.
    """
    first: Message = {"role": "assistant", "content": result_markdown(result)}
    if answer_id is not None:
        first["metadata"] = {"id": answer_id}
    messages: list[Message] = [first]
    sources = result_sources_html(result)
    if sources:
        messages.append(
            {
                "role": "assistant",
                "content": sources,
                "metadata": {"title": f"{SOURCES_TITLE} ({len(result.sources)})"},
            }
        )
    related = related_html(result.related)
    if related:
        messages.append(
            {
                "role": "assistant",
                "content": related,
                "metadata": {"title": f"{RELATED_TITLE} ({len(result.related)})"},
            }
        )
    suggestions = next_questions(result)
    if suggestions:
        messages[-1]["options"] = [{"value": text, "label": text} for text in suggestions]
    return messages


def read_question(
    message: Any, history: list[Message], request: gr.Request | None = None
) -> Question:
    """The reader's message as a `Question`, with the conversation and the page's filter.

    Raises:
        InputError: the message is blank, too long or not text, or the page's URL sets a filter
            that cannot be read (the reason, in words for the reader).
    """
    text = message_text(message).strip()
    if is_blank(text):
        raise InputError("Type a question about the news first.")
    return Question(text, history_turns(history), filters=page_filter(request))


def reader_error(exc: NewsbotError) -> str:
    """What a reader is told of a failed request: their own mistake in full (InputError); of the
    server's failures only which part failed. The details (a model server's reply, paths,
    setting names) are for the operator, who has them in the log; an open server's readers are
    anyone."""
    if isinstance(exc, InputError):
        return str(exc)
    if isinstance(exc, ModelError):
        return "The chat model is not answering right now. Please try again later."
    return "The server could not do that just now. Please try again later."


def question_check(message: Any, request: gr.Request) -> Any:
    """The chat input's validator: a question that cannot be asked is refused where it was
    typed, kept there for the reader to mend, before it joins the conversation or the queue."""
    try:
        read_question(message, [], request)
    except NewsbotError as exc:
        said = str(exc)
        return gr.validate(False, said[:1].upper() + said[1:])
    return gr.validate(True, "")


def make_chat_fn(
    assistant: ChatAssistant, recorder: AnswerRecorder | None = None, door: Door = "chat"
) -> ChatFn:
    """The streaming function for `gr.ChatInterface` (its public API endpoint is `/chat`).

    The page's URL may filter every question of the session (`bot.web.filter_row.page_filter`).
    Each answer is counted and logged by `recorder` as coming through `door`.
    """
    watch = recorder or AnswerRecorder()

    def chat(
        message: str, history: list[Message], request: gr.Request | None = None
    ) -> Iterator[str | list[Message]]:
        text = ""
        try:
            asked = read_question(message, history, request)
            yield [progress_message()]
            answer_id = new_answer_id()
            for event in watch.watch(assistant.stream(asked), answer_id, door):
                if isinstance(event, AnswerDone):
                    yield answer_messages(event.result, answer_id)
                elif isinstance(event, Searched) and event.passages:
                    yield [progress_message(event)]
                elif isinstance(event, TextDelta):
                    text += event.text
                    yield answer_markdown(text)
        except NewsbotError as exc:
            if not answer_stopped():  # a stop cuts the model's connection: not a failure
                log.warning("chat answer failed: %s", exc)
            raise gr.Error(reader_error(exc)) from exc

    return chat
