"""Fixtures of a real store in a temp dir: the bundled embedder, and a store whose registry and
keyword index live in SQLite or PostgreSQL (one run of the test each)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from vectorstore.client import make_chroma_client
from vectorstore.database import open_database
from vectorstore.embeddings import LocalMiniLMEmbeddings
from vectorstore.keywords import keyword_index
from vectorstore.ranking import RankingPolicy
from vectorstore.registry import ArticleRegistry
from vectorstore.store import NewsStore

HYBRID = RankingPolicy(keyword_weight=1.0, recency_weight=0.0)
DENSE = RankingPolicy(keyword_weight=0.0, recency_weight=0.0)


@pytest.fixture(scope="module")
def embedder() -> LocalMiniLMEmbeddings:
    model = LocalMiniLMEmbeddings(batch_size=8, threads=2)
    model.load()
    return model


Opener = Callable[..., NewsStore]


@pytest.fixture(params=["sqlite", "postgresql"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens (again) the store in tmp_path, its registry and keyword index in the param's engine."""
    url = request.getfixturevalue("database_url") if request.param == "postgresql" else None
    opened: list[NewsStore] = []

    def _open(
        embeddings: Embeddings, ranking: RankingPolicy = HYBRID, keywords: bool = True
    ) -> NewsStore:
        registry = ArticleRegistry(open_database(tmp_path, url=url), "news")
        index = keyword_index(registry.database, "news") if keywords else None
        store = NewsStore(
            make_chroma_client(tmp_path),
            "news",
            embeddings,
            registry,
            keywords=index,
            ranking=ranking,
        )
        opened.append(store)
        return store

    yield _open
    for store in opened:
        store.registry.close()
