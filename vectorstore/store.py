"""`NewsStore`: article chunks in a Chroma collection, with an article registry beside it.

The store embeds chunks itself (Chroma's own embedding function is never used: it downloads a
model at run time), writes them in the crash-safe order of docs/ARCHITECTURE.md, and answers
similarity searches as `Passage` records. The collection's metadata records the embedder and
dimension that built it; opening it with another embedder is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Final, cast

from chromadb.api import ClientAPI
from chromadb.api.collection_configuration import CreateCollectionConfiguration
from chromadb.api.models.Collection import Collection
from langchain_core.embeddings import Embeddings

from newsbot.errors import StoreError
from vectorstore.embeddings import embedder_info
from vectorstore.records import ArticleMeta, ArticleRow, ChunkText, Passage
from vectorstore.registry import ArticleRegistry

if TYPE_CHECKING:
    from langchain_chroma import Chroma

logger = logging.getLogger(__name__)

SPACE: Final = "cosine"
_EPOCH = date(1970, 1, 1)
UNKNOWN_DAY = -1
_CONFIGURATION: CreateCollectionConfiguration = {"hnsw": {"space": SPACE}}


def cosine_relevance(distance: float) -> float:
    """Cosine similarity from Chroma's cosine distance."""
    return 1.0 - distance


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


