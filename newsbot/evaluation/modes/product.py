"""The `newsbot` mode: the product's own path, with the multiple-choice prompt at the end.

The dataset's corpus is ingested (once; a rerun embeds nothing) into its own collection through
the ingest pipeline. Each question is retrieved exactly as `newsbot ask` retrieves it
(`Assistant.retrieve`: the same condense, search as of the question's date and prompt order),
and its passages are numbered by the answer chain's `format_passages`; only the last step
differs: the model is asked to pick one of the choices.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, ClassVar

from newsbot.errors import ConfigError
from newsbot.evaluation.corpus import chunk_texts, ingest_corpus
from newsbot.evaluation.dataset import Query
from newsbot.evaluation.modes.base import Asked, ModeContext, as_retrieved, mc_prompt


class NewsbotMode:
    """newsbot's retrieval, prompt order and passage numbering (see the module docstring)."""

    fixed_k: ClassVar[int | None] = None

    def __init__(self, context: ModeContext) -> None:
        from bot.answer.assistant import Assistant

        if context.store is None:
            raise ConfigError("the newsbot eval mode needs a store for the dataset corpus")
        self.context = context
        self.store = context.store
        self.assistant = Assistant(
            context.store, context.llm, context.prompts, k=context.k, **context.answering
        )

    def prepare(self) -> dict[str, Any]:
        return ingest_corpus(
            self.context.dataset_dir,
            self.store,
            corpus_file=self.context.corpus_file,
            options=self.context.ingest_options,
            progress=True,
        )

    def ask(self, query: Query) -> Asked:
        from bot.answer.question import Question

        asked = Question(query.question, as_of=date.fromisoformat(query.date))
        _, retrieval = self.assistant.retrieve(asked)
        passages = retrieval.passages
        return Asked(mc_prompt(self.context.prompts, query, passages), as_retrieved(passages))

    def texts(self, chunk_ids: Sequence[str]) -> dict[str, str]:
        return chunk_texts(self.store, chunk_ids)
