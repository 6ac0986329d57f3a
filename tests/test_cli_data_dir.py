"""A data dir that does not exist (issue 26, the terminal): the commands that read the store refuse
it in one line that names it and says how to make it, and create nothing; `ingest` creates it and
says so once.

Real `newsbot` processes, as a user runs them, on folders in a temp dir.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES_DIR

pytestmark = pytest.mark.server  # starts another process or a server

COMMAND = "from newsbot.cli import main; main()"


def newsbot(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", COMMAND, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ.copy(),
    )


@pytest.mark.parametrize(
    "command",
    [
        ["stats"],
        ["stats", "--json"],
        ["list"],
        ["delete", "5f7d7c89d0e4636c"],
        ["ask", "What did Pakistan and the US agree on?"],
        ["chat"],
        ["follow", "run", "--once"],  # found by a review: it created the mistyped folder
    ],
)
def test_a_reading_command_refuses_a_data_dir_that_does_not_exist(
    command: list[str], tmp_path: Path
) -> None:
    missing = tmp_path / "nonexistent" / "x"
    result = newsbot("--data-dir", str(missing), *command, stdin="Who won?\n")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: No data dir at {missing}: nothing is stored there. Check the path, or store "
        f"articles there first with `newsbot --data-dir {missing} ingest PATH` (which creates "
        "it)\n"
    )
    assert not (tmp_path / "nonexistent").exists()


def test_the_data_dir_from_the_environment_is_refused_with_no_option_to_repeat(
    clean_environ: Path,
) -> None:
    result = newsbot("list")
    assert result.returncode == 1
    assert "Error: No data dir at " + str(clean_environ) in result.stderr
    assert "`newsbot ingest PATH`" in result.stderr
    assert not clean_environ.exists()


def test_ingest_creates_the_data_dir_and_says_so_once(tmp_path: Path) -> None:
    where = tmp_path / "fresh" / "data"
    article = next(iter(sorted(EXAMPLES_DIR.glob("*.md"))))
    first = newsbot("--data-dir", str(where), "ingest", "--json", str(article))
    assert first.returncode == 0, first.stderr
    assert where.is_dir()
    assert first.stderr.count(f"Created the data dir {where}") == 1
    again = newsbot("--data-dir", str(where), "ingest", str(article))
    assert again.returncode == 0, again.stderr
    assert "Created" not in again.stderr

    stats = newsbot("--data-dir", str(where), "stats")
    assert stats.returncode == 0, stats.stderr
    assert "articles: 1" in stats.stdout


def test_an_ingest_of_nothing_readable_creates_no_data_dir(tmp_path: Path) -> None:
    """Found by a review: it said "Created the data dir" and left a store behind."""
    where = tmp_path / "fresh"
    result = newsbot("--data-dir", str(where), "ingest", str(tmp_path / "typo.md"))
    assert result.returncode == 1
    assert f"No articles found in {tmp_path / 'typo.md'} (no such file or folder)" in result.stderr
    assert "Created" not in result.stderr
    assert not where.exists()


def test_a_serve_refused_for_its_exposure_creates_no_data_dir(tmp_path: Path) -> None:
    where = tmp_path / "fresh"
    result = newsbot("--data-dir", str(where), "serve", "--host", "0.0.0.0")
    assert result.returncode == 1
    assert "--public" in result.stderr  # the exposure refusal, which names its way out
    assert "Created" not in result.stderr
    assert not where.exists()
