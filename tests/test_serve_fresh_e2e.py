"""`newsbot serve` answers from an article that `newsbot ingest` stored while it ran.

Real processes on one data dir (embedded Chroma), the real embedder and the bundled local model:
the server is started on the sample articles, a new article is ingested from the CLI, and the
first question about it, asked as soon as the ingest ends, is answered from it with its source
cited; the server took it up within 5 s (the answer's own time aside).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.llm.model_files import ensure_default_model
from scripts.services import newsbot as run_newsbot
from scripts.services import start_replica
from tests.conftest import EXAMPLES_DIR
from tests.fixtures_llm import TEST_MODELS_DIR

pytestmark = pytest.mark.slow

TITLE = "Zorblat lighthouse reopens after storm repairs"
ARTICLE = f"""# {TITLE}

The Zorblat lighthouse on the Merrow coast reopened on Tuesday after six months of storm repairs,
the harbour authority said. Keeper Ottoline Fenwick lit the lamp at dusk before a crowd of two
hundred people.
"""
QUESTION = "Who lit the lamp when the Zorblat lighthouse reopened?"


def newsbot(*args: str) -> subprocess.CompletedProcess[str]:
    return run_newsbot(*args, env=os.environ, timeout=600)


@pytest.fixture
def served() -> Iterator[str]:
    """`newsbot serve` on the sample articles, on a free local port; yields its base URL."""
    ensure_default_model(TEST_MODELS_DIR)
    assert newsbot("ingest", str(EXAMPLES_DIR)).returncode == 0
    server = start_replica("newsbot serve", Path(os.environ["NEWSBOT_DATA_DIR"]), os.environ)
    try:
        yield server.url
    finally:
        server.stop()


def test_a_running_server_answers_from_an_article_ingested_beside_it(
    served: str, tmp_path: Path
) -> None:
    article = tmp_path / "zorblat-lighthouse.md"
    article.write_text(ARTICLE, encoding="utf-8")
    ingest = newsbot("ingest", "--json", str(article))
    assert ingest.returncode == 0, ingest.stderr
    assert json.loads(ingest.stdout)["new"] == 1
    ingested = time.monotonic()

    response = httpx.post(served + "/api/ask", json={"question": QUESTION}, timeout=600)
    waited = time.monotonic() - ingested
    assert response.status_code == 200, response.text
    result = response.json()
    assert TITLE in [p["title"] for p in result["retrieved"]]
    assert TITLE in [s["title"] for s in result["sources"]], result["answer"]
    assert "Fenwick" in result["answer"]
    timings = result["timings"]
    assert timings["retrieval_s"] < 5
    assert waited - timings["total_s"] < 5, (waited, timings)
