"""`NewsStore`: article chunks in a Chroma collection, with the article registry and the keyword
index beside it.

The store embeds chunks itself (Chroma's embedding function would download a model), writes them
in the crash-safe order of docs/ARCHITECTURE.md under the ingest lock and the Chroma write lock
(`vectorstore.sharing`), and searches through `vectorstore.search`. A collection records the
embedder and dimension that built it; opening it with another embedder is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any

from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from langchain_core.embeddings import Embeddings

from newsbot.errors import StoreError
from vectorstore.article_text import stored_article
from vectorstore.chunks import chunk_id, chunk_metadata, cosine_relevance, day_number, epoch_day
from vectorstore.embeddings import embedder_info
from vectorstore.filters import chunk_filter, stored_spellings
from vectorstore.keywords import KeywordIndex, build_keyword_index
from vectorstore.ranking import RankingPolicy
from vectorstore.records import (
    ArticleMeta,
    ArticleRow,
    ChunkText,
    KeywordChunk,
    Passage,
    RelatedArticle,
    SearchFilter,
    StoredArticle,
)
from vectorstore.registry import ArticleRegistry
from vectorstore.related import related_articles
from vectorstore.search import Searcher
from vectorstore.sharing import NewsCollection, file_name

if TYPE_CHECKING:
    from langchain_chroma import Chroma

logger = logging.getLogger(__name__)

_NOTHING: Any = object()  # a filter no stored chunk can match: answer [] without a query


class NewsStore:
    """News article chunks in one Chroma collection, plus their registry rows and keyword index
    (None: dense search only). `embedder_name` and `dimension` are recorded in the collection;
    by default `embeddings.name` and `.dimension`, else the class name and a probe's length.

    The store owns the client and registry it is given: `close` closes them (a constructor that
    raises leaves them to the caller).

    Raises:
        StoreError: the collection was built by another embedder or dimension, or not by newsbot.
    """

    def __init__(
        self,
        client: ClientAPI,
        collection_name: str,
        embeddings: Embeddings,
        registry: ArticleRegistry,
        embedder_name: str | None = None,
        dimension: int | None = None,
        keywords: KeywordIndex | None = None,
        ranking: RankingPolicy | None = None,
    ) -> None:
        if embedder_name is None or dimension is None:
            info = embedder_info(embeddings)
            embedder_name = embedder_name or info.name
            dimension = dimension or info.dimension
        self.collection_name = collection_name
        self.embeddings = embeddings
        self.registry = registry
        self.embedder_name = embedder_name
        self.dimension = dimension
        self.keywords = keywords
        self.ranking = ranking or RankingPolicy()
        self._chroma = NewsCollection(
            client, collection_name, embedder_name, dimension, embeddings.embed_documents
        )
        self._searcher = Searcher(
            self._chroma, registry, embeddings, keywords, lambda: self.ranking
        )
        self._ingest_lock = registry.database.lock(f"{file_name(collection_name)}.ingest")
        try:
            self._check_rows(registry, keywords)
        except BaseException:
            self._chroma.close(keep_client=True)
            raise

    def _check_rows(self, registry: ArticleRegistry, keywords: KeywordIndex | None) -> None:
        """Forget stale rows, build a missing keyword index, and warn of interrupted writes."""
        collection_name = self.collection_name
        if self._collection.count() == 0 and registry.count() + len(registry.pending()) > 0:
            with self.ingest_lock():  # not while another process is writing its first chunks
                if self._collection.count() == 0:
                    # The collection was deleted or recreated behind our back: the rows are stale.
                    logger.warning(
                        "Collection %r is empty; forgetting %d stale registry rows",
                        collection_name,
                        registry.clear(),
                    )
                    if keywords is not None:
                        keywords.clear()
        if keywords is not None and not keywords.built():
            with self.ingest_lock():
                if not keywords.built():
                    build_keyword_index(self._collection, keywords)
        # Pending rows are an interrupted write only when no one is writing: while another ingest
        # holds the lock, they are its write in progress (and it completes them).
        with self._ingest_lock.hold(shared=True, purpose="check", wait=False) as idle:
            pending = registry.pending() if idle else []
        if pending:
            logger.warning(
                "%d article(s) in %r were interrupted mid-write; ingest them again to complete: %s",
                len(pending),
                collection_name,
                ", ".join(row.article_id for row in pending[:5]),
            )

    def close(self) -> None:
        """Close the Chroma client and the registry's database (and so the keyword index in it),
        after a keyword build underway ends. For a process that opens many stores (tests); one
        that serves a store until it exits need not."""
        if self.keywords is not None and self.keywords.memory is not None:
            self.keywords.memory.wait()
        self._chroma.close()
        self.registry.close()

    def rebuild_index(self) -> None:
        """Rebuild the embedded vector index from the stored chunks (`newsbot repair`), unless
        opening the store just did.

        Raises:
            StoreError: the index is a Chroma server's.
        """
        if not self._chroma.rebuilt:
            self._chroma.rebuild()

    @property
    def client(self) -> ClientAPI:
        """The Chroma client in use (a new one after another process's write was picked up)."""
        return self._chroma.client

    @property
    def _collection(self) -> Collection:
        return self._chroma.current()

    # --- writing ---------------------------------------------------------------------------------

    @contextmanager
    def ingest_lock(self) -> Iterator[None]:
        """Hold while choosing the articles to write and writing them, so that two processes
        ingesting the same input never embed an article twice: the second waits, then finds it
        unchanged. It is the registry database's lock (`Database.lock`): a file beside a SQLite
        registry orders the processes of one machine; a PostgreSQL advisory lock those of every
        machine that shares the database.
        """
        with self._ingest_lock.hold(purpose="ingest"):
            yield

    def unchanged_ids(self, metas: Sequence[ArticleMeta]) -> set[str]:
        """Ids of the articles already stored completely with the same content hash."""
        state = self.registry.state_of(m.article_id for m in metas)
        return {m.article_id for m in metas if state.get(m.article_id) == (m.content_hash, "done")}

    def put_articles(self, items: Sequence[tuple[ArticleMeta, Sequence[ChunkText]]]) -> int:
        """Store new or changed articles with their chunks, replacing any older version.

        Crash-safe: rows go `pending` first and `done` last, chunk ids are deterministic and the
        old version's extra chunks are deleted, so a run killed anywhere is completed by the next.
        Articles already stored with the same hash (by another process, while this one waited for
        `ingest_lock`) are skipped.

        Returns:
            How many chunks were written.
        """
        latest = {meta.article_id: (meta, list(chunks)) for meta, chunks in items}
        if len(latest) < len(items):
            logger.warning("%d duplicate article id(s) in one batch", len(items) - len(latest))
        with self.ingest_lock():
            done = self.unchanged_ids([meta for meta, _ in latest.values()])
            batch = [(m, c) for m, c in latest.values() if m.article_id not in done]
            if not batch:
                return 0
            counts = [(meta, len(chunks)) for meta, chunks in batch]
            self.registry.mark_pending(counts)  # 1.

            ids, texts, metadatas, keyword_rows = [], [], [], []
            for meta, chunks in batch:
                day = epoch_day(meta.published)
                for chunk in chunks:
                    ids.append(chunk_id(meta.article_id, chunk.index))
                    texts.append(chunk.text)
                    metadatas.append(chunk_metadata(meta, chunk))
                    fields = (ids[-1], meta.article_id, meta.title, chunk.text, day, meta.source)
                    keyword_rows.append(KeywordChunk(*fields))
            vectors = self.embeddings.embed_documents(texts) if texts else []  # 2.
            if any(len(v) != self.dimension for v in vectors[:1]) or len(vectors) != len(texts):
                raise StoreError(
                    f"The embedder returned {len(vectors)} vectors of length "
                    f"{len(vectors[0]) if vectors else 0} for {len(texts)} texts; the collection "
                    f"needs {self.dimension}: check the embedding model setting"
                )
            with self._chroma.writing() as collection:
                step = max(1, self.client.get_max_batch_size())
                for start in range(0, len(ids), step):
                    end = start + step
                    collection.upsert(
                        ids=ids[start:end],
                        embeddings=vectors[start:end],  # type: ignore[arg-type]
                        documents=texts[start:end],
                        metadatas=metadatas[start:end],  # type: ignore[arg-type]
                    )
                for meta, count in counts:  # 3.
                    row = self.registry.get(meta.article_id)
                    if row is not None and row.n_chunks > count:
                        tail: Any = {"chunk_index": {"$gte": count}}
                        collection.delete(where={"$and": [{"article_id": meta.article_id}, tail]})
                if self.keywords is not None:  # 3b. the same chunks, by their words
                    self.keywords.replace([meta.article_id for meta, _ in batch], keyword_rows)
                self.registry.mark_done(counts)  # 4.
        logger.debug("Stored %d chunks of %d articles", len(ids), len(batch))
        return len(ids)

    def delete_article(self, article_id: str) -> bool:
        """Remove an article and its chunks; False when nothing was stored under that id."""
        # The ingest lock too: an ingest between its embedding and its write must not re-add
        # chunks whose registry row this delete removed.
        with self.ingest_lock(), self._chroma.writing() as collection:
            row = self.registry.get(article_id)
            if row is not None:  # pending first: a crash mid-delete is redone by the next ingest
                self.registry.mark_pending([(row, row.n_chunks)])
            where: Any = {"article_id": article_id}
            had_chunks = bool(collection.get(where=where, limit=1, include=[])["ids"])
            if had_chunks:
                collection.delete(where=where)
            if self.keywords is not None:
                self.keywords.delete([article_id])
            removed = self.registry.delete(article_id)
        return removed or had_chunks

    def delete_url(self, url: str) -> list[str]:
        """Remove the articles stored under `url` (compared normalised); returns their ids."""
        ids = self.registry.find_by_url(url)
        for article_id in ids:
            self.delete_article(article_id)
        return ids

    # --- reading ---------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        k: int,
        published_before: date | None = None,
        filters: SearchFilter | None = None,
    ) -> list[Passage]:
        """The `k` chunks that best answer `query`, best first (`rank` 1, 2, ...); `score` is
        cosine similarity. With a keyword index, the dense and BM25 rankings are fused and a
        recency prior relative to `published_before` (default: today) added, as `ranking` says.

        With `published_before`, only articles published on or before that day (or undated) count.
        With `filters` (see `SearchFilter`), only articles in its date range and of its sources
        (case-insensitive); a date range leaves undated articles out, and its end is the earlier
        of `until` and `published_before`. A chunk deleted by another process while the search
        ran is left out.
        """
        if k < 1:
            return []
        where = self._where(published_before, filters or SearchFilter())
        if where is _NOTHING:
            return []
        # A search bounded below (`since`) has been told which time is meant: within it,
        # relevance alone decides, so the recency prior is for open-ended searches only.
        as_of = None if filters and filters.since else day_number(published_before or date.today())
        return self._searcher.search(query, k, where, as_of)

    def related(
        self,
        article_ids: Sequence[str],
        k: int = 3,
        as_of: date | None = None,
        filters: SearchFilter | None = None,
    ) -> list[RelatedArticle]:
        """Up to `k` other stored articles about the same story as `article_ids` (their nearest
        neighbours by the stored chunk vectors, close enough to be the same story: see
        `vectorstore.related`), newest first; none published after `as_of`, and only those a
        search with `filters` could return. Embeds nothing.
        """
        where = self._where(as_of, filters or SearchFilter())
        if where is _NOTHING:
            return []
        keeps = where.keeps_day if where is not None else None
        return related_articles(self._chroma, self.registry, article_ids, k, keeps)

    def stored_article(self, article_id: str) -> StoredArticle | None:
        """The article stored under `article_id` with its text put back together from its
        chunks (`vectorstore.article_text`); None when there is none."""
        return stored_article(self._chroma, self.registry, article_id)

    def _where(self, published_before: date | None, filters: SearchFilter) -> Any:
        """The `ChunkFilter` of a search (None: none); `_NOTHING` when no stored source is asked
        for."""
        sources: list[str] = []
        if filters.sources:
            known = self.registry.sources()
            # No registry rows (chunks written by other tools): compare as given.
            sources = stored_spellings(filters.sources, known) if known else list(filters.sources)
            if not sources:
                return _NOTHING
        until = filters.until
        if published_before is not None and (until is None or published_before < until):
            until = published_before
        if until is not None and self._all_published_by(day_number(until)):
            until = None  # keeps every dated chunk: skip the clause (see `_all_published_by`)
        dated_only = filters.since is not None or filters.until is not None
        return chunk_filter(
            since=filters.since, until=until, dated_only=dated_only, sources=sources
        )

    def _all_published_by(self, last_day: int) -> bool:
        """True when no stored article is dated after `last_day` (days since 1970-01-01), so a
        date filter would keep every chunk.

        Skipping the filter matters: Chroma resolves a metadata filter in SQLite before the
        vector search, which made a question "as of today" (the default) take 0.4-0.6 s instead
        of 25-40 ms in a data dir holding several large collections (BENCHMARKS.md, retrieval).
        """
        newest = self.registry.newest_published()
        return newest is not None and epoch_day(newest) <= last_day

    def stats(self) -> dict[str, Any]:
        """Articles and chunks stored, the collection, and the embedder that built it."""
        return {
            "articles": self.registry.count(),
            "chunks": self._collection.count(),
            "pending": len(self.registry.pending()),
            "collection": self.collection_name,
            "embedder": self.embedder_name,
            "dimension": self.dimension,
        }

    def list_articles(
        self, limit: int = 20, offset: int = 0, query: str | None = None
    ) -> list[ArticleRow]:
        """Stored articles, newest first; `query` filters on title or source."""
        return self.registry.list_articles(limit=limit, offset=offset, query=query)

    def langchain_vectorstore(self) -> Chroma:
        """LangChain's `Chroma` over the same collection and embedder (for its own retrievers).

        Its documents carry the chunk metadata of docs/ARCHITECTURE.md; its relevance scores are
        `1 - cosine distance`, as in `search`. It reads the index as it is now: make a new one
        to see later writes of other processes.
        """
        from langchain_chroma import Chroma

        self._chroma.current()  # take other processes' writes first
        return Chroma(
            collection_name=self.collection_name,
            embedding_function=self.embeddings,
            client=self.client,
            collection_metadata={"embedder": self.embedder_name, "dimension": self.dimension},
            collection_configuration=self._chroma.configuration(),
            # Given, not looked up: reading the collection's configuration makes chromadb warn
            # about the "legacy" (none) embedding function that newsbot's collections have.
            relevance_score_fn=cosine_relevance,
        )
