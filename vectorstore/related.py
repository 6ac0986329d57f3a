"""More on the same story: the stored articles nearest to some given ones (`NewsStore.related`).

No question is embedded and no model is asked. An article is represented by the mean of its
chunks' stored vectors (read from Chroma by id, the ids from the registry's chunk counts).
Chroma's nearest chunks to the given articles' means name the candidates (the first
`2 * (k + given)` articles they belong to); a candidate is shown
when its own mean is at least `SAME_STORY` similar to a given article's, and is not the same
text as a given or an already chosen one (`SAME_TEXT`, or the same title).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

import numpy as np

from vectorstore.chunks import chunk_id, epoch_day
from vectorstore.records import RelatedArticle
from vectorstore.registry import ArticleRegistry
from vectorstore.sharing import NewsCollection

SAME_STORY: Final = 0.5
"""Least cosine similarity (all-MiniLM-L6-v2) between two articles' mean chunk vectors for one to
be shown as the same story as the other. Chosen on tests/related_stories.py, written for it: the
articles of one story score 0.53-0.70 with each other, other stories of the same kind (a tunnel
closed for works beside a bridge closed by cracks, a toy recall beside a cereal recall, a
nurses' strike beside a teachers' strike) 0.22-0.43, unrelated news below 0.3. It keeps
unrelated news out; it does not tell one story from the next of the same subject: on real
articles, several chunks long, their means are closer (on 400 articles of the RealTimeQA mini
corpus, a 2020 Yellowstone reopening and the 2022 Yellowstone floods score 0.74)."""

SAME_TEXT: Final = 0.98
"""From this similarity up, an article is the same text as a given one stored again (under
another title or url, or a page whose text is a site's boilerplate): not more on the story."""

NEAREST_CHUNKS: Final = 8
"""Nearest chunks asked for per article wanted: they name the candidates."""


@dataclass(frozen=True)
class _Article:
    mean: Any  # numpy vector, unit length
    meta: dict[str, Any]


def related_articles(
    chroma: NewsCollection,
    registry: ArticleRegistry,
    article_ids: Sequence[str],
    k: int,
    keeps: Callable[[int, str], bool] | None = None,
    floor: float = SAME_STORY,
) -> list[RelatedArticle]:
    """Up to `k` other articles about the same story as `article_ids`, newest first (undated
    last); with `keeps`, only those it keeps by their day (days since 1970-01-01, -1 undated)
    and source (`ChunkFilter.keeps_day`: a search's date range and sources)."""
    given_ids = list(dict.fromkeys(article_ids))
    if k < 1 or not given_ids:
        return []
    given = _articles(chroma, registry, given_ids)
    if not given:
        return []
    collection = chroma.current()
    wanted = k + len(given)
    found = collection.query(
        query_embeddings=cast(Any, [a.mean.tolist() for a in given.values()]),
        n_results=max(1, min(NEAREST_CHUNKS * wanted, collection.count())),
        include=["distances"],
    )
    candidates: dict[str, None] = {}  # nearest first
    for chunk in sorted(
        (d, cid)
        for ids, distances in zip(found["ids"], found["distances"] or [], strict=False)
        for cid, d in zip(ids, distances, strict=False)
    ):
        neighbour = chunk[1].rsplit(":", 1)[0]
        if neighbour not in given:
            candidates.setdefault(neighbour, None)
    means = np.stack([a.mean for a in given.values()])
    titles = {_title_key(a.meta.get("title")) for a in given.values()} - {""}
    scored = []
    for article_id, article in _articles(chroma, registry, list(candidates)[: 2 * wanted]).items():
        similarity = float(np.max(means @ article.mean))
        day = epoch_day(article.meta.get("published") or None)
        kept = keeps is None or keeps(day, str(article.meta.get("source", "")))
        if floor <= similarity < SAME_TEXT and kept:
            scored.append((similarity, article_id, article))
    chosen: list[RelatedArticle] = []
    taken = list(means)
    for similarity, article_id, article in sorted(scored, key=lambda s: -s[0]):
        title = _title_key(article.meta.get("title"))
        if title in titles or float(np.max(np.stack(taken) @ article.mean)) >= SAME_TEXT:
            continue  # the same article stored twice
        titles.add(title)
        taken.append(article.mean)
        meta = article.meta
        chosen.append(
            RelatedArticle(
                article_id=article_id,
                title=str(meta.get("title", "")),
                url=str(meta.get("url", "")),
                source=str(meta.get("source", "")),
                published=str(meta.get("published") or "") or None,
                similarity=similarity,
            )
        )
    return sorted(chosen[:k], key=lambda a: a.published or "", reverse=True)  # undated last


def _articles(
    chroma: NewsCollection, registry: ArticleRegistry, article_ids: Sequence[str]
) -> dict[str, _Article]:
    """Each article's mean chunk vector (unit length) and what it is (title, url, source,
    published: its registry row, else its first chunk's metadata); articles with no stored chunk
    are left out."""
    rows = registry.rows(article_ids)
    collection = chroma.current()
    vectors: dict[str, list[Any]] = {}
    metas: dict[str, dict[str, Any]] = {
        a: {"title": r.title, "url": r.url, "source": r.source, "published": r.published}
        for a, r in rows.items()
    }
    ids = [chunk_id(a, i) for a in article_ids if a in rows for i in range(rows[a].n_chunks)]
    if ids:  # by id, vectors only: the quick read
        got = collection.get(ids=ids, include=["embeddings"])
        embeddings: Iterable[Any] = got["embeddings"] if got["embeddings"] is not None else []
        for cid, vector in zip(got["ids"], embeddings, strict=False):
            vectors.setdefault(cid.rsplit(":", 1)[0], []).append(vector)
    unknown = [a for a in article_ids if a not in rows]
    if unknown:  # written by another tool: found by their metadata (slower)
        where: Any = {"article_id": {"$in": unknown}}
        got = collection.get(where=where, include=["embeddings", "metadatas"])
        embeddings = got["embeddings"] if got["embeddings"] is not None else []
        for vector, meta in zip(embeddings, got["metadatas"] or [], strict=False):
            article = str((meta or {}).get("article_id", ""))
            vectors.setdefault(article, []).append(vector)
            metas.setdefault(article, dict(meta or {}))
    result = {}
    for article in article_ids:
        if article in vectors:
            mean = np.mean(np.asarray(vectors[article], dtype=np.float64), axis=0)
            norm = float(np.linalg.norm(mean))
            if norm:
                result[article] = _Article(mean / norm, metas[article])
    return result


def _title_key(title: object) -> str:
    return " ".join(str(title or "").lower().split())
