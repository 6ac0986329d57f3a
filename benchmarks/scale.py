"""The `scale` benchmark: 20 concurrent chats over two `newsbot serve` replicas.

Starts `scripts/scale_demo.py`'s deployment (PostgreSQL, `chroma run`, the bundled model behind
`newsbot model serve` with 2 slots, two replicas), ingests on the worker the evidence and
candidate articles of the first 20 questions of realtimeqa-2022-mini, then sends the 20
questions at once through `/api/ask`, alternating replicas. A client that gets 429 waits its
`Retry-After` and asks again, as a browser or the widget would. Recorded: failures (anything but
200 or 429, a timeout, a 429 without Retry-After), cross-talk (a response whose retrieved
articles are not what its own question retrieves), throughput and latency percentiles.
"""

from __future__ import annotations

import gzip
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import BenchConfig, default_models_dir, pct, stamp
from scripts.scale_demo import deploy

CHATS = 20


def _articles(config: BenchConfig, queries: list[Any], path: Path) -> int:
    wanted = {doc for q in queries for doc in (*q.labels, *q.gcs_ids)}
    kept = 0
    with (
        gzip.open(config.mini / "corpus.jsonl.gz", "rt", encoding="utf-8") as corpus,
        path.open("w", encoding="utf-8") as out,
    ):
        for line in corpus:
            if json.loads(line).get("id") in wanted:
                out.write(line)
                kept += 1
    return kept


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _chat(url: str, question: str, as_of: str, deadline: float) -> dict[str, Any]:
    """One chat's question, asked again after each 429's Retry-After, until answered."""
    started = time.perf_counter()
    busy = 0
    while True:
        try:
            response = httpx.post(
                url + "/api/ask", json={"question": question, "as_of": as_of}, timeout=600
            )
        except httpx.HTTPError as exc:
            return {"ok": False, "error": repr(exc), "busy": busy}
        if response.status_code == 429:
            retry_after = response.headers.get("retry-after")
            if retry_after is None:
                return {"ok": False, "error": "429 without Retry-After", "busy": busy}
            busy += 1
            if time.perf_counter() + float(retry_after) > deadline:
                return {"ok": False, "error": "gave up after 429s", "busy": busy}
            time.sleep(float(retry_after))
            continue
        if response.status_code != 200:
            return {"ok": False, "error": f"HTTP {response.status_code}", "busy": busy}
        body = response.json()
        return {
            "ok": True,
            "busy": busy,
            "seconds": time.perf_counter() - started,
            "answer_seconds": body["timings"]["total_s"],
            "retrieved": sorted({p["article_id"] for p in body["retrieved"]}),
        }


def bench_scale(config: BenchConfig) -> dict[str, Any]:
    from newsbot.evaluation.dataset import load_queries
    from newsbot.factories import build_store
    from newsbot.settings import get_settings

    queries = load_queries(config.mini, CHATS)
    folder = config.work_dir / "scale"
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "NEWSBOT_MODELS_DIR": str(default_models_dir())}
    with deploy(folder / f"run-{int(time.time())}", env=env) as deployment:
        articles = _articles(config, queries, folder / "articles.jsonl")
        ingest = deployment.worker("ingest", "--json", str(folder / "articles.jsonl"))
        if ingest.returncode != 0:
            raise RuntimeError(ingest.stderr)
        # What each question retrieves when asked alone, read from the shared stores directly.
        machine = deployment.machine("bench")
        settings = get_settings(
            data_dir=Path(machine["NEWSBOT_DATA_DIR"]),
            chroma_host="127.0.0.1",
            chroma_port=int(machine["NEWSBOT_CHROMA_PORT"]),
            database_url=machine["NEWSBOT_DATABASE_URL"],
        )
        store = build_store(settings)
        alone = {
            q.id: sorted(
                {
                    p.article_id
                    for p in store.search(
                        q.question, settings.retrieval.top_k, date.fromisoformat(q.date)
                    )
                }
            )
            for q in queries
        }
        urls = [replica.url for replica in deployment.replicas]
        started = time.perf_counter()
        deadline = started + 1800
        barrier = threading.Barrier(CHATS)

        def one(i: int) -> dict[str, Any]:
            barrier.wait()
            q = queries[i]
            return {"id": q.id, **_chat(urls[i % len(urls)], q.question, q.date, deadline)}

        with ThreadPoolExecutor(CHATS) as pool:
            chats = list(pool.map(one, range(CHATS)))
        wall = time.perf_counter() - started
    answered = [c for c in chats if c["ok"]]
    crossed = [c["id"] for c in answered if not set(c["retrieved"]) <= set(alone[c["id"]])]
    seconds = [c["seconds"] for c in answered]
    return stamp(
        "scale",
        config,
        {
            "chats": CHATS,
            "replicas": len(urls),
            "articles": articles,
            "failures": [c for c in chats if not c["ok"]],
            "cross_talk": crossed,
            "answered": len(answered),
            "answered_after_429": sum(1 for c in answered if c["busy"]),
            "responses_429": sum(c["busy"] for c in chats),
            "wall_s": round(wall, 1),
            "answers_per_minute": round(60 * len(answered) / wall, 2),
            "chat_p50_s": _seconds(pct(seconds, 50)),
            "chat_p95_s": _seconds(pct(seconds, 95)),
            "answer_p50_s": _seconds(pct([c["answer_seconds"] for c in answered], 50)),
            "answer_p95_s": _seconds(pct([c["answer_seconds"] for c in answered], 95)),
            "settings": "2 replicas, 1 answer at a time each, 4 queued each; model server 2 slots",
        },
    )


