"""Every CLI command has help text with an example, and settings errors are one-line messages."""

from __future__ import annotations

import subprocess
import sys

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


def test_overlap_must_be_smaller_than_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    from newsbot.errors import ConfigError
    from newsbot.settings import get_settings

    monkeypatch.setenv("NEWSBOT_CHUNK_TOKENS", "100")
    monkeypatch.setenv("NEWSBOT_CHUNK_OVERLAP", "100")
    with pytest.raises(ConfigError, match="chunk_overlap"):
        get_settings()


def test_help_and_stats_import_no_model_store_or_web_library() -> None:
    """`newsbot --help` and `newsbot stats` stay fast: the heavy libraries load only in the
    commands that use them (measured times: BENCHMARKS.md, CLI start)."""
    code = (
        "import sys\n"
        "from newsbot.cli import cli\n"
        "for args in (['--help'], ['eval', '--help'], ['stats'], ['stats', '--json']):\n"
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
