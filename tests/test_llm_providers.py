"""The chat model factory sends the right model, key and URL, checked on a real local HTTP server.

`OpenAIStub` is a small threaded HTTP server on 127.0.0.1 that speaks enough of the OpenAI chat
completions API (JSON and SSE streaming, with usage) and records every request it gets.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk

from bot.llm.providers import OPENAI_BASE_URL, make_chat_model
from newsbot.errors import ConfigError
from newsbot.factories import build_llm
from newsbot.settings import get_settings
from tests.loopback_http import serving

REPLY = ["The ", "answer ", "is ", "42 [1]."]


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class OpenAIStub:
    url: str  # http://127.0.0.1:PORT
    requests: list[Recorded] = field(default_factory=list)

    @property
    def last(self) -> Recorded:
        assert self.requests, "the stub received no request"
        return self.requests[-1]


def _handler(stub: OpenAIStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            stub.requests.append(
                Recorded("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            if not self.path.endswith("/chat/completions"):
                self.send_error(404)
                return
            model = body.get("model", "")
            usage = {"prompt_tokens": 11, "completion_tokens": len(REPLY), "total_tokens": 15}
            if body.get("stream"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for i, piece in enumerate(REPLY):
                    delta = (
                        {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
                    )
                    self._event(model, [{"index": 0, "delta": delta, "finish_reason": None}])
                self._event(model, [{"index": 0, "delta": {}, "finish_reason": "stop"}])
                if (body.get("stream_options") or {}).get("include_usage"):
                    self._event(model, [], usage)
                self.wfile.write(b"data: [DONE]\n\n")
                return
            payload = {
                "id": "chatcmpl-stub",
                "object": "chat.completion",
                "created": 0,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "".join(REPLY)},
                        "finish_reason": "stop",
                    }
                ],
                "usage": usage,
            }
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _event(self, model: str, choices: list[Any], usage: Any = None) -> None:
            chunk = {
                "id": "chatcmpl-stub",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": model,
                "choices": choices,
                "usage": usage,
            }
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()

    return Handler


@pytest.fixture
def stub() -> Iterator[OpenAIStub]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(OpenAIStub("")))
    stub = OpenAIStub(f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(stub)
    with serving(server):
        yield stub


def stream_text(llm: Any, question: str = "What is the answer?") -> tuple[str, AIMessageChunk]:
    total: AIMessageChunk | None = None
    for chunk in llm.stream(question):
        total = chunk if total is None else total + chunk
    assert isinstance(total, AIMessageChunk)
    return str(total.content), total


def test_openai_sends_default_model_key_and_path(stub: OpenAIStub) -> None:
    llm = make_chat_model(
        "openai",
        model=None,
        base_url=stub.url + "/v1",
        api_key="sk-test-123",
        temperature=0.2,
        max_tokens=50,
        timeout=10,
    )
    text, total = stream_text(llm)

    assert text == "".join(REPLY)
    request = stub.last
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test-123"
    assert request.body["model"] == "gpt-4o-mini"
    assert request.body["stream"] is True
    assert request.body["stream_options"] == {"include_usage": True}
    assert request.body["temperature"] == 0.2
    assert request.body["max_completion_tokens"] == 50
    assert request.body["messages"] == [{"role": "user", "content": "What is the answer?"}]
    assert total.usage_metadata is not None
    assert total.usage_metadata["input_tokens"] == 11
    assert total.usage_metadata["output_tokens"] == len(REPLY)


def test_openai_compatible_sends_model_and_placeholder_key(stub: OpenAIStub) -> None:
    llm = make_chat_model(
        "openai_compatible", model="llama3.2:1b", base_url=stub.url + "/api/v1/", api_key=None
    )
    text, _ = stream_text(llm)

    assert text == "".join(REPLY)
    assert stub.last.path == "/api/v1/chat/completions"
    assert stub.last.body["model"] == "llama3.2:1b"
    assert stub.last.headers["authorization"] == "Bearer none"


def test_openai_compatible_always_uses_chat_completions(stub: OpenAIStub) -> None:
    # LangChain would route a model named like this to the Responses API, which such servers lack.
    llm = make_chat_model("openai_compatible", model="qwen3-codex", base_url=stub.url + "/v1")
    text, _ = stream_text(llm)

    assert text == "".join(REPLY)
    assert [r.path for r in stub.requests] == ["/v1/chat/completions"]


def test_openai_compatible_with_key_and_without_streaming(stub: OpenAIStub) -> None:
    llm = make_chat_model(
        "openai_compatible", model="m", base_url=stub.url + "/v1", api_key="secret"
    )
    message = llm.model_copy(update={"streaming": False}).invoke("hi")

    assert message.content == "".join(REPLY)
    assert not stub.last.body.get("stream")
    assert stub.last.headers["authorization"] == "Bearer secret"


def test_explicit_values_beat_openai_environment(
    stub: OpenAIStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both variables the SDK and LangChain read point at a closed port with a wrong key.
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_BASE", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
    llm = make_chat_model(
        "openai_compatible", model="m", base_url=stub.url + "/v1", api_key="sk-right"
    )
    stream_text(llm)

    assert stub.last.headers["authorization"] == "Bearer sk-right"


def test_openai_without_base_url_goes_to_openai_despite_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_BASE", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    llm = make_chat_model("openai", model=None, base_url=None, api_key="sk-x")

    assert llm.openai_api_base == OPENAI_BASE_URL
    assert str(llm.root_client.base_url).rstrip("/") == OPENAI_BASE_URL
    assert llm.model_name == "gpt-4o-mini"


def test_settings_resolve_openai_variables_into_the_request(
    stub: OpenAIStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OPENAI_BASE_URL/OPENAI_API_KEY apply when the NEWSBOT_ ones are unset, and lose to them."""
    monkeypatch.setenv("NEWSBOT_LLM_PROVIDER", "openai_compatible")
    monkeypatch.setenv("OPENAI_BASE_URL", stub.url + "/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-openai-env")
    monkeypatch.setenv("NEWSBOT_LLM_MODEL", "qwen2.5:1.5b")

    def build() -> Any:
        return build_llm(get_settings())  # the settings as the product turns them into a model

    stream_text(build())
    assert stub.last.headers["authorization"] == "Bearer sk-from-openai-env"
    assert stub.last.body["model"] == "qwen2.5:1.5b"

    monkeypatch.setenv("NEWSBOT_LLM_API_KEY", "sk-newsbot")
    stream_text(build())
    assert stub.last.headers["authorization"] == "Bearer sk-newsbot"


