"""Filtered search latency: `NewsStore.search` with date and source filters on a 10,000-chunk store.

Builds a fresh data dir (a temp folder) with `--chunks` chunks (10 an article) written through
`NewsStore.put_articles`, so the registry and chunk metadata are as an ingest makes them; the chunk
vectors are random unit vectors (embedding 10,000 texts would take minutes and does not change a
search's cost). Queries are embedded by the real local embedder, as in a question. Articles are
dated across 2025 (5% undated) and spread over 8 sources (one of them 30% of the articles, one 1%).
Each search is timed as newsbot runs it (`vectorstore.search`: the registry decides which chunks
pass) and with Chroma's own `where` as the filter instead, the baseline it replaced.

    python -m benchmarks.filters [--chunks 10000] [--queries 40]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from vectorstore.client import make_chroma_client
from vectorstore.embeddings import LocalMiniLMEmbeddings, embedder_info
from vectorstore.filters import ChunkFilter
from vectorstore.records import ArticleMeta, ChunkText, SearchFilter
from vectorstore.registry import ArticleRegistry
from vectorstore.search import Searcher
from vectorstore.store import NewsStore

SOURCES = [("Reuters", 30), ("AP", 20), ("BBC", 15), ("Guardian", 12), ("DW", 10), ("NPR", 8)]
SOURCES += [("Al Jazeera", 4), ("Halvern Gazette", 1)]
QUESTIONS = [
    "What did the central bank decide about interest rates?",
    "Who won the election in the capital?",
    "Why did the port workers go on strike?",
    "What did Pakistan and the US agree on?",
    "How many people were evacuated after the floods?",
    "Which company announced layoffs this week?",
    "What happened at the climate summit?",
    "Who was arrested after the protest?",
]


class RandomDocuments(Embeddings):
    """Random unit vectors for documents, the real model for queries."""

    def __init__(self, model: LocalMiniLMEmbeddings, dimension: int) -> None:
        self.model = model
        self.dimension = dimension
        self.rng = np.random.default_rng(2025)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = self.rng.standard_normal((len(texts), self.dimension)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return [list(map(float, v)) for v in vectors]

    def embed_query(self, text: str) -> list[float]:
        return self.model.embed_query(text)


def build(data_dir: Path, chunks: int) -> NewsStore:
    model = LocalMiniLMEmbeddings(threads=2)
    info = embedder_info(model)
    store = NewsStore(
        make_chroma_client(data_dir),
        "news",
        RandomDocuments(model, info.dimension),
        ArticleRegistry.for_collection(data_dir, "news"),
        embedder_name=info.name,
        dimension=info.dimension,
    )
    rng = np.random.default_rng(13)
    names = [name for name, _ in SOURCES]
    weights = np.array([w for _, w in SOURCES], dtype=float)
    items = []
    for n in range(chunks // 10):
        day = date(2025, 1, 1) + timedelta(days=int(rng.integers(0, 365)))
        published = None if rng.random() < 0.05 else day.isoformat()
        source = str(rng.choice(names, p=weights / weights.sum()))
        meta = ArticleMeta(f"a{n}", f"Article {n}", "", source, published, f"h{n}")
        texts = [f"Article {n}, paragraph {i}." for i in range(10)]
        items.append((meta, [ChunkText(i, t, 0, len(t), 8) for i, t in enumerate(texts)]))
    for start in range(0, len(items), 200):
        store.put_articles(items[start : start + 200])
    return store


def chroma_where_dense(
    self: Searcher,
    vector: list[float],
    k: int,
    where: ChunkFilter | None,
    rows: dict[str, tuple[int, str]] | None = None,
) -> Any:
    """`Searcher._dense` with Chroma's own `where` as the only filter: the baseline newsbot's
    registry-side filtering replaced (no first look at the nearest chunks, no registry ids)."""
    return self._nearest(vector, k, where=None if where is None else where.where())


def measure(search: Callable[[str], Any], queries: int) -> list[str]:
    """p50 and p95 ms of `search` as newsbot runs it and with Chroma's filter only, the two
    interleaved query by query (a busy machine slows both alike)."""
    for question in QUESTIONS[:3]:  # warm up
        search(question)
    product = Searcher._dense
    seconds: dict[Any, list[float]] = {product: [], chroma_where_dense: []}
    try:
        for n in range(queries):
            for dense, times in seconds.items():
                Searcher._dense = dense  # type: ignore[method-assign]
                started = time.perf_counter()
                search(QUESTIONS[n % len(QUESTIONS)])
                times.append(time.perf_counter() - started)
    finally:
        Searcher._dense = product  # type: ignore[method-assign]
    cells = []
    for times in seconds.values():
        cuts = statistics.quantiles(times, n=20)
        cells.append(f"{1000 * statistics.median(times):.1f} / {1000 * cuts[18]:.1f}")
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("-k", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        store = build(Path(folder), args.chunks)
        print(
            f"{store.stats()['chunks']} chunks in {time.perf_counter() - started:.0f} s; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; k={args.k}"
        )
        today = date.today()
        cases: list[tuple[str, date | None, SearchFilter | None]] = [
            ("no filter", None, None),
            ("as of today (no clause: nothing newer)", today, None),
            ("as of 2025-06-30", date(2025, 6, 30), None),
            ("since 2025-12-24 (last week of data)", None, SearchFilter(since=date(2025, 12, 24))),
            ("2025-05-01..2025-05-31", None, SearchFilter(date(2025, 5, 1), date(2025, 5, 31))),
            ("since 2025-01-01 (every dated chunk)", None, SearchFilter(since=date(2025, 1, 1))),
            ("source reuters (30%)", None, SearchFilter(sources=("reuters",))),
            ("source halvern gazette (1%)", None, SearchFilter(sources=("halvern gazette",))),
            ("source reuters + ap", None, SearchFilter(sources=("reuters", "AP"))),
            (
                "2025-12-01.. + reuters, as of today",
                today,
                SearchFilter(since=date(2025, 12, 1), sources=("Reuters",)),
            ),
        ]
        print("| search | p50 / p95 ms | Chroma's filter only: p50 / p95 ms |\n|---|---|---|")
        for name, as_of, filters in cases:

            def search(
                question: str, as_of: date | None = as_of, filters: SearchFilter | None = filters
            ) -> Any:
                return store.search(question, args.k, as_of, filters)

            print(f"| {name} | {' | '.join(measure(search, args.queries))} |")


if __name__ == "__main__":
    main()
