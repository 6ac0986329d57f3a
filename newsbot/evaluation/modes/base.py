"""What an evaluation mode provides, and the pieces the modes share.

A mode prepares once (ingests a corpus, loads documents), then turns each question into the
prompt the model is asked and the passages in it (`Asked`), and can read back the text of chunks
it retrieved in an earlier, resumed run. `fixed_k` is the number of passages the mode always
uses (None: the k asked for).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from newsbot.evaluation.choice import build_prompt
from newsbot.evaluation.dataset import Query
from vectorstore.records import Passage

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from prompts import Prompts
    from vectorstore.store import NewsStore


@dataclass(frozen=True)
class Retrieved:
    """One passage of a prompt as the scorer needs it (`score` 0.0 when the mode has none)."""

    chunk_id: str
    article_id: str
    text: str
    score: float


@dataclass(frozen=True)
class Asked:
    """What a mode produced for one question: the prompt and its passages, numbered from 1."""

    prompt: str
    passages: list[Retrieved]


@dataclass(frozen=True)
class ModeContext:
    """Everything a mode may need; each mode takes what it uses."""

    dataset_dir: Path
    queries: Sequence[Query]
    prompts: Prompts
    llm: BaseChatModel
    k: int
    store: NewsStore | None = None
    ingest_options: Mapping[str, Any] = field(default_factory=dict)
    corpus_file: Path | None = None
    answering: Mapping[str, Any] = field(default_factory=dict)  # Assistant options (newsbot mode)


class EvalMode(Protocol):
    """One way of asking the questions (see the module docstring)."""

    fixed_k: ClassVar[int | None]

    def prepare(self) -> dict[str, Any]:
        """Get ready to ask (index a corpus, load documents); returns what it did, for the
        summary."""

    def ask(self, query: Query) -> Asked:
        """The prompt for `query` and the passages in it."""

    def texts(self, chunk_ids: Sequence[str]) -> dict[str, str]:
        """The text of chunks retrieved in an earlier run (those still found)."""


def mc_prompt(prompts: Prompts, query: Query, passages: Sequence[Passage]) -> str:
    """newsbot's multiple-choice prompt over passages numbered as the answer prompt numbers them."""
    from bot.answer.chain import format_as_of, format_passages

    return build_prompt(
        prompts.get("multiple_choice"),
        as_of=format_as_of(date.fromisoformat(query.date)),
        passages=format_passages(passages),
        question=query.question,
        choices=query.choices,
    )


def as_retrieved(passages: Sequence[Passage]) -> list[Retrieved]:
    """The scorer's view of product passages, in the same order."""
    return [Retrieved(p.chunk_id, p.article_id, p.text, p.score) for p in passages]


def plain_passage(
    chunk_id: str,
    article_id: str,
    text: str,
    *,
    title: str = "",
    url: str = "",
    source: str = "",
    published: str | None = None,
) -> Passage:
    """A passage that did not come from newsbot's store (a search result, a tutorial chunk)."""
    return Passage(
        chunk_id=chunk_id,
        article_id=article_id,
        title=title,
        url=url,
        source=source,
        published=published,
        text=text,
        char_start=0,
        char_end=len(text),
        score=0.0,
        chunk_index=0,
    )