def bench_keywords(config: BenchConfig) -> dict[str, Any]:
    """The keyword index in each engine over the same chunks: the mini collection's, copied into
    a throwaway PostgreSQL; each ranked by the database and in memory; each realtimeqa-2022-mini
    question searched for 30 hits in each, and the default hybrid search's evidence hit with
    each."""
    from benchmarks.common import open_store, settings_for
    from benchmarks.ranking import evaluate
    from newsbot.evaluation.corpus import eval_collection_name
    from newsbot.evaluation.dataset import load_queries
    from newsbot.factories import ranking
    from scripts.services import start_postgres
    from vectorstore.keywords import build_keyword_index, keyword_index
    from vectorstore.postgres import PostgresDatabase
    from vectorstore.store import NewsStore

    settings = settings_for(config.data_dir)
    store = open_store(settings, eval_collection_name(config.mini))
    assert store.keywords is not None
    records = load_queries(config.mini)
    queries = [q.question for q in records]
    server = start_postgres(config.work_dir / "keywords")
    try:
        database = PostgresDatabase(server.url)
        shared = keyword_index(database, store.collection_name, in_memory=False)
        started = time.perf_counter()
        chunks = build_keyword_index(store.client.get_collection(store.collection_name), shared)
        build_s = time.perf_counter() - started
        rows = []
        local = store.registry.database
        for name, index in (
            ("SQLite FTS5 (bm25)", keyword_index(local, store.collection_name, in_memory=False)),
            ("PostgreSQL (ts_rank)", shared),
            ("in memory, from SQLite (bm25)", keyword_index(local, store.collection_name)),
            ("in memory, from PostgreSQL (bm25)", keyword_index(database, store.collection_name)),
        ):
            memory_build_s = None
            if index.memory is not None:
                begun = time.perf_counter()
                index.memory.build()
                memory_build_s = round(time.perf_counter() - begun, 1)
            index.search(queries[0], 30)  # warm
            times = []
            for question in queries:
                begun = time.perf_counter()
                index.search(question, 30)
                times.append(time.perf_counter() - begun)
            searched = NewsStore(
                store.client,
                store.collection_name,
                store.embeddings,
                store.registry,
                keywords=index,
            )
            quality = evaluate(searched, records, ranking(settings))
            rows.append(
                {
                    "engine": name,
                    "memory_build_s": memory_build_s,
                    "p50_ms": round(1000 * (pct(times, 50) or 0), 1),
                    "p95_ms": round(1000 * (pct(times, 95) or 0), 1),
                    "ev@3": [quality["tuning"]["ev@3"], quality["held-out"]["ev@3"]],
                    "mrr@10": [quality["tuning"]["mrr@10"], quality["held-out"]["mrr@10"]],
                    "search_p50_ms": quality["search_ms_p50"],
                    "search_p95_ms": quality["search_ms_p95"],
                }
            )
        database.close()
    finally:
        server.stop()
    return stamp(
        "keywords",
        config,
        {"chunks": chunks, "queries": len(queries), "pg_build_s": round(build_s, 1), "rows": rows},
    )
