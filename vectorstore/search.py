"""The store's read path (docs/ARCHITECTURE.md, "Searching"): a question's best chunks, the dense
and keyword rankings fused (`vectorstore.ranking`), filtered by date and source without Chroma's
slow metadata filter.

A filtered search asks Chroma for ids and distances only and decides from the article registry
which chunks pass; when too few of the nearest do, Chroma searches among the ids of those that
pass (`query(ids=...)`). Chunks the registry does not know (written by other tools) are judged by
their Chroma metadata. Only the chosen chunks' text and metadata are read.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, cast

from langchain_core.embeddings import Embeddings

from newsbot.errors import StoreError
from vectorstore.chunks import UNKNOWN_DAY, cosine, passage_from_row
from vectorstore.filters import ChunkFilter
from vectorstore.keywords import KeywordIndex
from vectorstore.ranking import RankingPolicy, fuse
from vectorstore.records import Passage
from vectorstore.registry import ArticleRegistry
from vectorstore.repair import damaged_elements, unreadable_index
from vectorstore.sharing import NewsCollection

logger = logging.getLogger(__name__)

OVERSAMPLE = 10  # a filtered search first looks at this many times k nearest chunks


@functools.cache
def _workers() -> ThreadPoolExecutor:
    """The process's threads for keyword searches (one per search running at once, up to 4)."""
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="keyword-search")


@dataclass(frozen=True)
class _Hit:
    chunk_id: str
    distance: float


def article_of(chunk: str) -> str:
    """The article id of a chunk id (`vectorstore.chunks.chunk_id`: "<article>:<index>")."""
    return chunk.rsplit(":", 1)[0]


