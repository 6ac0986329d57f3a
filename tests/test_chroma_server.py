"""NewsStore against a real `chroma run` server (HttpClient), started on a free local port."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsbot.errors import StoreError
from scripts.services import start_chroma
from tests.fd_guard import open_fds
from vectorstore.client import make_chroma_client
from vectorstore.embeddings import LocalMiniLMEmbeddings
from vectorstore.records import ArticleMeta, ChunkText
from vectorstore.registry import ArticleRegistry
from vectorstore.store import NewsStore

pytestmark = pytest.mark.server


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    """A `chroma run` process on a free port; yields the port once it answers its heartbeat."""
    server = start_chroma(tmp_path / "server")
    try:
        yield int(server.url.rsplit(":", 1)[1])
    finally:
        server.stop()


def test_store_on_a_chroma_server(chroma_server: int, tmp_path: Path) -> None:
    data = tmp_path / "data"
    client = make_chroma_client(data, host="127.0.0.1", port=chroma_server)
    registry = ArticleRegistry.for_collection(data, "news", "127.0.0.1", chroma_server)
    store = NewsStore(client, "news", LocalMiniLMEmbeddings(threads=2), registry)
    texts = [
        "Pakistan and the United States agreed to act against fake visa networks.",
        "The central bank raised interest rates again.",
    ]
    chunks, start = [], 0
    for i, text in enumerate(texts):
        chunks.append(ChunkText(i, text, start, start + len(text), 12))
        start += len(text) + 1
    meta = ArticleMeta("a1", "Visas and rates", "https://example.com/a1", "Example", None, "h1")
    assert store.put_articles([(meta, chunks)]) == 2

    hits = store.search("Which networks sell false visas?", k=2)
    assert [h.chunk_id for h in hits] == ["a1:0", "a1:1"]
    assert hits[0].score > hits[1].score
    assert store.stats()["articles"] == 1
    assert store.stats()["chunks"] == 2
    assert registry.database.where.endswith(f"registry-127.0.0.1-{chroma_server}.sqlite3")

    # A second client sees the same collection; the refusal of another embedder works remotely.
    again = NewsStore(
        make_chroma_client(data, host="127.0.0.1", port=chroma_server),
        "news",
        LocalMiniLMEmbeddings(threads=2),
        ArticleRegistry.for_collection(data, "news", "127.0.0.1", chroma_server),
    )
    assert again.unchanged_ids([meta]) == {"a1"}
    with pytest.raises(StoreError, match="built with local/all-MiniLM-L6-v2-int8"):
        NewsStore(client, "news", again.embeddings, registry, embedder_name="other", dimension=8)
    assert again.delete_article("a1")
    assert again.stats()["chunks"] == 0


def test_a_store_sees_another_processs_writes_through_the_server(
    chroma_server: int, tmp_path: Path
) -> None:
    from tests.test_store_sharing import check_sees_another_process_writes

    data = tmp_path / "data"
    store = NewsStore(
        make_chroma_client(data, host="127.0.0.1", port=chroma_server),
        "news",
        LocalMiniLMEmbeddings(threads=2),
        ArticleRegistry.for_collection(data, "news", "127.0.0.1", chroma_server),
    )
    check_sees_another_process_writes(store, data, host="127.0.0.1", port=chroma_server)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts /proc/self/fd")
def test_closing_a_store_on_a_server_closes_its_connections(
    chroma_server: int, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    embedder = LocalMiniLMEmbeddings(threads=2)
    gc.collect()
    before = open_fds()
    store = NewsStore(
        make_chroma_client(data, host="127.0.0.1", port=chroma_server),
        "news",
        embedder,
        ArticleRegistry.for_collection(data, "news", "127.0.0.1", chroma_server),
    )
    assert store.stats()["chunks"] == 0
    store.close()
    gc.collect()
    assert {fd: to for fd, to in open_fds().items() if before.get(fd) != to} == {}
