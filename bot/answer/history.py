"""Chat history in the OpenAI/Gradio "messages" format, and its conversion to LangChain messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypedDict

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from bot.answer.grounding import strip_markers


class ChatTurn(TypedDict):
    """One message of a conversation: `{"role": "user" | "assistant", "content": str}`."""

    role: Literal["user", "assistant"]
    content: str


def format_history(history: Sequence[ChatTurn], max_turns: int = 6) -> str:
    """The last `max_turns` messages as plain "User: ..." / "Assistant: ..." lines.

    Citation markers are left out: the condense prompt has no passages for them to name.
    """
    lines = []
    for turn in list(history)[-max_turns:]:
        speaker = "User" if turn["role"] == "user" else "Assistant"
        lines.append(f"{speaker}: {strip_markers(turn['content'])}")
    return "\n".join(lines)


def with_earlier_question(question: str, history: Sequence[ChatTurn]) -> str:
    """A follow-up with the user's previous question, for searching and for the model:
    "Who represented the US? (after: What did Pakistan and the US agree on?)".

    The earlier question carries the subject a short follow-up leaves out ("they", "it",
    "what about..."), without a model call to rewrite it; "after" is a stopword of the keyword
    search and of the answer check, so it adds nothing but the earlier words.
    """
    earlier = [turn["content"] for turn in history if turn["role"] == "user"]
    if not earlier or not earlier[-1].strip():
        return question
    return f"{question} (after: {' '.join(earlier[-1].split())})"


def to_messages(history: Sequence[ChatTurn]) -> list[BaseMessage]:
    """The history as LangChain messages (user → HumanMessage, assistant → AIMessage)."""
    return [
        HumanMessage(turn["content"]) if turn["role"] == "user" else AIMessage(turn["content"])
        for turn in history
    ]
