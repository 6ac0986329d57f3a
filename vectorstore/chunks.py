"""How a chunk is kept in Chroma: its id, its metadata (docs/ARCHITECTURE.md) and the `Passage`
read back from a stored record.

A record whose metadata or text is missing (the chunk was deleted between the vector search and
the fetch of its record) reads as None, so the store can skip it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Final, cast

from vectorstore.records import ArticleMeta, ChunkText, Passage

_EPOCH: Final = date(1970, 1, 1)
UNKNOWN_DAY: Final = -1


def cosine_relevance(distance: float) -> float:
    """Cosine similarity from Chroma's cosine distance."""
    return 1.0 - distance


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors (0 when either is all zeros)."""
    import numpy as np  # here, not at the top: `newsbot stats` reads dates from this module

    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    norm = float(np.linalg.norm(x) * np.linalg.norm(y))
    return float(x @ y) / norm if norm else 0.0


def chunk_id(article_id: str, index: int) -> str:
    """The Chroma id of an article's chunk: stable, so a rewrite overwrites in place."""
    return f"{article_id}:{index}"


def epoch_day(published: str | None) -> int:
    """Days since 1970-01-01 of an ISO date or datetime string; -1 when unknown or unreadable."""
    if not published:
        return UNKNOWN_DAY
    try:
        return (date.fromisoformat(published[:10]) - _EPOCH).days
    except ValueError:
        return UNKNOWN_DAY


def day_number(day: date) -> int:
    """Days since 1970-01-01 of `day` (the unit of the `published_ts` metadata)."""
    return (day - _EPOCH).days


def chunk_metadata(meta: ArticleMeta, chunk: ChunkText) -> dict[str, str | int]:
    """The Chroma metadata of one chunk."""
    return {
        "article_id": meta.article_id,
        "title": meta.title,
        "url": meta.url,
        "source": meta.source,
        "published": meta.published or "",
        "published_ts": epoch_day(meta.published),
        "chunk_index": chunk.index,
        "char_start": chunk.char_start,
        "char_end": chunk.char_end,
        "content_hash": meta.content_hash,
    }


def passage_from_row(cid: str, text: str | None, meta: Mapping[str, Any] | None) -> Passage | None:
    """The `Passage` of one stored record (its `score` is the caller's to set); None when the
    chunk's record is gone (deleted meanwhile)."""
    if meta is None or text is None:
        return None
    published = cast(str, meta.get("published") or "")
    return Passage(
        chunk_id=cid,
        article_id=str(meta.get("article_id", "")),
        title=str(meta.get("title", "")),
        url=str(meta.get("url", "")),
        source=str(meta.get("source", "")),
        published=published or None,
        text=text,
        char_start=int(meta.get("char_start", 0)),
        char_end=int(meta.get("char_end", 0)),
        score=0.0,
        chunk_index=int(meta.get("chunk_index", 0)),
    )
