"""Search latency: `NewsStore.search` p50/p95 (query embedding included) at the mini size, at the
full 2022 size (the real collection when `newsbot eval` built it, else random vectors at the
chunk count of the full corpus) and on a synthetic 200k-chunk collection of random unit vectors."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import date
from itertools import cycle
from pathlib import Path
from typing import Any

from benchmarks.common import BenchConfig, open_store, pct, settings_for, stamp
from newsbot.errors import InputError

logger = logging.getLogger(__name__)


def _latencies(
    store: Any, questions: Sequence[tuple[str, date]], k: int, data_dir: Path
) -> dict[str, Any]:
    """Search p50/p95 as of each question's date (a date filter) and as of today (usually none:
    no stored article is newer, see `NewsStore.search`), once the keyword ranking in memory is
    built (as in a server that has answered a few questions); and, as of the question's date,
    while it builds on its thread (the database ranks then)."""
    memory = store.keywords.memory if store.keywords is not None else None
    build_s = grew_mb = None
    during: list[float] = []
    if memory is not None:
        started = time.perf_counter()
        memory.start()
        for text, when in cycle(questions):
            if memory.ready() or memory.failed is not None:
                break
            begun = time.perf_counter()
            store.search(text, k, published_before=when)
            during.append(time.perf_counter() - begun)
        build_s = round(time.perf_counter() - started, 1)
        grew_mb = _memory_of_build(data_dir, store.collection_name)
    for text, when in questions[:3]:  # warm up: model load, caches
        store.search(text, k, published_before=when)
    dated: list[float] = []
    today: list[float] = []
    for text, when in questions:
        for day, seconds in ((when, dated), (date.today(), today)):
            started = time.perf_counter()
            store.search(text, k, published_before=day)
            seconds.append(time.perf_counter() - started)
    if memory is not None:
        memory.release()
    return {
        "queries": len(dated),
        "p50_ms": round(1000 * (pct(dated, 50) or 0), 1),
        "p95_ms": round(1000 * (pct(dated, 95) or 0), 1),
        "today_p50_ms": round(1000 * (pct(today, 50) or 0), 1),
        "today_p95_ms": round(1000 * (pct(today, 95) or 0), 1),
        "keyword_memory_build_s": build_s,
        "during_build_p50_ms": round(1000 * (pct(during, 50) or 0), 1) if during else None,
        "during_build_p95_ms": round(1000 * (pct(during, 95) or 0), 1) if during else None,
        "keyword_memory_mb": grew_mb,
    }


_MEASURE_BUILD = """
import gc, sys
from pathlib import Path
from benchmarks.common import settings_for
from newsbot.factories import build_store

def resident():
    return int(Path("/proc/self/statm").read_text().split()[1])

store = build_store(settings_for(Path(sys.argv[1])), collection=sys.argv[2])
gc.collect()
before = resident()
store.keywords.memory.build()
gc.collect()
print(resident() - before)
"""


def _memory_of_build(data_dir: Path, collection: str) -> int:
    """MiB of resident memory the keyword ranking's copy adds to a fresh process (Linux), so
    that earlier rows' builds in this process don't count."""
    import os
    import subprocess
    import sys

    pages = subprocess.run(
        [sys.executable, "-c", _MEASURE_BUILD, str(data_dir), collection],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[-1]
    return round(int(pages) * os.sysconf("SC_PAGE_SIZE") / 2**20)


def _count_chunks(dataset: Path, settings: Any) -> int:
    """Chunks the dataset's corpus makes with the default chunking (no embedding)."""
    from ingest.chunking import chunk_text
    from ingest.cleaning import clean_text
    from ingest.tokens import load_encoding
    from newsbot.evaluation.dataset import iter_docs

    encoding = load_encoding(settings.storage.data_dir / "tiktoken")
    total = 0
    for doc in iter_docs(dataset):
        text = clean_text(doc.text)
        if text:
            total += len(
                chunk_text(
                    text,
                    encoding,
                    settings.retrieval.chunk_tokens,
                    settings.retrieval.chunk_overlap,
                )
            )
    return total


