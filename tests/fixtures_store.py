"""Fixtures of a real store in a temp dir: the bundled embedder, and a store whose registry and
keyword index live in SQLite or PostgreSQL (one run of the test each)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from langchain_core.embeddings import Embeddings

from tests.fixtures_llm import worker_threads
from vectorstore.client import make_chroma_client
from vectorstore.database import open_database
from vectorstore.embeddings import LocalMiniLMEmbeddings
from vectorstore.keywords import keyword_index
from vectorstore.ranking import RankingPolicy
from vectorstore.registry import ArticleRegistry
from vectorstore.sharing import close_client
from vectorstore.store import NewsStore

HYBRID = RankingPolicy(keyword_weight=1.0, recency_weight=0.0)
DENSE = RankingPolicy(keyword_weight=0.0, recency_weight=0.0)


@pytest.fixture(scope="module")
def embedder() -> LocalMiniLMEmbeddings:
    model = LocalMiniLMEmbeddings(batch_size=8, threads=worker_threads())
    model.load()
    return model


Opener = Callable[..., NewsStore]


def open_news_store(
    data_dir: Path,
    embeddings: Embeddings,
    collection: str = "news",
    *,
    url: str | None = None,
    keywords: bool = False,
    **options: Any,
) -> NewsStore:
    """The store of `collection` in `data_dir`, its registry (and keyword index, if `keywords`)
    in PostgreSQL at `url` if given; when the store refuses to open, its client and registry are
    closed before the error goes on. `options` go to `NewsStore`."""
    registry = ArticleRegistry(open_database(data_dir, url=url), collection)
    client = make_chroma_client(data_dir)
    try:
        index = keyword_index(registry.database, collection) if keywords else None
        return NewsStore(client, collection, embeddings, registry, keywords=index, **options)
    except BaseException:
        close_client(client)
        registry.close()
        raise


@contextmanager
def closing_built_stores() -> Iterator[None]:
    """Closes, when the block ends, every store built in it (in any thread)."""
    built: list[NewsStore] = []
    init = NewsStore.__init__

    def recording(store: NewsStore, *args: Any, **kwargs: Any) -> None:
        init(store, *args, **kwargs)
        built.append(store)

    NewsStore.__init__ = recording  # type: ignore[method-assign]
    try:
        yield
    finally:
        NewsStore.__init__ = init  # type: ignore[method-assign]
        for store in built:
            store.close()


@pytest.fixture(autouse=True)
def stores_closed() -> Iterator[None]:
    """Closes at teardown every store the test built, those of commands run in-process included:
    a command builds its store and leaves it to its process's end, and each would otherwise keep
    its Chroma files, registry and locks open for the rest of the test run."""
    with closing_built_stores():
        yield


@pytest.fixture(scope="module", autouse=True)
def module_stores_closed() -> Iterator[None]:
    """Closes at the module's end the stores its module-wide fixtures built (a served app's)."""
    with closing_built_stores():
        yield


@pytest.fixture(params=["sqlite", "postgresql"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens (again) the store in tmp_path, its registry and keyword index in the param's engine."""
    url = request.getfixturevalue("database_url") if request.param == "postgresql" else None
    opened: list[NewsStore] = []

    def _open(
        embeddings: Embeddings, ranking: RankingPolicy = HYBRID, keywords: bool = True
    ) -> NewsStore:
        store = open_news_store(tmp_path, embeddings, url=url, keywords=keywords, ranking=ranking)
        opened.append(store)
        return store

    yield _open
    for store in opened:
        store.close()
