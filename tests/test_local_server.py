"""The in-process llama.cpp server: the real default model, asked through the OpenAI protocol."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.messages import AIMessageChunk, HumanMessage, SystemMessage
from openai import OpenAI
from openai.types.chat import ChatCompletionMessageParam

from bot.llm.local_server import LocalLLMServer, shared_server
from bot.llm.providers import make_chat_model
from newsbot.errors import ModelError
from tests.conftest import SEED_DIR

QUESTION: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "Answer in one word."},
    {"role": "user", "content": "What is the capital of France?"},
]


@pytest.fixture
def client(local_llm: LocalLLMServer) -> Iterator[OpenAI]:
    """An `openai` client for the session's local server, closed after the test."""
    with OpenAI(base_url=local_llm.base_url, api_key="local") as client:
        yield client


def test_nothing_loads_until_first_use(tmp_path: Path) -> None:
    server = LocalLLMServer(tmp_path / "model.gguf", n_ctx=1024, threads=1)

    assert not server.running
    assert server.model_name == "model.gguf"
    with pytest.raises(ModelError, match="newsbot model install"):
        _ = server.base_url
    assert not server.running


def test_shared_server_is_one_instance_per_model_and_settings(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    same = [shared_server(model, 2048, 2), shared_server(tmp_path / "." / "m.gguf", 2048, 2)]

    assert same[0] is same[1]
    assert shared_server(model, 4096, 2) is not same[0]
    assert not same[0].running


def test_a_file_that_is_not_a_model_is_a_model_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + bytes(range(256)) * 8)
    server = LocalLLMServer(bad, n_ctx=512, threads=1)

    with pytest.raises(ModelError, match="NEWSBOT_LLM_MODEL_PATH"):
        server.start()
    assert not server.running


@pytest.mark.slow
def test_openai_client_chat_completion(local_llm: LocalLLMServer, client: OpenAI) -> None:

    reply = client.chat.completions.create(
        model=local_llm.model_name,
        messages=QUESTION,
        max_tokens=8,
        temperature=0,
    )

    assert "paris" in (reply.choices[0].message.content or "").lower()
    assert reply.model == local_llm.model_name
    assert reply.usage is not None
    assert reply.usage.prompt_tokens > 5


@pytest.mark.slow
def test_openai_client_streams_with_usage(local_llm: LocalLLMServer, client: OpenAI) -> None:

    stream = client.chat.completions.create(
        model=local_llm.model_name,
        messages=[{"role": "user", "content": "Count from 1 to 10, separated by spaces."}],
        max_tokens=40,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces, usage = [], None
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
        usage = chunk.usage or usage

    assert len(pieces) > 5
    assert "1 2 3 4 5" in "".join(pieces)
    assert usage is not None
    # each streamed piece is one token; the end-of-turn token is counted but not sent
    assert len(pieces) <= usage.completion_tokens <= len(pieces) + 1


@pytest.mark.slow
def test_chat_model_from_the_factory_streams(local_llm: LocalLLMServer) -> None:
    llm = make_chat_model("local", max_tokens=8, local_server_factory=lambda: local_llm)
    total: AIMessageChunk | None = None
    chunks = 0
    for chunk in llm.stream(
        [SystemMessage("Answer in one word."), HumanMessage("Capital of France?")]
    ):
        total = chunk if total is None else total + chunk
        chunks += 1

    assert total is not None
    assert "paris" in str(total.content).lower()
    assert chunks > 1
    assert total.usage_metadata is not None
    assert total.usage_metadata["input_tokens"] > 5


@pytest.mark.slow
def test_max_tokens_is_honoured(local_llm: LocalLLMServer) -> None:
    llm = make_chat_model("local", max_tokens=5, local_server_factory=lambda: local_llm)
    message = llm.invoke("Write a long poem about the sea.")

    assert message.usage_metadata is not None
    assert 0 < message.usage_metadata["output_tokens"] <= 5


@pytest.mark.slow
def test_follow_up_reuses_the_cached_prompt_prefix(
    local_llm: LocalLLMServer, client: OpenAI
) -> None:
    article = SEED_DIR.glob("*.txt")
    context = next(iter(sorted(article))).read_text(encoding="utf-8")[:1500]
    system = {"role": "system", "content": "Answer from this article only.\n\n" + context}

    def ask(question: str) -> tuple[int, int]:
        reply = client.chat.completions.create(
            model=local_llm.model_name,
            messages=[system, {"role": "user", "content": question}],  # type: ignore[list-item]
            max_tokens=4,
            temperature=0,
        )
        assert reply.usage is not None
        assert reply.usage.prompt_tokens_details is not None
        return reply.usage.prompt_tokens, reply.usage.prompt_tokens_details.cached_tokens or 0

    ask("Who signed the agreement?")
    prompt_tokens, cached = ask("When was it signed?")

    assert prompt_tokens > 200
    assert cached > prompt_tokens - 20  # only the new question is read again


@pytest.mark.slow
def test_start_is_idempotent_across_threads(local_llm: LocalLLMServer) -> None:
    urls: list[str] = []
    threads = [threading.Thread(target=lambda: urls.append(local_llm.base_url)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(urls)) == 1
    assert urls[0].startswith("http://127.0.0.1:")
    assert urls[0].endswith("/v1")
