"""Issue 24 finding 5: an ingest that overlaps another does not call the other's write interrupted.

One ingest writes in this process (the real store and pipeline, its embedder held mid-batch, so
its articles are `pending` under the ingest lock); a second `newsbot ingest` runs as a real
process on the same data dir meanwhile. It used to warn that the first one's articles "were
interrupted mid-write" while they were being written; it now waits for the lock and says nothing
of the kind. A write that really was interrupted is still reported.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from langchain_core.embeddings import Embeddings

from ingest.pipeline import ingest
from newsbot.factories import build_store
from newsbot.settings import get_settings

pytestmark = pytest.mark.server  # starts another process or a server

WARNING = "interrupted mid-write"


class HeldEmbeddings(Embeddings):
    """The real embedder, which waits (mid-write: rows pending, lock held) until released."""

    def __init__(self, real: Embeddings, fail: bool = False) -> None:
        self.real = real
        self.fail = fail
        self.writing = threading.Event()
        self.release = threading.Event()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.writing.set()
        if self.fail:
            raise KeyboardInterrupt("killed mid-batch")
        self.release.wait(timeout=120)
        return self.real.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.real.embed_query(text)


def article(folder: Path, name: str, title: str) -> Path:
    path = folder / f"{name}.md"
    path.write_text(f"---\ntitle: {title}\n---\n{title} was approved on Monday.\n", "utf-8")
    return path


def _cache() -> dict[str, Any]:
    return {"tiktoken_cache_dir": get_settings().storage.data_dir / "tiktoken"}


def newsbot(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from newsbot.cli import main; main()", "-v", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )


def test_a_second_ingest_waits_without_calling_the_first_interrupted(tmp_path: Path) -> None:
    store = build_store(get_settings())
    ingest([str(article(tmp_path, "rates", "The water rates"))], store, **_cache())
    held = HeldEmbeddings(store.embeddings)
    store.embeddings = held
    first = article(tmp_path, "piers", "The harbour budget")
    writer = threading.Thread(
        target=ingest, args=([str(first)], store), kwargs=_cache(), daemon=True
    )
    writer.start()
    assert held.writing.wait(timeout=60), "the first ingest never started writing"
    assert [row.article_id for row in store.registry.pending()], "its rows are pending"

    second = newsbot("ingest", str(article(tmp_path, "school", "The school budget")))
    deadline = time.monotonic() + 120
    waiting = ""
    while "Waiting for another newsbot process" not in waiting:
        assert second.poll() is None, second.communicate()
        assert time.monotonic() < deadline, "the second ingest never reached the lock"
        waiting += _read_available(second)
    held.release.set()
    writer.join(timeout=120)
    _, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert WARNING not in waiting + err


def _read_available(process: subprocess.Popen[str]) -> str:
    """What the process wrote to stderr so far (a line at a time, without blocking for long).

    `selectors` (poll or epoll), not `select.select`: that one refuses a descriptor numbered over
    1023, which a long test run's process may hand out."""
    import selectors

    assert process.stderr is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stderr, selectors.EVENT_READ)
        ready = selector.select(timeout=0.2)
    return process.stderr.readline() if ready else ""


def test_a_write_that_was_really_interrupted_is_still_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = build_store(get_settings())
    ingest([str(article(tmp_path, "school", "The school budget"))], store, **_cache())
    store.embeddings = HeldEmbeddings(store.embeddings, fail=True)
    with pytest.raises(KeyboardInterrupt):
        ingest([str(article(tmp_path, "piers", "The harbour budget"))], store, **_cache())
    store.registry.close()
    with caplog.at_level("WARNING"):
        reopened: Any = build_store(get_settings())
    assert WARNING in caplog.text
    assert reopened.registry.pending()
