"""`newsbot chat` in a terminal prints each answer's sources under it (issue 26, the terminal);
a refusal, which cites nothing, gets no source list.

A real `newsbot chat` process on a pseudo-terminal (so it greets and prompts as for a person), the
seed article stored, the bundled local model answering: the questions of tests/test_cli_e2e.py,
whose third is refused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.answer.grounding import is_refusal
from bot.llm.model_files import ensure_default_model
from newsbot.cli import cli
from tests.conftest import SEED_DIR
from tests.fixtures_llm import TEST_MODELS_DIR
from tests.test_cli_output import read_terminal

pytestmark = pytest.mark.slow

QUESTIONS = (
    "What did Pakistan and the US agree on?",
    "Who represented the US?",
    "What did they agree about trade tariffs?",
)


def chat_on_a_terminal(lines: list[str], timeout: float = 900) -> str:
    """Type `lines` into `newsbot chat` on a pseudo-terminal (no echo); what it showed."""
    import pty

    master, slave = pty.openpty()
    attributes = termios.tcgetattr(slave)
    attributes[3] &= ~termios.ECHO  # the screen shows what the chat writes, not what is typed
    termios.tcsetattr(slave, termios.TCSANOW, attributes)
    process = subprocess.Popen(
        [sys.executable, "-c", "from newsbot.cli import main; main()", "chat"],
        stdin=slave,
        stdout=slave,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )
    os.close(slave)
    os.write(master, "".join(line + "\n" for line in lines).encode())
    try:
        shown = read_terminal(master, timeout)
        _, errors = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    assert process.returncode == 0, errors.decode()
    return shown.decode().replace("\r\n", "\n")


def test_each_answer_shows_its_sources_and_a_refusal_none(tmp_path: Path) -> None:
    ensure_default_model(TEST_MODELS_DIR)
    assert CliRunner().invoke(cli, ["ingest", str(SEED_DIR)]).exit_code == 0
    listed = CliRunner().invoke(cli, ["list", "--json"], catch_exceptions=False).stdout
    [title] = [json.loads(line)["title"] for line in listed.splitlines()]

    shown = chat_on_a_terminal([*QUESTIONS, "/quit"])

    greeting, *turns = shown.split("\n> ")
    assert greeting.startswith("Ask about the news.")
    assert len(turns) == 4, shown  # three answers, then /quit
    for turn in turns[:2]:
        answer, sources = turn.split("\nSources:\n", 1)
        assert "[1]" in answer
        assert sources.startswith(f"[1] {title} ("), sources
        assert "\u201c" in sources  # the passage the answer rests on
    assert "Naqvi" in turns[0] or "visa" in turns[0].lower()
    assert "Natalie Baker" in turns[1], "the follow-up is resolved from the chat's history"
    assert is_refusal(turns[2]), turns[2]
    assert "Sources:" not in turns[2], turns[2]
    assert "No sources" not in turns[2]
