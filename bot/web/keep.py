"""Conversations kept in the reader's browser: they survive a reload, and the chat's Clear forgets.

`keep_conversation` stores the chat's messages as JSON in the browser's localStorage (one key per
page, so the chat page and the widget keep their own; the browser keeps one store per site, so a
widget framed by two sites keeps two). It saves in the page whenever the chat changes (a
browser-side event: no server call) and puts the stored conversation back on each page load,
read in the page as the load event starts. (Gradio's `gr.BrowserState` kept them until
2026-12-06: it reads its value once its component has loaded, which in the widget came after
the page's load event, so the widget came back empty and then saved that. Its copy is still
read when there is no new one, so a conversation kept by an earlier version comes back once.)
Nothing is kept on the server.

What comes back from the browser is checked (`stored_messages`): only user and assistant
messages with text, at most `MAX_KEPT_MESSAGES`, reach the chat again. It was rendered by
`bot.web.render` when it was stored; Gradio's sanitizer still runs on it when it is shown.
"""

from __future__ import annotations

import json
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
) -> None:
    """Keep `chat`'s conversation in the browser under `key` (see the module docstring); with
    `votes`, the thumbs a restored conversation shows marked (`Chatbot.feedback_value`)."""
    earlier = gr.BrowserState([], storage_key=key, secret=_SECRET)  # read only, as a fallback
    kept = gr.JSON(visible=False, elem_classes="nb-kept")  # carries the page's copy to the server
    private: dict[str, Any] = {"api_visibility": "private", "queue": False}
    name = json.dumps(f"{key}-v2")

    def restore(value: Any, fallback: Any) -> tuple[Any, Any, list[Message]]:
        messages = stored_messages(value if value is not None else fallback)
        shown = gr.update(value=messages, feedback_value=votes(messages)) if votes else messages
        # Gradio's copy holds each message's text as a list of parts, as its chatbot hands
        # them over: its retry reads them so (found by a test: retry after a reload failed).
        parts = [{**m, "content": [{"type": "text", "text": m["content"]}]} for m in messages]
        return shown, parts, messages

    # The chat changes (and would be saved, empty) before the page's load event: nothing is
    # saved until the stored copy has been read.
    read = (
        f"(kept, earlier) => {{ (window.nbKeptRead = window.nbKeptRead || {{}})[{name}] = true;"
        f" try {{ const text = localStorage.getItem({name});"
        " return [text === null ? null : JSON.parse(text), earlier]; }"
        " catch (error) { return [null, earlier]; } }"
    )
    blocks.load(
        restore,
        [kept, earlier],
        [chat.chatbot, chat.chatbot_state, chat.chatbot_value],
        js=read,
        show_progress="hidden",
        **private,
    )
    # Saved in the page as the chat changes (no server call): streamed answers, Clear, undo. A
    # browser that refuses storage (a framed widget, third-party storage blocked) keeps none.
    save = (
        f"(messages) => {{ if (!(window.nbKeptRead || {{}})[{name}]) return;"
        f" try {{ localStorage.setItem({name}, JSON.stringify(messages || [])); }}"
        " catch (error) {} }"
    )
    chat.chatbot.change(None, [chat.chatbot], None, js=save, **private)
