"""Every CLI command has help text with an example, and settings errors are one-line messages."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from newsbot.cli import cli


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in group.commands.items():
        path = (*prefix, name)
        found.append(path)
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
    return found


@pytest.mark.parametrize("path", _commands(cli), ids=lambda p: " ".join(p))
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output
    assert "newsbot " in result.output.split("Example:", 1)[1]


def test_bad_setting_is_a_one_line_error_without_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_TOP_K", "many")
    proc = subprocess.run(
        [sys.executable, "-c", "from newsbot.cli import main; main()", "stats"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "NEWSBOT_TOP_K" in proc.stderr


def test_a_data_dir_that_cannot_be_made_is_a_one_line_error(tmp_path: Path) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--data-dir", str(a_file / "store"), "ingest", str(a_file)])
    assert result.exit_code == 1
    assert result.output == f"Error: Not a directory: {a_file / 'store'}\n"
    # Named by the environment (--data-dir is checked by click itself).
    result = CliRunner().invoke(cli, ["ingest", str(a_file)], env={"NEWSBOT_DATA_DIR": str(a_file)})
    assert result.exit_code == 1
    assert result.output == (
        f"Error: The data dir {a_file} is a file, not a folder: name a folder (--data-dir or "
        "NEWSBOT_DATA_DIR)\n"
    )


@pytest.mark.parametrize(
    ("args", "refusal"),
    [
        (["serve", "--port", "99999"], "'--port': 99999 is not in the range 0<=x<=65535"),
        (["list", "--limit", "0"], "'--limit': 0 is not in the range 1<=x<=1000000"),
        (["ask", "  "], "The question is empty"),
        (["ask", "x" * 2001], "The question is 2,001 characters long: keep it under 2,000."),
        (["ask", "caf\udce9?"], "The question holds bytes that are not UTF-8 text"),
        (["ask", "--as-of", "0001-01-01", "When?"], "0001-01-01 is out of range"),
    ],
)
def test_impossible_arguments_are_refused_before_any_work(
    args: list[str], refusal: str, tmp_path: Path
) -> None:
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), *args])
    assert result.exit_code == 2
    assert refusal in result.output
    assert not any(tmp_path.iterdir()), "nothing was opened or started"


def test_asking_an_empty_store_says_so_before_loading_the_model(tmp_path: Path) -> None:
    """It used to load the model (copying it into a new data dir first) to answer that no
    stored article matches."""
    (tmp_path / "data").mkdir()
    for command in (["ask", "What happened?"], ["chat"]):
        result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "data"), *command])
        assert result.exit_code == 1, result.output
        assert result.output == (
            "Error: No article is stored in the collection 'news' yet: store some first with "
            "`newsbot ingest PATH`\n"
        )
    assert not (tmp_path / "data" / "models").exists()


def test_a_reader_that_stops_reading_ends_the_listing_quietly(tmp_path: Path) -> None:
    """`newsbot list --json | head -1`: the closed pipe is no error. The pipe is made as small
    as Linux allows, so a few articles' lines overflow it."""
    data = tmp_path / "data"
    folder = tmp_path / "news"
    folder.mkdir()
    for n in range(40):
        (folder / f"{n}.txt").write_text(f"Story {n}\n\nThe story number {n}.\n", "utf-8")
    stored = CliRunner().invoke(cli, ["--data-dir", str(data), "ingest", str(folder)])
    assert stored.exit_code == 0, stored.output
    read_end, write_end = os.pipe()
    fcntl.fcntl(read_end, fcntl.F_SETPIPE_SZ, 4096)
    command = "from newsbot.cli import main; main()"
    with os.fdopen(read_end, "rb") as reader:
        listing = subprocess.Popen(
            [sys.executable, "-c", command, "--data-dir", str(data), "list", "--json"],
            stdout=write_end,
            stderr=subprocess.PIPE,
        )
        os.close(write_end)
        assert reader.readline().startswith(b'{"article_id": ')
    assert listing.stderr is not None
    with listing.stderr:
        assert listing.wait(timeout=60) == 0
        assert listing.stderr.read() == b""


def test_a_source_no_article_comes_from_is_named_with_the_stored_ones(tmp_path: Path) -> None:
    article = tmp_path / "ferry.md"
    article.write_text(
        "---\ntitle: Ferry adds a crossing\nsource: Bay Courier\n---\nThe ferry adds a crossing.\n",
        encoding="utf-8",
    )
    data = ["--data-dir", str(tmp_path / "data")]
    assert CliRunner().invoke(cli, [*data, "ingest", str(article)]).exit_code == 0
    for command in (["ask", "What changed?"], ["chat"]):
        result = CliRunner().invoke(
            cli, [*data, *command, "--source", "bay courier", "--source", "Reuters"]
        )
        assert result.exit_code == 2, result.output
        assert "no stored article comes from Reuters; stored sources: Bay Courier" in result.output


def test_overlap_must_be_smaller_than_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    from newsbot.errors import ConfigError
    from newsbot.settings import get_settings

    monkeypatch.setenv("NEWSBOT_CHUNK_TOKENS", "100")
    monkeypatch.setenv("NEWSBOT_CHUNK_OVERLAP", "100")
    with pytest.raises(ConfigError, match="chunk_overlap"):
        get_settings()


def test_help_and_stats_import_no_model_store_or_web_library(clean_environ: Path) -> None:
    """`newsbot --help`, `newsbot stats` and `newsbot list` stay fast: the heavy libraries load
    only in the commands that use them (measured times: BENCHMARKS.md, CLI start)."""
    clean_environ.mkdir()  # an empty data dir: stats and list open the (new) registry
    code = (
        "import sys\n"
        "from newsbot.cli import cli\n"
        "for args in (['--help'], ['eval', '--help'], ['stats'], ['stats', '--json'], ['list']):\n"
        "    try:\n"
        "        cli.main(args, prog_name='newsbot')\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = ('langchain_openai', 'chromadb', 'gradio', 'openai', 'langchain_core', 'numpy',\n"
        "         'psycopg')\n"
        "print('loaded:' + ','.join(name for name in heavy if name in sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert "Usage: newsbot" in proc.stdout
    assert '"articles": 0' in proc.stdout
    assert proc.stdout.splitlines()[-1] == "loaded:"
