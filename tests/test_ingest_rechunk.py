"""Changing the chunking settings re-chunks stored articles on the next ingest (and only then)."""

from __future__ import annotations

from pathlib import Path

from ingest.pipeline import ingest
from tests.conftest import SEED_DIR
from vectorstore.client import make_chroma_client
from vectorstore.embeddings import LocalMiniLMEmbeddings
from vectorstore.registry import ArticleRegistry
from vectorstore.store import NewsStore


def test_new_chunk_size_rechunks_unchanged_articles(tmp_path: Path) -> None:
    store = NewsStore(
        make_chroma_client(tmp_path / "data"),
        "news",
        LocalMiniLMEmbeddings(),
        ArticleRegistry.for_collection(tmp_path / "data", "news"),
    )
    cache = tmp_path / "tiktoken"

    first = ingest([str(SEED_DIR)], store, tiktoken_cache_dir=cache, chunk_tokens=300, overlap=45)
    same = ingest([str(SEED_DIR)], store, tiktoken_cache_dir=cache, chunk_tokens=300, overlap=45)
    smaller = ingest([str(SEED_DIR)], store, tiktoken_cache_dir=cache, chunk_tokens=100, overlap=15)

    assert (first.new, same.unchanged, same.chunks) == (1, 1, 0)
    assert smaller.updated == 1
    assert smaller.chunks > first.chunks
    # The old, larger chunks are gone: the store holds exactly the new chunking.
    assert store.stats()["chunks"] == smaller.chunks
