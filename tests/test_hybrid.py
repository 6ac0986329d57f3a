"""Hybrid retrieval: the BM25 keyword index beside Chroma, rank fusion and the recency prior.

Real Chroma on a temp dir and the real embedder; the fusion's arithmetic is checked on its own.
The index tests run with the registry and keyword index in SQLite and in a real PostgreSQL.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from langchain_core.embeddings import Embeddings

from tests.fixtures_store import DENSE, Opener
from vectorstore.filters import chunk_filter
from vectorstore.keywords import query_terms
from vectorstore.ranking import RankingPolicy, fuse, recency_prior
from vectorstore.records import ArticleMeta, ChunkText, SearchFilter


def article(article_id: str, published: str | None, *texts: str, version: str = "1") -> Any:
    meta = ArticleMeta(article_id, article_id.title(), "", "Wire", published, version)
    return meta, [ChunkText(i, t, 0, len(t), len(t.split())) for i, t in enumerate(texts)]


# Many chunks about harbours, one naming a rare word: dense search ranks chunks by topic, BM25
# finds the rare word.
FILLER = [
    f"The harbour authority reported that ships waited {n} hours at the port this season."
    for n in range(12)
]
RARE = "Inspectors at the harbour found the Zephyrine cargo manifest had been forged."


def test_query_terms_leave_out_function_words() -> None:
    assert query_terms("What did Pakistan and the US agree on?") == ["pakistan", "us", "agree"]
    assert query_terms("Who won in 2022? Who won?") == ["won", "2022"]


def test_a_rare_word_is_found_by_its_keyword(open_store: Opener, embedder: Embeddings) -> None:
    store = open_store(embedder)
    store.put_articles(
        [article("filler", "2024-05-01", *FILLER), article("rare", "2024-05-01", RARE)]
    )
    question = "Which cargo was Zephyrine?"
    hybrid = store.search(question, 3)
    assert hybrid[0].article_id == "rare"
    assert [p.rank for p in hybrid] == [1, 2, 3]
    # Keyword hits carry a cosine score like the dense ones.
    assert all(-1.0 <= p.score <= 1.0 for p in hybrid)
    keyword_only = store.keywords.search(question, 5) if store.keywords else []
    assert keyword_only[0][0] == "rare:0"


def test_keyword_index_follows_rewrite_and_delete(open_store: Opener, embedder: Embeddings) -> None:
    store = open_store(embedder)
    assert store.keywords is not None
    store.put_articles([article("a", "2024-05-01", RARE, "A second chunk about ports.")])
    assert store.keywords.count() == 2
    # An edit with fewer chunks replaces the old rows; the rare word is gone with the old text.
    store.put_articles([article("a", "2024-05-01", "Only one chunk now.", version="2")])
    assert store.keywords.count() == 1
    assert store.keywords.search("Zephyrine", 5) == []
    store.delete_article("a")
    assert store.keywords.count() == 0
    assert store.search("Only one chunk", 3) == []


def test_an_interrupted_ingest_is_completed_in_both_indexes(
    open_store: Opener, embedder: Embeddings
) -> None:
    class Dying(Embeddings):
        name, dimension = "local/all-MiniLM-L6-v2-int8", 384

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            raise KeyboardInterrupt("killed mid-write")

        def embed_query(self, text: str) -> list[float]:
            return embedder.embed_query(text)

    open_store(embedder).put_articles([article("old", "2024-05-01", *FILLER[:3])])
    with pytest.raises(KeyboardInterrupt):
        open_store(Dying()).put_articles([article("old", "2024-05-01", RARE, version="2")])
    store = open_store(embedder)
    assert [row.article_id for row in store.registry.pending()] == ["old"]
    store.put_articles([article("old", "2024-05-01", RARE, version="2")])
    assert store.keywords is not None
    assert store.keywords.count() == store.stats()["chunks"] == 1
    assert store.search("Zephyrine cargo", 1)[0].text == RARE


def test_a_collection_stored_without_keywords_is_indexed_on_open(
    open_store: Opener, embedder: Embeddings
) -> None:
    open_store(embedder, DENSE, keywords=False).put_articles(
        [article("filler", "2024-05-01", *FILLER), article("rare", "2024-05-01", RARE)]
    )
    store = open_store(embedder)
    assert store.keywords is not None
    assert store.keywords.built()
    assert store.keywords.count() == len(FILLER) + 1
    assert store.search("Zephyrine", 1)[0].article_id == "rare"


def test_filters_apply_to_the_keyword_side(open_store: Opener, embedder: Embeddings) -> None:
    store = open_store(embedder)
    store.put_articles(
        [article("rare", "2024-05-01", RARE), article("filler", "2024-06-01", *FILLER)]
    )
    found = store.search("Zephyrine", 3, filters=SearchFilter(since=date(2024, 5, 15)))
    assert found
    assert all(p.article_id == "filler" for p in found)
    assert store.search("Zephyrine", 3, published_before=date(2024, 4, 1)) == []


def test_a_filtered_keyword_search_ranks_as_filtering_in_sql(
    open_store: Opener, embedder: Embeddings
) -> None:
    # The index ranks unfiltered and keeps the passing hits among the best 3n, or, when fewer
    # pass (a narrow filter), filters in SQL: both must give the unfiltered order, filtered.
    store = open_store(embedder)
    store.put_articles(
        [article("rare", "2024-05-01", RARE), article("filler", "2024-06-01", *FILLER)]
    )
    assert store.keywords is not None
    ranked = [cid for cid, _ in store.keywords.search("harbour ships", 20)]
    assert len(ranked) == len(FILLER) + 1
    june = chunk_filter(since=date(2024, 6, 1), until=None, dated_only=True, sources=[])
    may = chunk_filter(since=None, until=date(2024, 5, 31), dated_only=True, sources=[])
    for where, article_id in ((june, "filler"), (may, "rare")):
        assert where is not None
        expected = [cid for cid in ranked if cid.startswith(f"{article_id}:")][:3]
        assert [cid for cid, _ in store.keywords.search("harbour ships", 3, where)] == expected
    assert len(expected) == 1  # the narrow filter: one passing chunk, found by the SQL filter


# --- recency --------------------------------------------------------------------------------


STORY = "The city council approved the new tram line after a long debate on Tuesday."


def test_recency_prefers_the_newer_of_two_equal_stories(
    open_store: Opener, embedder: Embeddings
) -> None:
    store = open_store(embedder, RankingPolicy())
    store.put_articles(
        [article("older", "2023-01-10", STORY), article("newer", "2024-05-20", STORY)]
    )
    found = store.search("Did the council approve the tram line?", 2, date(2024, 5, 21))
    assert [p.article_id for p in found] == ["newer", "older"]
    # As of a day before the newer one, only the older exists.
    found = store.search("Did the council approve the tram line?", 2, date(2023, 6, 1))
    assert [p.article_id for p in found] == ["older"]


def test_recency_does_not_hide_an_older_story_that_answers(
    open_store: Opener, embedder: Embeddings
) -> None:
    store = open_store(embedder, RankingPolicy())
    recent = [f"Weather today: sunny spells and {n} degrees in the afternoon." for n in range(10)]
    store.put_articles(
        [
            article("visa", "2021-03-02", "Pakistan and the US agreed to fight visa fraud."),
            article("weather", "2024-05-20", *recent),
        ]
    )
    found = store.search("What did Pakistan and the US agree on?", 3, date(2024, 5, 21))
    assert found[0].article_id == "visa"


def test_fusion_adds_reciprocal_ranks_and_a_soft_prior() -> None:
    both, dense_only, keyword_only = "both", "dense", "keyword"
    order = fuse(
        [dense_only, both], [keyword_only, both], {}, RankingPolicy(1.0, recency_weight=0.0)
    )
    assert order[0] == both  # liked by both rankings
    assert fuse(
        [dense_only, both], [keyword_only, both], {}, RankingPolicy(0.0, recency_weight=0.0)
    ) == [
        dense_only,
        both,
    ]
    prior = recency_prior({"new": 0, "old": 300, "undated": None, "mid": 20}, 14.0)
    assert prior["new"] == 1.0
    assert prior["new"] > prior["undated"] > prior["old"]
    # Among chunks as similar to the question, today's rises to the top; a chunk of today far
    # less similar than the best does not outrank it.
    ranked = [f"c{i}" for i in range(30)]
    ages: dict[str, int | None] = {cid: 365 for cid in ranked}
    ages["c29"] = 0
    policy = RankingPolicy(1.0, recency_weight=1.0, recency_days=14.0)
    alike = dict.fromkeys(ranked, 0.6)
    assert fuse(ranked, ranked, ages, policy, alike)[0] == "c29"
    unlike = {**alike, "c29": 0.1}
    assert fuse(ranked, ranked, ages, policy, unlike)[0] == "c0"