class Searcher:
    """Searches one collection (see the module docstring); `NewsStore.search` calls it."""

    def __init__(
        self,
        chroma: NewsCollection,
        registry: ArticleRegistry,
        embeddings: Embeddings,
        keywords: KeywordIndex | None,
        ranking: Callable[[], RankingPolicy],
    ) -> None:
        self._chroma = chroma
        self.registry = registry
        self.embeddings = embeddings
        self.keywords = keywords
        self._ranking = ranking

    def search(
        self, query: str, k: int, where: ChunkFilter | None, as_of: int | None
    ) -> list[Passage]:
        """The `k` best passages, ranked (`Passage.rank`); the recency prior counts ages from
        day `as_of` (None: no prior)."""
        policy = self._ranking()
        if as_of is None:
            policy = replace(policy, recency_weight=0.0)
        wide = max(policy.candidates, k)
        # The keyword search needs no vector, so it runs while the query is embedded: ONNX and
        # SQLite both release the GIL, and the two take about as long (BENCHMARKS.md, search).
        words = self._keyword_search(query, wide, where, policy)
        vector = self.embeddings.embed_query(query)
        try:
            passages, missing = self._ranked(vector, k, where, as_of, policy, words.result())
        except StoreError:
            raise
        except Exception as exc:  # ids this index has not loaded yet
            logger.debug("Search failed (%s); trying again on a reopened index", exc)
            missing = 1
        if missing:
            # Another process is writing: wait for it to finish, take its writes, ask again.
            self._chroma.refresh(wait_for_writers=True)
            words = self._keyword_search(query, wide, where, policy)
            try:
                passages, missing = self._ranked(vector, k, where, as_of, policy, words.result())
            except StoreError:
                raise
            except Exception as exc:  # chromadb's errors are untyped
                fix = (
                    "its vector index looks damaged: `newsbot repair` rebuilds it"
                    if self._chroma.embedded and (damaged_elements(exc) or unreadable_index(exc))
                    else "check that the store is readable (and a Chroma server reachable), "
                    "then ask again"
                )
                raise StoreError(
                    f"Search in collection {self._chroma.name!r} failed ({exc}): {fix}"
                ) from exc
            if missing:
                logger.debug("Skipped %d chunk(s) deleted during the search", missing)
        return passages

    def _keyword_search(
        self, query: str, n: int, where: ChunkFilter | None, policy: RankingPolicy
    ) -> Future[list[str]]:
        """The ids of the `n` best keyword hits, searched on a worker thread (none when the
        policy gives keywords no weight or there is no index)."""
        index = self.keywords
        if index is None or policy.keyword_weight <= 0:
            none: Future[list[str]] = Future()
            none.set_result([])
            return none
        return _workers().submit(lambda: [cid for cid, _ in index.search(query, n, where)])

    def _ranked(
        self,
        vector: list[float],
        k: int,
        where: ChunkFilter | None,
        as_of: int | None,
        policy: RankingPolicy,
        keyword: list[str],
    ) -> tuple[list[Passage], int]:
        """The top `k` passages, and how many chunks had no record left (deleted meanwhile).

        The candidates (the dense ones and `keyword`, the keyword hits) are fused by id, their
        dates read from the registry; only the `k` chosen are read from Chroma.
        """
        plain = (self.keywords is None or policy.keyword_weight <= 0) and policy.recency_weight <= 0
        dates: dict[str, tuple[int, str]] = {}  # registry rows read so far, by article
        dense = self._dense(vector, k if plain else max(policy.candidates, k), where, dates)
        ages: dict[str, int | None] = {}
        if policy.recency_weight > 0:
            candidates = {h.chunk_id for h in dense} | set(keyword)
            unread = {article_of(c) for c in candidates} - dates.keys()
            dates.update(self.registry.dates_and_sources(unread) if unread else {})
            for cid in candidates:
                day = dates.get(article_of(cid), (UNKNOWN_DAY, ""))[0]
                ages[cid] = None if day == UNKNOWN_DAY or as_of is None else as_of - day
        similarity = {h.chunk_id: 1.0 - h.distance for h in dense}
        if policy.recency_weight > 0:  # the prior weighs each candidate by its similarity
            similarity.update(self._similarity([c for c in keyword if c not in similarity], vector))
        order = fuse([h.chunk_id for h in dense], keyword, ages, policy, similarity)[:k]
        # Chosen keyword hits the prior did not need scored yet: one read of their vectors.
        similarity.update(self._similarity([c for c in order if c not in similarity], vector))
        read = self._read(order)
        chosen = [cid for cid in order if cid in read]
        passages = [
            replace(read[cid], score=similarity.get(cid, 0.0), rank=n)
            for n, cid in enumerate(chosen, start=1)
        ]
        # A dense hit Chroma no longer holds was deleted meanwhile; a keyword hit alone may
        # just be a write in progress, and is skipped.
        dense_ids = {h.chunk_id for h in dense}
        return passages, sum(1 for cid in order if cid in dense_ids and cid not in read)

    def _similarity(self, ids: Sequence[str], vector: list[float]) -> dict[str, float]:
        """Cosine similarity to the query of chunks found by their words alone."""
        if not ids:
            return {}
        got = self._chroma.current().get(ids=list(ids), include=["embeddings"])
        embeddings = got["embeddings"] if got["embeddings"] is not None else []
        return {
            cid: cosine(vector, embedding)
            for cid, embedding in zip(got["ids"], embeddings, strict=False)
        }

    # --- dense ranking ---------------------------------------------------------------------------

    def _dense(
        self,
        vector: list[float],
        k: int,
        where: ChunkFilter | None,
        rows: dict[str, tuple[int, str]] | None = None,
    ) -> list[_Hit]:
        """The `k` nearest chunks that pass `where`, nearest first (ids and distances); the
        registry rows read to judge them are added to `rows`."""
        if where is None:
            return self._nearest(vector, k)
        wide = OVERSAMPLE * k
        hits = self._nearest(vector, wide)
        kept = self._passing(hits, where, rows)
        if len(kept) >= k or len(hits) < wide:  # enough, or every chunk was seen
            return kept[:k]
        allowed = self._allowed_ids(where)
        if allowed is None:  # no registry rows: Chroma's own filter
            return self._nearest(vector, k, where=where.where())
        if not allowed:
            return []
        return self._nearest(vector, k, ids=allowed)

    def _nearest(
        self, vector: list[float], n: int, where: Any = None, ids: list[str] | None = None
    ) -> list[_Hit]:
        result = self._chroma.current().query(
            query_embeddings=cast(Any, [vector]),
            n_results=n,
            where=where,
            ids=ids,
            include=["distances"],
        )
        distances = (result["distances"] or [[]])[0]
        return [_Hit(c, float(d)) for c, d in zip(result["ids"][0], distances, strict=True)]

    def _passing(
        self,
        hits: Sequence[_Hit],
        where: ChunkFilter,
        read: dict[str, tuple[int, str]] | None = None,
    ) -> list[_Hit]:
        """The hits whose article passes `where`, judged by its registry row (by the chunk's
        Chroma metadata when the registry has none); the rows read are added to `read`."""
        rows = self.registry.dates_and_sources({article_of(h.chunk_id) for h in hits})
        if read is not None:
            read.update(rows)
        unknown = [h.chunk_id for h in hits if article_of(h.chunk_id) not in rows]
        metadata: dict[str, tuple[int, str]] = {}
        if unknown:
            got = self._chroma.current().get(ids=unknown, include=["metadatas"])
            for cid, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
                if meta is not None:
                    metadata[cid] = (
                        int(cast(Any, meta.get("published_ts", -1))),
                        str(meta.get("source", "")),
                    )
        kept = []
        for hit in hits:
            day_source = rows.get(article_of(hit.chunk_id)) or metadata.get(hit.chunk_id)
            if day_source is not None and where.keeps_day(*day_source):
                kept.append(hit)
        return kept

    def _allowed_ids(self, where: ChunkFilter) -> list[str] | None:
        """The ids of every chunk whose article passes `where`; None when the registry is empty."""
        if self.registry.count() == 0:
            return None
        return [
            f"{article_id}:{index}"
            for article_id, n_chunks in self.registry.chunk_counts(where.keeps_day)
            for index in range(n_chunks)
        ]

    # --- reading passages ------------------------------------------------------------------------

    def _read(self, ids: Sequence[str]) -> dict[str, Passage]:
        """The passages of `ids` that Chroma still holds; the caller sets their `score`."""
        if not ids:
            return {}
        got = self._chroma.current().get(ids=list(ids), include=["documents", "metadatas"])
        found: dict[str, Passage] = {}
        for cid, text, meta in zip(
            got["ids"], got["documents"] or [], got["metadatas"] or [], strict=False
        ):
            passage = passage_from_row(cid, text, meta)
            if passage is not None:
                found[cid] = passage
        return found