@dataclass
class StubLocalServer:
    """Stands in for LocalLLMServer: the factory only needs base_url and model_name."""

    base_url: str
    model_name: str = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


def test_local_uses_the_server_address_and_gguf_name(stub: OpenAIStub) -> None:
    made: list[StubLocalServer] = []

    def factory() -> Any:
        made.append(StubLocalServer(stub.url + "/v1"))
        return made[-1]

    llm = make_chat_model("local", local_server_factory=factory, max_tokens=64)
    stream_text(llm)

    assert len(made) == 1
    assert stub.last.path == "/v1/chat/completions"
    assert stub.last.body["model"] == "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    assert stub.last.body["max_completion_tokens"] == 64
    assert stub.last.headers["authorization"] == "Bearer local"
    assert llm.max_retries == 0


def test_missing_key_or_base_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="set OPENAI_API_KEY or NEWSBOT_LLM_API_KEY"):
        make_chat_model("openai", base_url=None, api_key=None)
    with pytest.raises(ConfigError, match="NEWSBOT_LLM_BASE_URL"):
        make_chat_model("openai_compatible", model="m", base_url=None, api_key="k")
    with pytest.raises(ConfigError, match="not an http"):
        make_chat_model("openai_compatible", model="m", base_url="localhost:8000", api_key=None)
    with pytest.raises(ValueError, match="local_server_factory"):
        make_chat_model("local")