class NewsStore:
    """News article chunks in one Chroma collection, plus their registry rows.

    Args:
        client: A Chroma client (see `vectorstore.client.make_chroma_client`).
        collection_name: The collection to open or create.
        embeddings: Embeds chunks and queries.
        registry: The article registry of this collection.
        embedder_name: Recorded in the collection; default: `embeddings.name`, else the class name.
        dimension: Vector length; default: `embeddings.dimension`, else measured on a probe text.

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
    ) -> None:
        if embedder_name is None or dimension is None:
            info = embedder_info(embeddings)
            embedder_name = embedder_name or info.name
            dimension = dimension or info.dimension
        self.client = client
        self.collection_name = collection_name
        self.embeddings = embeddings
        self.registry = registry
        self.embedder_name = embedder_name
        self.dimension = dimension
        self._collection = self._open_collection()
        if self._collection.count() == 0 and registry.count() + len(registry.pending()) > 0:
            # The collection was deleted or recreated behind our back: the rows describe nothing.
            logger.warning(
                "Collection %r is empty; forgetting %d stale registry rows",
                collection_name,
                registry.clear(),
            )
        pending = registry.pending()
        if pending:
            logger.warning(
                "%d article(s) in %r were interrupted mid-write; ingest them again to complete: %s",
                len(pending),
                collection_name,
                ", ".join(row.article_id for row in pending[:5]),
            )

    def _open_collection(self) -> Collection:
        wanted = {"embedder": self.embedder_name, "dimension": self.dimension}
        try:
            collection = self.client.get_or_create_collection(
                self.collection_name,
                configuration=_CONFIGURATION,
                metadata=wanted,
                embedding_function=None,
            )
        except Exception as exc:  # chromadb validates names and talks to servers: untyped errors
            raise StoreError(
                f"Cannot open collection {self.collection_name!r} ({exc}): use a name of 3-512 "
                "letters, digits, '.', '_' or '-' that starts and ends with a letter or digit"
            ) from exc
        have = collection.metadata or {}
        space = (collection.configuration_json.get("hnsw") or {}).get("space")
        if "embedder" not in have or space != SPACE:
            raise StoreError(
                f"Collection {self.collection_name!r} was not created by newsbot (no embedder "
                f"recorded, or space {space!r} instead of {SPACE!r}): use another --collection"
            )
        if have.get("embedder") != self.embedder_name or have.get("dimension") != self.dimension:
            raise StoreError(
                f"Collection {self.collection_name!r} was built with {have.get('embedder')} "
                f"(dim {have.get('dimension')}); you configured {self.embedder_name} "
                f"(dim {self.dimension}): use another --collection or re-ingest into a new one"
            )
        return collection

    # --- writing ---------------------------------------------------------------------------------

    def unchanged_ids(self, metas: Sequence[ArticleMeta]) -> set[str]:
        """Ids of the articles already stored completely with the same content hash."""
        state = self.registry.state_of(m.article_id for m in metas)
        return {m.article_id for m in metas if state.get(m.article_id) == (m.content_hash, "done")}

    def pending_articles(self) -> list[ArticleRow]:
        """Articles whose last write was interrupted; ingesting them again completes them."""
        return self.registry.pending()

    def put_articles(self, items: Sequence[tuple[ArticleMeta, Sequence[ChunkText]]]) -> int:
        """Store new or changed articles with their chunks, replacing any older version.

        Crash-safe: rows go `pending` first and `done` last, chunk ids are deterministic and the
        old version's extra chunks are deleted, so a run killed anywhere is completed by the next.

        Returns:
            How many chunks were written.
        """
        latest = {meta.article_id: (meta, list(chunks)) for meta, chunks in items}
        if len(latest) < len(items):
            logger.warning("%d duplicate article id(s) in one batch", len(items) - len(latest))
        if not latest:
            return 0
        batch = list(latest.values())
        counts = [(meta, len(chunks)) for meta, chunks in batch]
        self.registry.mark_pending(counts)  # 1.

        ids, texts, metadatas = [], [], []
        for meta, chunks in batch:
            for chunk in chunks:
                ids.append(chunk_id(meta.article_id, chunk.index))
                texts.append(chunk.text)
                metadatas.append(_chunk_metadata(meta, chunk))
        vectors = self.embeddings.embed_documents(texts) if texts else []  # 2.
        if any(len(v) != self.dimension for v in vectors[:1]) or len(vectors) != len(texts):
            raise StoreError(
                f"The embedder returned {len(vectors)} vectors of length "
                f"{len(vectors[0]) if vectors else 0} for {len(texts)} texts; the collection "
                f"needs {self.dimension}: check the embedding model setting"
            )
        step = max(1, self.client.get_max_batch_size())
        for start in range(0, len(ids), step):
            end = start + step
            self._collection.upsert(
                ids=ids[start:end],
                embeddings=vectors[start:end],  # type: ignore[arg-type]
                documents=texts[start:end],
                metadatas=metadatas[start:end],  # type: ignore[arg-type]
            )
        for meta, count in counts:  # 3.
            row = self.registry.get(meta.article_id)
            if row is not None and row.n_chunks > count:
                tail: Any = {"chunk_index": {"$gte": count}}
                self._collection.delete(where={"$and": [{"article_id": meta.article_id}, tail]})
        self.registry.mark_done(counts)  # 4.
        logger.debug("Stored %d chunks of %d articles", len(ids), len(batch))
        return len(ids)

    def delete_article(self, article_id: str) -> bool:
        """Remove an article and its chunks; False when nothing was stored under that id."""
        row = self.registry.get(article_id)
        if row is not None:  # pending first: a crash mid-delete is redone by the next ingest
            meta = ArticleMeta(
                row.article_id, row.title, row.url, row.source, row.published, row.content_hash
            )
            self.registry.mark_pending([(meta, row.n_chunks)])
        where: Any = {"article_id": article_id}
        had_chunks = bool(self._collection.get(where=where, limit=1, include=[])["ids"])
        if had_chunks:
            self._collection.delete(where=where)
        removed = self.registry.delete(article_id)
        return removed or had_chunks

    def delete_url(self, url: str) -> list[str]:
        """Remove the articles stored under `url` (compared normalised); returns their ids."""
        ids = self.registry.find_by_url(url)
        for article_id in ids:
            self.delete_article(article_id)
        return ids

    # --- reading ---------------------------------------------------------------------------------

    def search(self, query: str, k: int, published_before: date | None = None) -> list[Passage]:
        """The `k` chunks closest to `query`, best first; `score` is cosine similarity.

        With `published_before`, only articles published on or before that day (or undated) count.
        """
        if k < 1:
            return []
        vector = self.embeddings.embed_query(query)
        where: Any = None
        if published_before is not None:
            last_day = (published_before - _EPOCH).days
            if not self._all_published_by(last_day):
                where = {"published_ts": {"$lte": last_day}}
        result = self._collection.query(
            query_embeddings=cast(Any, [vector]),
            n_results=k,
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        ids = result["ids"][0]
        documents = (result["documents"] or [[]])[0]
        metadatas = (result["metadatas"] or [[]])[0]
        distances = (result["distances"] or [[]])[0]
        return [
            _passage(cid, doc, meta, dist)
            for cid, doc, meta, dist in zip(ids, documents, metadatas, distances, strict=True)
        ]

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
        `1 - cosine distance`, as in `search`.
        """
        from langchain_chroma import Chroma

        return Chroma(
            collection_name=self.collection_name,
            embedding_function=self.embeddings,
            client=self.client,
            collection_metadata={"embedder": self.embedder_name, "dimension": self.dimension},
            collection_configuration=_CONFIGURATION,
            # Given, not looked up: reading the collection's configuration makes chromadb warn
            # about the "legacy" (none) embedding function that newsbot's collections have.
            relevance_score_fn=cosine_relevance,
        )


def _chunk_metadata(meta: ArticleMeta, chunk: ChunkText) -> dict[str, str | int]:
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


def _passage(cid: str, text: str | None, meta: Mapping[str, Any], distance: float) -> Passage:
    published = cast(str, meta.get("published") or "")
    return Passage(
        chunk_id=cid,
        article_id=str(meta.get("article_id", "")),
        title=str(meta.get("title", "")),
        url=str(meta.get("url", "")),
        source=str(meta.get("source", "")),
        published=published or None,
        text=text or "",
        char_start=int(meta.get("char_start", 0)),
        char_end=int(meta.get("char_end", 0)),
        score=cosine_relevance(float(distance)),
        chunk_index=int(meta.get("chunk_index", 0)),
    )
