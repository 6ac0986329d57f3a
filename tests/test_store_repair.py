"""Rebuilding an unreadable index with other processes about: two opening it at once, and a store
that stays open while another process's rebuild stops midway.

In a module of their own: a Chroma system whose index failed to load keeps some of its files
open until the process ends (chromadb frees it only then), which is once a rebuild in a serving
process, but counts against tests/fd_guard.py's per-module bound.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.test_store import (
    RATES,
    VISAS,
    OpenStore,
    chunks,
    meta,
    open_store,
    stored_then_torn,
    tear_index,
)
from tests.test_store_sharing import LIGHTHOUSE, ids_found, run_writer

pytestmark = pytest.mark.server  # starts other processes

__all__ = ["open_store"]  # the fixture used here


def test_two_processes_opening_an_unreadable_index_rebuild_it_and_both_write(
    open_store: OpenStore, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    stored_then_torn(open_store, data)

    writers = [
        run_writer(data, [["put", "lighthouse", 1, LIGHTHOUSE, "2022-06-20"]]),
        run_writer(data, [["put", "floods", 1, ["Heavy rain flooded the valley."], "2022-06-21"]]),
    ]
    for writer in writers:
        out, _ = writer.communicate(timeout=120)
        assert writer.returncode == 0
        assert out.split("\n")[:2] == ["ready", "done put"]
    store = open_store()
    assert store.stats()["chunks"] == len(VISAS) + len(RATES) + len(LIGHTHOUSE) + 1
    assert ids_found(store, "fake visas") >= {"visas"}
    assert "lighthouse" in ids_found(store, "Who lit the lamp of the Zorblat lighthouse?")
    assert "floods" in ids_found(store, "flooded valley rain")
    assert "rates" in ids_found(store, "central bank interest rate")


#: Another process: opens the store with an embedder that fails, so a rebuild stops midway.
FAILING_REBUILD = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from tests.test_store import ExplodingEmbeddings
from vectorstore.client import make_chroma_client
from vectorstore.embeddings import LocalMiniLMEmbeddings
from vectorstore.registry import ArticleRegistry
from vectorstore.store import NewsStore

data = Path(sys.argv[2])
NewsStore(
    make_chroma_client(data), "news", ExplodingEmbeddings(LocalMiniLMEmbeddings(threads=1)),
    ArticleRegistry.for_collection(data, "news"),
)
"""


def test_a_store_open_in_another_process_rebuilds_after_a_rebuild_stopped_midway(
    open_store: OpenStore, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    serving = open_store()  # as `newsbot serve` would: open, and the index loaded
    serving.put_articles([(meta("visas"), chunks(VISAS)), (meta("rates"), chunks(RATES))])
    assert ids_found(serving, "central bank interest rate") >= {"rates"}
    folder = tear_index(data)

    stopped = subprocess.run(
        [sys.executable, "-c", FAILING_REBUILD, str(REPO), str(data)], capture_output=True
    )
    assert stopped.returncode != 0  # its rebuild began, then its embedder failed
    assert (folder.parent / f"{folder.name}.damaged").is_dir()
    # The serving store takes the other process's write (the stopped rebuild) and, rather than
    # search the half-built index, rebuilds it.
    assert ids_found(serving, "central bank interest rate") >= {"rates"}
    assert ids_found(serving, "fake visas") >= {"visas"}
    assert serving.stats()["chunks"] == len(VISAS) + len(RATES)
    assert not (folder.parent / f"{folder.name}.damaged").exists()
