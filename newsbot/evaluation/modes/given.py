"""Modes that use no retrieval of ours: the authors' search results (`gcs`), or none
(`closed_book`). Against `newsbot` they separate retriever quality from model quality."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar
from urllib.parse import urlsplit

from newsbot.evaluation.dataset import Doc, Query, load_docs
from newsbot.evaluation.modes.base import Asked, ModeContext, as_retrieved, mc_prompt, plain_passage

#: The authors' Google results per question, and the characters of each the model reads.
GCS_TOP = 10
GCS_CHARS = 600


class GcsMode:
    """The dataset's Google results for the question (`gcs_ids`, top 10), the first 600
    characters of each, instead of our retrieval."""

    fixed_k: ClassVar[int | None] = GCS_TOP

    def __init__(self, context: ModeContext) -> None:
        self.context = context
        self.docs: dict[str, Doc] = {}

    def prepare(self) -> dict[str, Any]:
        wanted = {i for q in self.context.queries for i in q.gcs_ids[:GCS_TOP]}
        self.docs = load_docs(self.context.dataset_dir, wanted)
        return {"documents": len(self.docs)}

    def ask(self, query: Query) -> Asked:
        passages = []
        for doc_id in query.gcs_ids[:GCS_TOP]:
            doc = self.docs.get(doc_id)
            if doc is not None:
                url = doc.url or ""
                passages.append(
                    plain_passage(
                        f"{doc_id}:gcs",
                        doc.id,
                        doc.text[:GCS_CHARS],
                        title=doc.title or "",
                        url=url,
                        source=(urlsplit(url).hostname or "").removeprefix("www."),
                        published=doc.date,
                    )
                )
        return Asked(mc_prompt(self.context.prompts, query, passages), as_retrieved(passages))

    def texts(self, chunk_ids: Sequence[str]) -> dict[str, str]:
        out = {}
        for chunk_id in chunk_ids:
            doc = self.docs.get(chunk_id.rsplit(":", 1)[0])
            if doc is not None:
                out[chunk_id] = doc.text[:GCS_CHARS]
        return out


class ClosedBookMode:
    """No passages: what the model knows by itself."""

    fixed_k: ClassVar[int | None] = 0

    def __init__(self, context: ModeContext) -> None:
        self.context = context

    def prepare(self) -> dict[str, Any]:
        return {}

    def ask(self, query: Query) -> Asked:
        return Asked(mc_prompt(self.context.prompts, query, []), [])

    def texts(self, chunk_ids: Sequence[str]) -> dict[str, str]:
        return {}
