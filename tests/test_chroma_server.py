"""NewsStore against a real `chroma run` server (HttpClient), started on a free local port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from newsbot.errors import StoreError
from vectorstore.client import make_chroma_client
from vectorstore.embeddings import LocalMiniLMEmbeddings
from vectorstore.records import ArticleMeta, ChunkText
from vectorstore.registry import ArticleRegistry
from vectorstore.store import NewsStore

pytestmark = pytest.mark.server

CHROMA = Path(sys.executable).parent / "chroma"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    """A `chroma run` process on a free port; yields the port once it answers its heartbeat."""
    port = free_port()
    log = (tmp_path / "chroma.log").open("wb")
    process = subprocess.Popen(
        [
            str(CHROMA),
            "run",
            "--path",
            str(tmp_path / "server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).is_success:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "chroma run did not start: " + (tmp_path / "chroma.log").read_text()
                )
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


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
