"""The question-answering assistant: the RAG chain plus timing, citation checking and the result.

`Assistant.stream()` yields answer text deltas as the model writes them, then exactly one
`AnswerResult` whose `answer` is the checked text (citations renumbered, unknown ones removed).
`Assistant.ask()` is the same without the deltas.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Protocol

from langchain_core.language_models import BaseChatModel

from bot.history import ChatTurn
from bot.result import AnswerResult
from prompts import Prompts
from vectorstore.records import Passage


class PassageRetriever(Protocol):
    """What the assistant needs from a store: `NewsStore.search` has this shape."""

    def search(self, query: str, k: int, published_before: date | None = None) -> list[Passage]: ...


class Assistant:
    """Answers questions about the stored articles, with citations and follow-ups."""

    def __init__(
        self, retriever: PassageRetriever, llm: BaseChatModel, prompts: Prompts, k: int = 5
    ) -> None:
        self.retriever = retriever
        self.llm = llm
        self.prompts = prompts
        self.k = k

    def stream(
        self, question: str, history: Sequence[ChatTurn] = (), as_of: date | None = None
    ) -> Iterator[str | AnswerResult]:
        """Yield answer text deltas, then one final `AnswerResult` (the checked answer)."""
        raise NotImplementedError

    def ask(
        self, question: str, history: Sequence[ChatTurn] = (), as_of: date | None = None
    ) -> AnswerResult:
        """Answer one question; `history` holds the earlier turns of the conversation."""
        raise NotImplementedError
