"""An article's stored text, put back together from its chunks (for reading it in the web app).

Chunks record where they sit in the article (`char_start`, `char_end`) and may overlap; joined
in that order, each adds only what the ones before did not cover. A gap (chunks of an older
layout) becomes a blank line rather than being made up.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vectorstore.chunks import chunk_id
from vectorstore.records import StoredArticle
from vectorstore.registry import ArticleRegistry
from vectorstore.sharing import NewsCollection


def join_chunks(pieces: Iterable[tuple[int, str]]) -> str:
    """The text that chunks `(char_start, text)` cover, overlaps counted once."""
    text = ""
    for start, piece in sorted(pieces, key=lambda item: item[0]):
        covered = len(text) - start
        if covered < 0:
            text = text.rstrip() + "\n\n" if text else ""
            text += piece
        elif covered < len(piece):
            text += piece[covered:]
    return text.strip()


def stored_article(
    chroma: NewsCollection, registry: ArticleRegistry, article_id: str
) -> StoredArticle | None:
    """The article stored under `article_id` with its text; None when there is none."""
    row = registry.get(article_id)
    if row is None or row.n_chunks <= 0:
        return None
    ids = [chunk_id(article_id, index) for index in range(row.n_chunks)]
    got = chroma.current().get(ids=ids, include=["documents", "metadatas"])
    pieces: list[tuple[int, str]] = []
    metas: list[Any] = list(got["metadatas"] or [])
    for document, meta in zip(got["documents"] or [], metas, strict=False):
        if document is not None:
            pieces.append((int((meta or {}).get("char_start", 0)), document))
    if not pieces:
        return None
    return StoredArticle(row, join_chunks(pieces))