def _synthetic(settings: Any, name: str, size: int, dimension: int) -> Any:
    """A newsbot collection of `size` random unit vectors (dated across 2022, 10 chunks an
    article), with the registry rows ingest would write, built once."""
    import numpy as np

    store = open_store(settings, name, build_keywords=False)
    collection = store.client.get_collection(name)
    have = collection.count()
    if have >= size:
        _register_synthetic(store, collection)
        return store
    rng = np.random.default_rng(2022)
    batch = min(5000, store.client.get_max_batch_size())
    start_day = (date(2022, 1, 1) - date(1970, 1, 1)).days
    logger.info("retrieval: inserting %d random vectors into %s", size - have, name)
    for first in range(have, size, batch):
        n = min(batch, size - first)
        vectors = rng.standard_normal((n, dimension)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        days = rng.integers(0, 365, n)
        collection.add(
            ids=[f"synthetic-{(first + i) // 10}:{(first + i) % 10}" for i in range(n)],
            embeddings=vectors,
            documents=[f"synthetic chunk {first + i}" for i in range(n)],
            metadatas=[
                {
                    "article_id": f"synthetic-{(first + i) // 10}",
                    "title": "",
                    "url": "",
                    "source": "",
                    "published": str(
                        date(2022, 1, 1).fromordinal(date(2022, 1, 1).toordinal() + int(d))
                    ),
                    "published_ts": start_day + int(d),
                    "chunk_index": (first + i) % 10,
                    "char_start": 0,
                    "char_end": 0,
                    "content_hash": "",
                }
                for i, d in enumerate(days)
            ],
        )
    _register_synthetic(store, collection)
    return store


def _register_synthetic(store: Any, collection: Any, page: int = 5000) -> None:
    """The registry rows of the synthetic articles (as ingest writes them), so that a search
    filters by date through the registry as it does over real articles."""
    from vectorstore.records import ArticleMeta

    if store.registry.count() * 10 >= collection.count():
        return
    for offset in range(0, collection.count(), page):
        got = collection.get(include=["metadatas"], limit=page, offset=offset)
        chunks: dict[str, tuple[str, int]] = {}
        for meta in got["metadatas"] or []:
            published, count = chunks.get(str(meta["article_id"]), (str(meta["published"]), 0))
            chunks[str(meta["article_id"])] = (published, count + 1)
        items = [
            (ArticleMeta(article_id, "", "", "", published, ""), count)
            for article_id, (published, count) in chunks.items()
        ]
        store.registry.mark_pending(items)
        store.registry.mark_done(items)


def _own_dir_rows(config: BenchConfig, questions: Sequence[tuple[str, date]]) -> dict[str, Any]:
    """The real collections of each `--own-data-dir`: a data dir holding only that collection,
    e.g. made by `newsbot --data-dir ../data-full eval ../shared/bench/realtimeqa-2022 --limit 1`.
    """
    from newsbot.evaluation.corpus import eval_collection_name

    rows: dict[str, Any] = {}
    for data_dir in config.own_data_dirs:
        settings = settings_for(data_dir)
        for label, dataset in (("mini", config.mini), ("full 2022", config.full)):
            store = open_store(settings, eval_collection_name(dataset), build_keywords=False)
            chunks = store.stats()["chunks"]
            if chunks:
                rows[f"{label} (real), own data dir"] = {
                    "chunks": chunks,
                    "collections_in_data_dir": len(store.client.list_collections()),
                    **_latencies(store, questions, config.k, data_dir),
                }
    return rows


def bench_retrieval(config: BenchConfig) -> dict[str, Any]:
    """Search latency at three collection sizes, with the mini questions as queries, in one
    shared data dir (and in data dirs of their own, `--own-data-dir`)."""
    from newsbot.evaluation.corpus import eval_collection_name
    from newsbot.evaluation.dataset import load_queries

    settings = settings_for(config.data_dir)
    questions = [(q.question, date.fromisoformat(q.date)) for q in load_queries(config.mini)]
    rows: dict[str, Any] = {}

    mini = open_store(settings, eval_collection_name(config.mini), build_keywords=False)
    if mini.stats()["chunks"] == 0:
        raise InputError(
            f"No mini collection in {config.data_dir}: run `newsbot --data-dir "
            f"{config.data_dir} eval {config.mini} --limit 1` first (it ingests the corpus)"
        )
    rows["mini (real)"] = {
        "chunks": mini.stats()["chunks"],
        **_latencies(mini, questions, config.k, config.data_dir),
    }

    full = open_store(settings, eval_collection_name(config.full), build_keywords=False)
    full_chunks = full.stats()["chunks"]
    if full_chunks:
        rows["full 2022 (real)"] = {
            "chunks": full_chunks,
            **_latencies(full, questions, config.k, config.data_dir),
        }
    else:
        size = _count_chunks(config.full, settings)
        store = _synthetic(settings, f"bench-synthetic-{size}", size, mini.dimension)
        rows["full 2022 size (random vectors)"] = {
            "chunks": size,
            **_latencies(store, questions, config.k, config.data_dir),
        }
    big = _synthetic(
        settings, f"bench-synthetic-{config.synthetic}", config.synthetic, mini.dimension
    )
    rows[f"synthetic {config.synthetic // 1000}k (random vectors)"] = {
        "chunks": config.synthetic,
        **_latencies(big, questions, config.k, config.data_dir),
    }
    rows.update(_own_dir_rows(config, questions))
    return stamp(
        "retrieval",
        config,
        {
            "k": config.k,
            "collections_in_data_dir": len(mini.client.list_collections()),
            "rows": rows,
        },
    )
