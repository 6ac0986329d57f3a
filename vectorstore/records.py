"""The records the store consumes and returns: plain frozen dataclasses, no behaviour.

`ArticleMeta` and `ChunkText` go in (built by the ingest pipeline from an `ingest.article.Article`),
`ArticleRow` comes out of the article registry, `KeywordChunk` is a row of the keyword index,
`Passage` is one retrieved chunk, `RelatedArticle` an article about the same story as others, and
`SearchFilter` narrows a search to a date range and some sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class ArticleMeta:
    """What the store keeps about an article besides its chunks.

    `published` is an ISO 8601 date (or datetime) string, or None when the source has no date.
    `content_hash` is the sha256 the ingest pipeline computed over the article's fields.
    """

    article_id: str
    title: str
    url: str
    source: str
    published: str | None
    content_hash: str


@dataclass(frozen=True)
class ChunkText:
    """One chunk of an article; `char_start:char_end` slices `Article.text` to exactly `text`."""

    index: int
    text: str
    char_start: int
    char_end: int
    tokens: int


@dataclass(frozen=True)
class ArticleRow(ArticleMeta):
    """A row of the article registry: the article's metadata plus what was stored for it.

    `ingested_at` is an ISO 8601 UTC timestamp of the last completed write.
    """

    n_chunks: int
    ingested_at: str


@dataclass(frozen=True)
class KeywordChunk:
    """One chunk as the keyword index stores it; `day` is days since 1970-01-01 (-1: undated)."""

    chunk_id: str
    article_id: str
    title: str
    text: str
    day: int
    source: str


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its article's metadata; `score` is cosine similarity (higher: closer).

    `published` is the ISO date string, or None when the article has no known date. `rank` is
    its place in the search's ranking (1: best; 0: not from a search), which a hybrid search
    orders by more than `score`.
    """

    chunk_id: str
    article_id: str
    title: str
    url: str
    source: str
    published: str | None
    text: str
    char_start: int
    char_end: int
    score: float
    chunk_index: int
    rank: int = 0


@dataclass(frozen=True)
class RelatedArticle:
    """A stored article about the same story as some others (`NewsStore.related`).

    `similarity` is the cosine similarity of its nearest chunk to the nearest of the others'
    (the mean of each one's chunk vectors); `published` is an ISO date string or None.
    """

    article_id: str
    title: str
    url: str
    source: str
    published: str | None
    similarity: float


@dataclass(frozen=True)
class SearchFilter:
    """Which articles a search may return (`vectorstore.filters.make_filter` builds a checked one).

    `since` and `until` are inclusive publication days; with either, undated articles are left
    out. `sources` keeps the articles whose source is one of them, compared case-insensitively;
    empty means every source. An empty filter (all defaults) is false.
    """

    since: date | None = None
    until: date | None = None
    sources: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.since is not None or self.until is not None or bool(self.sources)


@dataclass(frozen=True)
class StoredArticle:
    """A stored article: its registry row and its text put back together from its chunks
    (`NewsStore.stored_article`)."""

    row: ArticleRow
    text: str
