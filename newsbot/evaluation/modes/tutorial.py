"""Modes over LangChain's RAG tutorial (`tutorial_rag`): its whole pipeline (`plain_rag`), or
its index and search with newsbot's multiple-choice prompt (`plain_retrieval`).

Against `plain_rag`, `plain_retrieval` separates what the tutorial's prompt costs from what its
chunking and retrieval cost; against `newsbot` it isolates retrieval. The tutorial's index goes
into its own collection beside the dataset's (`<collection>-plainrag`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from newsbot.errors import ConfigError
from newsbot.evaluation.choice import format_choices
from newsbot.evaluation.dataset import Query, iter_docs
from newsbot.evaluation.modes import tutorial_rag
from newsbot.evaluation.modes.base import (
    Asked,
    ModeContext,
    Retrieved,
    as_retrieved,
    mc_prompt,
    plain_passage,
)

if TYPE_CHECKING:
    from langchain_chroma import Chroma


class PlainRagMode:
    """The tutorial as written: its splits, its top-4 search (no date filter), its prompt."""

    fixed_k: ClassVar[int | None] = tutorial_rag.TOP_K

    def __init__(self, context: ModeContext) -> None:
        store = context.store
        if store is None:
            raise ConfigError("the plain_rag eval modes need a store (its client and embedder)")
        self.context = context
        self.client = store.client
        self.embeddings = store.embeddings
        self.collection = f"{store.collection_name}-plainrag"
        self.index: Chroma | None = None

    def prepare(self) -> dict[str, Any]:
        started = time.perf_counter()
        docs = iter_docs(self.context.dataset_dir, corpus_file=self.context.corpus_file)
        splits = tutorial_rag.split_docs(docs)
        self.index = tutorial_rag.build_index(splits, self.embeddings, self.client, self.collection)
        return {"chunks": len(splits), "seconds": round(time.perf_counter() - started, 1)}

    def _search(self, query: Query) -> list[tutorial_rag.Split]:
        if self.index is None:
            raise RuntimeError("prepare() first")
        return tutorial_rag.search(self.index, query.question)

    def ask(self, query: Query) -> Asked:
        splits = self._search(query)
        prompt = tutorial_rag.build_prompt(query.question, format_choices(query.choices), splits)
        return Asked(prompt, [Retrieved(s.chunk_id, s.article_id, s.text, 0.0) for s in splits])

    def texts(self, chunk_ids: Sequence[str]) -> dict[str, str]:
        if self.index is None:
            raise RuntimeError("prepare() first")
        got = self.index.get(ids=list(chunk_ids), include=["documents"])
        return dict(zip(got["ids"], got["documents"], strict=True))


class PlainRetrievalMode(PlainRagMode):
    """The tutorial's index and search, asked with newsbot's own multiple-choice prompt."""

    def ask(self, query: Query) -> Asked:
        passages = [
            plain_passage(s.chunk_id, s.article_id, s.text, published=s.published)
            for s in self._search(query)
        ]
        return Asked(mc_prompt(self.context.prompts, query, passages), as_retrieved(passages))
