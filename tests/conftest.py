"""Shared test fixtures: a clean environment, a temp data dir, and the shared benchmark data.

Every test starts with no NEWSBOT_* or OPENAI_* variables and its own data directory, so nothing
a developer has configured (or stored) leaks into a test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fixtures_llm import TEST_MODELS_DIR, local_llm, worker_threads
from tests.fixtures_postgres import database_url, postgres
from tests.fixtures_store import embedder, module_stores_closed, open_store, stores_closed

__all__ = [
    "database_url",
    "embedder",
    "local_llm",
    "module_stores_closed",
    "open_store",
    "postgres",
    "stores_closed",
]
pytest_plugins = ["tests.fd_guard"]  # fails a module that leaves file descriptors open

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEWSBOT_SHARED_DIR", REPO.parent / "shared"))
SEED_DIR = SHARED / "corpus" / "seed"
MINI_DIR = SHARED / "bench" / "realtimeqa-2022-mini"
EXAMPLES_DIR = REPO / "examples" / "articles"


@pytest.fixture(autouse=True)
def clean_environ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Path:
    """Clear NEWSBOT_*/OPENAI_* and point the data dir at a fresh temp folder."""
    for name in list(os.environ):
        if name.startswith(("NEWSBOT_", "OPENAI_")):
            monkeypatch.delenv(name)
    data_dir = tmp_path / "newsbot-data"
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(data_dir))
    # The assembled model (1.1 GB) is shared by all tests rather than rebuilt per data dir.
    monkeypatch.setenv("NEWSBOT_MODELS_DIR", str(TEST_MODELS_DIR))
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
    threads = worker_threads()
    if threads < (os.cpu_count() or 1) and not request.node.get_closest_marker("slow"):
        # Under xdist, beside the model tests: the embedder and the servers a test starts take
        # this worker's share of the cores. The model tests keep the default (all cores): the
        # model's greedy answer changes with its thread count, and they test what users get.
        monkeypatch.setenv("NEWSBOT_THREADS", str(threads))
    monkeypatch.chdir(tmp_path)
    return data_dir


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared data folder (real news for tests); skip nothing: its absence is an error."""
    if not SHARED.is_dir():
        raise RuntimeError(f"shared data not found at {SHARED}; set NEWSBOT_SHARED_DIR")
    return SHARED
