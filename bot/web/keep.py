"""Conversations kept in the reader's browser: they survive a reload, and the chat's Clear forgets.

`keep_conversation` stores the chat's messages in the browser's localStorage with Gradio's own
`gr.BrowserState` (one key per page, so the chat page and the widget keep their own; the browser
keeps one store per site, so a widget framed by two sites keeps two). It saves in the page whenever
the chat changes (a browser-side event: no server call) and puts the stored conversation back on
each page load. Nothing is kept on the server.

What comes back from the browser is checked (`stored_messages`): only user and assistant
messages with text, at most `MAX_KEPT_MESSAGES`, reach the chat again. It was rendered by
`bot.web.render` when it was stored; Gradio's sanitizer still runs on it when it is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

import gradio as gr

from bot.web.chat import Message, message_text

MAX_KEPT_MESSAGES: Final = 120
"""Most messages kept (a question and its answer are 2 to 4): the newest; localStorage is small."""
_SECRET: Final = "newsbot-conversation"
"""BrowserState's encryption key. Gradio sends it to the page, so it hides nothing from the
reader; a fixed one keeps a conversation readable after the server restarts (a random one, the
default, would not)."""


def _message(item: Any) -> Message | None:
    if not isinstance(item, Mapping) or item.get("role") not in ("user", "assistant"):
        return None
    # The page keeps a message's text as a list of parts ({"type": "text", "text": ...}).
    content = message_text(item.get("content"))
    if not content.strip():
        return None
    message: Message = {"role": item["role"], "content": content}
    # A block's title (Sources) and an answer's id (what a reader's vote names) are kept.
    metadata = item.get("metadata")
    if isinstance(metadata, Mapping):
        known = {k: metadata[k] for k in ("title", "id") if isinstance(metadata.get(k), str)}
        if known:
            message["metadata"] = known
    options = item.get("options")
    if isinstance(options, list):
        choices = [
            {"value": option["value"], "label": str(option.get("label") or option["value"])}
            for option in options
            if isinstance(option, Mapping) and isinstance(option.get("value"), str)
        ]
        if choices:
            message["options"] = choices
    return message


def stored_messages(value: Any) -> list[Message]:
    """The chat messages in a stored value: the newest `MAX_KEPT_MESSAGES` well-formed ones,
    starting with a question; anything else in it is dropped."""
    if not isinstance(value, list):
        return []
    messages = [m for m in (_message(item) for item in value) if m is not None]
    messages = messages[-MAX_KEPT_MESSAGES:]
    while messages and messages[0]["role"] != "user":
        messages.pop(0)
    return messages


def keep_conversation(
    blocks: gr.Blocks,
    chat: gr.ChatInterface,
    key: str,
    votes: Callable[[list[Message]], list[str | None]] | None = None,
) -> gr.BrowserState:
    """Keep `chat`'s conversation in the browser under `key` (see the module docstring); with
    `votes`, the thumbs a restored conversation shows marked (`Chatbot.feedback_value`)."""
    stored = gr.BrowserState([], storage_key=key, secret=_SECRET)
    private: dict[str, Any] = {"api_visibility": "private", "queue": False}

    def restore(value: Any) -> tuple[Any, list[Message], list[Message]]:
        messages = stored_messages(value)
        shown = gr.update(value=messages, feedback_value=votes(messages)) if votes else messages
        # Gradio's copy holds each message's text as a list of parts, as its chatbot hands
        # them over: its retry reads them so (found by a test: retry after a reload failed).
        parts = [{**m, "content": [{"type": "text", "text": m["content"]}]} for m in messages]
        return shown, parts, messages

    blocks.load(
        restore,
        [stored],
        [chat.chatbot, chat.chatbot_state, chat.chatbot_value],
        show_progress="hidden",
        **private,
    )
    # Saved in the browser as the chat changes (no server call): streamed answers, Clear, undo.
    chat.chatbot.change(None, [chat.chatbot], [stored], js="(messages) => [messages]", **private)
    return stored
