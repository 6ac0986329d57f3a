"""More on this story: `NewsStore.related` over a real Chroma store and the bundled embedder, on
articles written for it (tests/related_stories.py)."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest

from tests.related_stories import ALL, BRIDGE, RECALL, STRIKE
from vectorstore.client import make_chroma_client
from vectorstore.database import open_database
from vectorstore.embeddings import LocalMiniLMEmbeddings
from vectorstore.records import ArticleMeta, ChunkText
from vectorstore.registry import ArticleRegistry
from vectorstore.store import NewsStore


@pytest.fixture(scope="module")
def embedder() -> LocalMiniLMEmbeddings:
    model = LocalMiniLMEmbeddings(batch_size=8, threads=2)
    model.load()
    return model


def put_stories(store: NewsStore, stories: list[tuple[str, str, str, str | None, str]]) -> None:
    items = []
    for article_id, title, source, published, text in stories:
        chunks, start = [], 0
        for index, paragraph in enumerate(text.split("\n\n")):
            start = text.index(paragraph, start)
            chunks.append(ChunkText(index, paragraph, start, start + len(paragraph), 60))
        digest = hashlib.sha256(text.encode()).hexdigest()
        url = f"https://news.example/{article_id}" if article_id != "bridge-2" else ""
        items.append((ArticleMeta(article_id, title, url, source, published, digest), chunks))
    store.put_articles(items)


def open_store(path: Path, embedder: LocalMiniLMEmbeddings) -> NewsStore:
    registry = ArticleRegistry(open_database(path), "news")
    return NewsStore(make_chroma_client(path), "news", embedder, registry)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, embedder: LocalMiniLMEmbeddings) -> NewsStore:
    opened = open_store(tmp_path_factory.mktemp("related"), embedder)
    put_stories(opened, ALL)
    return opened


def ids(found: list) -> list[str]:  # type: ignore[type-arg]
    return [article.article_id for article in found]


def test_a_story_s_other_articles_newest_first_without_the_cited(store: NewsStore) -> None:
    found = store.related(["bridge-1"], k=3)
    assert ids(found) == ["bridge-4", "bridge-3", "bridge-2"]
    assert found[0].title == BRIDGE[3][1]
    assert found[0].source == "Oss Valley News"
    assert found[0].published == "2026-05-09"
    assert found[0].url == "https://news.example/bridge-4"
    assert found[2].url == ""  # bridge-2 has none
    assert all(0.5 <= article.similarity <= 1.0 for article in found)


def test_other_stories_of_the_same_kind_are_not_shown(store: NewsStore) -> None:
    assert ids(store.related(["recall-2"], k=3)) == ["recall-3", "recall-1"]
    assert ids(store.related(["strike-1"], k=3)) == ["strike-2"]
    assert store.related(["tunnel"], k=3) == []  # beside the bridge story, not part of it
    assert store.related(["football"], k=3) == []


def test_several_cited_articles_and_k(store: NewsStore) -> None:
    assert ids(store.related(["bridge-1", "bridge-2"], k=3)) == ["bridge-4", "bridge-3"]
    assert len(store.related(["bridge-3"], k=1)) == 1
    assert store.related(["bridge-1"], k=0) == []
    assert store.related([], k=3) == []
    assert store.related(["no-such-article"], k=3) == []


def test_nothing_published_after_the_answer_date(store: NewsStore) -> None:
    found = store.related(["bridge-1"], k=3, as_of=date(2026, 3, 31))
    assert ids(found) == ["bridge-3", "bridge-2"]


def test_an_article_stored_twice_is_shown_once(
    tmp_path: Path, embedder: LocalMiniLMEmbeddings
) -> None:
    store = open_store(tmp_path, embedder)
    copy = ("recall-1-copy", *RECALL[0][1:])
    put_stories(store, [*RECALL, copy, *STRIKE])
    found = store.related(["recall-2"], k=3)
    assert sorted(ids(found)) in (["recall-1", "recall-3"], ["recall-1-copy", "recall-3"])
    assert "recall-1-copy" not in ids(store.related(["recall-1"], k=3))  # its own copy
