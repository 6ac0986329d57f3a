"""Processes sharing a data dir (`newsbot serve` beside `newsbot ingest`/`delete`): real processes,
real embedded Chroma in tmp_path, the real embedder.

A store opened in this process must see another process's added and deleted articles within 5 s,
a search racing another process's writes must never raise, and two `newsbot ingest` runs of one
file at once must embed it once. `tests/test_chroma_server.py` runs the first check against a
`chroma run` server.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MINI_DIR, REPO
from tests.test_store import RATES, VISAS, OpenStore, chunks, meta, open_store
from vectorstore.client import make_chroma_client
from vectorstore.embeddings import LocalMiniLMEmbeddings
from vectorstore.registry import ArticleRegistry
from vectorstore.store import NewsStore

pytestmark = pytest.mark.server  # starts another process or a server

__all__ = ["open_store"]  # the fixture used here

LIGHTHOUSE = [
    "The Zorblat lighthouse on the Merrow coast reopened after six months of storm repairs.",
    "Keeper Ottoline Fenwick lit the lamp at dusk before a crowd of two hundred people.",
]

#: Another process: opens the store and runs the operations given as JSON, printing each one done.
WRITER = """
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from tests.test_store import chunks, meta
from vectorstore.client import make_chroma_client
from vectorstore.embeddings import LocalMiniLMEmbeddings
from vectorstore.registry import ArticleRegistry
from vectorstore.store import NewsStore

data, host, port, ops = Path(sys.argv[2]), sys.argv[3] or None, int(sys.argv[4]), sys.argv[5]
store = NewsStore(
    make_chroma_client(data, host, port), "news", LocalMiniLMEmbeddings(threads=1),
    ArticleRegistry.for_collection(data, "news", host, port if host else None),
)
print("ready", flush=True)
for op, *args in json.loads(ops):
    if op == "put":
        article_id, version, texts, published = args
        store.put_articles([(meta(article_id, str(version), published=published), chunks(texts))])
    elif op == "delete":
        store.delete_article(args[0])
    else:
        time.sleep(args[0])
    print("done", op, flush=True)
"""


def run_writer(
    data: Path, ops: list[list[Any]], host: str | None = None, port: int = 0
) -> subprocess.Popen[str]:
    """Start the writer process on `data` (a Chroma server when `host` is given)."""
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            WRITER,
            str(REPO),
            str(data),
            host or "",
            str(port),
            json.dumps(ops),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )


def ids_found(store: NewsStore, query: str) -> set[str]:
    return {p.article_id for p in store.search(query, k=3)}


def check_sees_another_process_writes(store: NewsStore, data: Path, **server: Any) -> None:
    """`store` sees an article added and one deleted by another process, within 5 s."""
    store.put_articles([(meta("visas"), chunks(VISAS)), (meta("rates"), chunks(RATES))])
    assert "rates" in ids_found(store, "central bank interest rate")
    assert "lighthouse" not in ids_found(store, "Who lit the lamp of the Zorblat lighthouse?")

    ops = [["put", "lighthouse", 1, LIGHTHOUSE, "2022-06-20"], ["delete", "rates"]]
    with run_writer(data, ops, **server) as child:
        out, _ = child.communicate(timeout=120)
    assert child.returncode == 0
    assert out.split("\n")[1:3] == ["done put", "done delete"]
    finished = time.monotonic()
    while True:
        added = "lighthouse" in ids_found(store, "Who lit the lamp of the Zorblat lighthouse?")
        gone = "rates" not in ids_found(store, "central bank interest rate")
        if added and gone:
            break
        assert time.monotonic() - finished < 5, f"added={added} deleted={gone} after 5 s"
        time.sleep(0.2)
    assert time.monotonic() - finished < 5
    assert store.stats()["articles"] == 2
    assert store.stats()["chunks"] == len(VISAS) + len(LIGHTHOUSE)


def test_a_store_sees_another_processs_add_and_delete(
    open_store: OpenStore, tmp_path: Path
) -> None:
    check_sees_another_process_writes(open_store(), tmp_path / "data")


def test_a_search_racing_another_processs_writes_never_raises(
    open_store: OpenStore, tmp_path: Path
) -> None:
    store = open_store()
    later = meta("later", published="2023-01-05")  # so that a date filter is really applied
    store.put_articles([(meta("visas"), chunks(VISAS)), (later, chunks(RATES))])
    ops: list[list[Any]] = []
    for version in range(6):  # add, let the search find it, delete it again
        texts = [f"Fake visa networks, report {version}: {text}" for text in VISAS[:3]]
        ops += [["put", "volatile", version, texts, "2022-06-01"], ["sleep", 0.3]]
        ops += [["delete", "volatile"], ["sleep", 0.1]]

    errors: list[BaseException] = []
    seen: list[set[str]] = []
    stop = threading.Event()

    def search_until_stopped() -> None:
        before = [None, date(2022, 12, 31)]
        while not stop.is_set():
            try:
                hits = store.search("fake visa networks", 5, before[len(seen) % 2])
            except BaseException as exc:  # any exception is the failure under test
                errors.append(exc)
                return
            assert all(hit.text and hit.article_id for hit in hits)
            seen.append({hit.article_id for hit in hits})

    with run_writer(tmp_path / "data", ops) as child:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        searcher = threading.Thread(target=search_until_stopped)
        searcher.start()
        child.wait(timeout=120)
        time.sleep(0.5)
        stop.set()
        searcher.join(timeout=60)
    assert child.returncode == 0
    assert errors == []
    assert len(seen) >= 10
    assert any("volatile" in ids for ids in seen), "the writes raced the searches"
    assert "volatile" not in ids_found(store, "fake visa networks report")


def ingest_process(data: Path, path: Path) -> subprocess.Popen[str]:
    """`newsbot -v ingest --json path` as its own process."""
    return subprocess.Popen(
        [
            *(sys.executable, "-c", "from newsbot.cli import main; main()"),
            *("-v", "--data-dir", str(data), "ingest", "--json", str(path)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_two_ingests_of_one_file_at_once_embed_it_once(tmp_path: Path) -> None:
    with gzip.open(MINI_DIR / "corpus.jsonl.gz", "rt", encoding="utf-8") as corpus:
        lines = [next(corpus) for _ in range(24)]
    source = tmp_path / "batch.jsonl"
    source.write_text("".join(lines), encoding="utf-8")
    data = tmp_path / "data"

    first, second = ingest_process(data, source), ingest_process(data, source)
    outputs = [first.communicate(timeout=600), second.communicate(timeout=600)]
    assert first.returncode == second.returncode == 0, outputs
    reports = sorted((json.loads(out) for out, _ in outputs), key=lambda r: r["new"])
    assert (reports[0]["new"], reports[0]["unchanged"], reports[0]["chunks"]) == (0, 24, 0)
    assert (reports[1]["new"], reports[1]["unchanged"]) == (24, 0)
    assert any("Waiting for another newsbot process" in err for _, err in outputs), (
        "the two runs overlapped"
    )
    store = NewsStore(
        make_chroma_client(data),
        "news",
        LocalMiniLMEmbeddings(threads=1),
        ArticleRegistry.for_collection(data, "news"),
    )
    assert store.stats()["chunks"] == reports[1]["chunks"]
    assert store.stats()["articles"] == 24
