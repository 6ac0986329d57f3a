"""The CLI end to end, as a user runs it: real processes, real store, real local model, offline.

Covers the answer issue's acceptance: `newsbot ask` on the seed article answers the seed questions
(the chat's are in tests/test_cli_chat_sources.py), and `ingest`/`stats`/`list`/`delete` behave as
documented.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsbot.cli import cli
from tests.conftest import EXAMPLES_DIR, SEED_DIR


def run(*args: str, stdin: str | None = None) -> Result:
    """Run the CLI in this process (fast); the same code path as the console script."""
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


def newsbot_process(
    *args: str, stdin: str | None = None, timeout: float = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the CLI as its own process, as a user does (no traceback may reach stderr); `env`
    adds to the environment."""
    return subprocess.run(
        [sys.executable, "-c", "from newsbot.cli import main; main()", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


#: Another process: searches the store the environment names and prints the chunk ids found.
SEARCH = """
import sys
from newsbot.factories import build_store
from newsbot.settings import get_settings
print([p.chunk_id for p in build_store(get_settings()).search(sys.argv[1], k=4)])
"""


def test_ingest_stats_list_delete_round_trip(tmp_path: Path) -> None:
    first = run("ingest", "--json", str(EXAMPLES_DIR), str(SEED_DIR))
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert report["new"] >= 7
    assert report["failed"] == 0

    again = json.loads(run("ingest", "--json", str(EXAMPLES_DIR), str(SEED_DIR)).stdout)
    assert again["new"] == again["updated"] == again["chunks"] == 0
    assert again["unchanged"] == report["new"]

    stats = json.loads(run("stats", "--json").stdout)
    assert stats["articles"] == report["new"]
    assert stats["chunks"] == report["chunks"]

    listed = [
        json.loads(line)
        for line in run("list", "--json", "--search", "Pakistan").stdout.splitlines()
    ]
    assert listed, "the Pakistan sample article is listed"
    deleted = run("delete", listed[0]["article_id"])
    assert deleted.exit_code == 0, deleted.output
    assert json.loads(run("stats", "--json").stdout)["articles"] == report["new"] - 1


def test_partial_failure_exits_2_and_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text(
        '{"id": "a1", "title": "Fine", "text": "A fine article about rain."}\n{"id": "a2", "te\n'
    )
    result = run("ingest", str(broken))
    assert result.exit_code == 2
    assert "broken.jsonl:2" in result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads(run("stats", "--json").stdout)["articles"] == 1


def test_missing_input_is_one_line_error() -> None:
    result = newsbot_process("ingest", "no/such/folder")
    assert result.returncode in (1, 2)
    assert "no/such/folder" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.server  # runs other processes
def test_repair_rebuilds_an_index_that_opens_but_cannot_search(clean_environ: Path) -> None:
    from newsbot.factories import build_store
    from newsbot.settings import get_settings

    assert newsbot_process("ingest", str(EXAMPLES_DIR)).returncode == 0  # its store is closed
    store = build_store(get_settings())
    before = [p.chunk_id for p in store.search("Pakistan visas", k=4)]
    store.close()
    gc.collect()  # frees the closed Chroma system, so the next one loads the index from disk
    # A half-saved index that still loads: its elements are gone, its header still counts them.
    (index,) = (clean_environ / "chroma").glob("*/data_level0.bin")
    index.write_bytes(b"")
    # Its searches fail, or crash chromadb: tried in another process.
    searched = subprocess.run(
        [sys.executable, "-c", SEARCH, "Pakistan visas"], capture_output=True, text=True
    )
    assert searched.returncode != 0
    if searched.returncode > 0:  # chromadb reported instead of crashing
        assert "`newsbot repair` rebuilds it" in searched.stderr

    repaired = run("repair")
    assert repaired.exit_code == 0, repaired.output
    assert repaired.stdout.startswith("Rebuilt the vector index of 'news': 15 chunks")
    store = build_store(get_settings())
    assert [p.chunk_id for p in store.search("Pakistan visas", k=4)] == before
    store.close()

    assert "no collection 'elsewhere'" in run("--collection", "elsewhere", "repair").stderr
    empty = clean_environ.parent / "empty-data-dir"
    empty.mkdir()
    nothing = run("--data-dir", str(empty), "repair")
    assert (nothing.exit_code, nothing.stderr.strip()) == (
        1,
        "Error: There is no collection 'news' to repair",
    )
    assert list(empty.iterdir()) == []  # and it made nothing there
    served = newsbot_process("repair", env={"NEWSBOT_CHROMA_HOST": "127.0.0.1"})
    assert served.returncode == 1
    assert "Chroma server at 127.0.0.1" in served.stderr
    assert "Traceback" not in served.stderr


@pytest.mark.slow
def test_ask_answers_the_seed_questions_as_json_and_as_a_stream() -> None:
    """The chat's turns (a follow-up, a refusal) are asked in tests/test_cli_chat_sources.py."""
    assert run("ingest", str(SEED_DIR)).exit_code == 0

    asked = run("ask", "--json", "What did Pakistan and the US agree on?")
    assert asked.exit_code == 0, asked.output
    result = json.loads(asked.stdout)
    assert result["grounded"] is True
    assert "visa" in result["answer"].lower()
    assert "[1]" in result["answer"]
    # The passage shown is the article's own sentences (the compact context joins distant ones
    # with " … "), so each part is found in the article.
    article = " ".join(Path(next(SEED_DIR.iterdir())).read_text().split())
    for part in result["sources"][0]["passage"].split(" … "):
        assert part in article

    streamed = newsbot_process("ask", "Who met the US Chargé d'affaires?")
    assert streamed.returncode == 0, streamed.stderr
    assert "Naqvi" in streamed.stdout
