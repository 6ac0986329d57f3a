"""A chat model that is down or too slow is a one-line ModelError, not a traceback.

Uses the real openai client (through ChatOpenAI) against real sockets on 127.0.0.1: one port with
nothing listening, one server that accepts and never answers.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.answer.assistant import Assistant
from bot.answer.question import Question
from bot.llm.providers import make_chat_model
from newsbot.cli import cli
from newsbot.errors import ModelError
from prompts import load_prompts
from tests.fixtures_llm import assistant_options
from vectorstore.records import Passage

pytestmark = pytest.mark.server  # starts another process or a server


class OnePassage:
    """A retriever that always finds the same passage, so the model is always asked."""

    def search(
        self, query: str, k: int, published_before: object = None, filters: object = None
    ) -> list[Passage]:
        text = "The council approved the budget on Monday."
        return [Passage("a:0", "a", "Budget", "", "", None, text, 0, len(text), 0.9, 0)]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and reads requests, but never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/v1"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def _assistant(base_url: str, timeout: float) -> Assistant:
    llm = make_chat_model("openai_compatible", base_url=base_url, timeout=timeout)
    return Assistant(
        OnePassage(),
        llm.model_copy(update={"max_retries": 0}),
        load_prompts(),
        **assistant_options(),
    )


def test_unreachable_model_is_a_model_error() -> None:
    assistant = _assistant(f"http://127.0.0.1:{_closed_port()}/v1", timeout=5)
    with pytest.raises(ModelError, match="Cannot reach the chat model"):
        assistant.ask(Question("What did the council approve?"))


def test_silent_model_times_out_as_a_model_error(silent_server: str) -> None:
    assistant = _assistant(silent_server, timeout=1)
    with pytest.raises(ModelError, match="did not answer in time"):
        assistant.ask(Question("What did the council approve?"))


def test_cli_reports_an_unreachable_model_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    article = tmp_path / "budget.md"
    article.write_text("# Budget approved\n\nThe council approved the budget on Monday.\n")
    assert CliRunner().invoke(cli, ["ingest", str(article)]).exit_code == 0
    monkeypatch.setenv("NEWSBOT_LLM_PROVIDER", "openai_compatible")
    monkeypatch.setenv("NEWSBOT_LLM_BASE_URL", f"http://127.0.0.1:{_closed_port()}/v1")
    result = CliRunner().invoke(cli, ["ask", "What did the council approve?"])
    assert result.exit_code == 1
    assert "Error: Cannot reach the chat model" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
