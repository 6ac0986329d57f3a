"""Issue 24 finding 2: a client that goes away gives up its queue place and stops its model call.

The real app, assistant, store and embedder, and the model client exactly as `newsbot serve`
builds it (`make_chat_model` over `stoppable_http_client`), against a small OpenAI-compatible
server on 127.0.0.1 that behaves like llama.cpp with one slot: one completion at a time, the
others waiting for the slot; it reads the prompt for a while before its first token, then
streams slowly, and stops generating when its client's connection closes. It records when each
question's generation ended and whether it ran to the end.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import fastapi
import httpx
import pytest
from fastapi.responses import StreamingResponse

from bot.llm.providers import make_chat_model
from bot.web.server import serving_in_thread
from bot.web.stopping import stoppable_http_client
from tests.test_web_limits import ANSWER, harbour_app

pytestmark = [
    pytest.mark.server,
    pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning"),
]

PROMPT_SECONDS = 1.5
"""The model 'reads the prompt' this long before its first token (no bytes sent meanwhile)."""
TOKEN_SECONDS = 0.05
CLIENT_PATIENCE = 0.6
"""How long each disconnecting client waits before it hangs up."""
CLIENT_TAG = re.compile(r"client (\d+)")


class OneSlotStreamingModel:
    """An OpenAI-compatible chat server with one slot, streaming slowly, like llama.cpp."""

    def __init__(self) -> None:
        self.app = fastapi.FastAPI()
        self.app.add_api_route("/v1/chat/completions", self.complete, methods=["POST"])
        self.slot: asyncio.Lock | None = None
        self.lock = threading.Lock()
        self.ended: dict[str, float] = {}  # client tag -> when its generation ended
        self.finished: list[str] = []  # tags whose answer was generated to the end
        self.calls = 0

    async def complete(self, body: dict[str, Any]) -> StreamingResponse:
        prompt = " ".join(str(m.get("content", "")) for m in body["messages"])
        found = CLIENT_TAG.search(prompt)
        tag = found.group(1) if found else "?"
        if self.slot is None:
            self.slot = asyncio.Lock()
        slot = self.slot

        async def generate() -> AsyncIterator[str]:
            done = False
            try:
                async with slot:  # waiting for the slot, as on the real server
                    with self.lock:
                        self.calls += 1
                    await asyncio.sleep(PROMPT_SECONDS)
                    for i in range(0, len(ANSWER), 3):
                        yield _chunk({"content": ANSWER[i : i + 3]})
                        await asyncio.sleep(TOKEN_SECONDS)
                    yield _chunk({}, finish="stop")
                    yield "data: [DONE]\n\n"
                    done = True
            finally:
                with self.lock:
                    self.ended[tag] = time.monotonic()
                    if done:
                        self.finished.append(tag)

        return StreamingResponse(generate(), media_type="text/event-stream")


def _chunk(delta: dict[str, str], finish: str | None = None) -> str:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    line = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m"}
    return f"data: {json.dumps({**line, 'choices': [choice]})}\n\n"


@pytest.fixture
def model() -> Iterator[tuple[OneSlotStreamingModel, str]]:
    fake = OneSlotStreamingModel()
    with serving_in_thread(fake.app) as url:
        yield fake, url


@pytest.fixture
def app_url(
    tmp_path_factory: pytest.TempPathFactory, model: tuple[OneSlotStreamingModel, str]
) -> Iterator[str]:
    """The web app as `newsbot serve` wires it: one answer at a time, four waiting."""
    llm = make_chat_model(
        "openai_compatible",
        base_url=model[1] + "/v1",
        timeout=60,
        http_client=stoppable_http_client(),
    ).model_copy(update={"max_retries": 0})
    app = harbour_app(tmp_path_factory.mktemp("disconnect-store"), llm, queued=4, wait=120)
    with serving_in_thread(app) as url:
        yield url


def question(n: int) -> str:
    return f"What did the harbour council approve? (client {n})"


def hang_up(url: str, n: int) -> float:
    """Ask, give up after CLIENT_PATIENCE seconds (closing the connection); when it hung up."""
    path = "/api/ask/stream" if n % 2 else "/api/ask"
    try:
        reply = httpx.post(url + path, json={"question": question(n)}, timeout=CLIENT_PATIENCE)
        reply.read()
    except httpx.TimeoutException:
        return time.monotonic()
    raise AssertionError(f"client {n} was answered ({reply.status_code}) before it hung up")


def test_ten_clients_that_hang_up_leave_the_model_to_the_next(
    app_url: str, model: tuple[OneSlotStreamingModel, str]
) -> None:
    fake = model[0]
    gone = {str(n): hang_up(app_url, n) for n in range(10)}

    started = time.monotonic()
    reply = httpx.post(app_url + "/api/ask", json={"question": question(99)}, timeout=120)
    waited = time.monotonic() - started

    assert reply.status_code == 200, reply.text
    assert "two new piers" in reply.json()["answer"]
    # Without stopping, the queue held the ten (five of them, then 429s) for a minute or more.
    assert waited < PROMPT_SECONDS + 3 * len(ANSWER) * TOKEN_SECONDS + 5
    assert fake.finished == ["99"], "only the client that stayed had its answer generated"
    for tag, ended in fake.ended.items():
        if tag != "99":
            assert ended - gone[tag] < 1.0, f"client {tag}'s generation went on after it left"


def _gradio_hang_up(url: str, n: int) -> None:
    """Join the chat's queue as the browser does, read the stream briefly, then close it."""
    with httpx.Client(timeout=30) as http:
        config = http.get(f"{url}/config").json()
        fn = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "chat")
        session = uuid.uuid4().hex
        join = {"data": [question(n), []], "fn_index": fn, "session_hash": session}
        http.post(f"{url}/gradio_api/queue/join", json={**join, "event_data": None})
        deadline = time.monotonic() + CLIENT_PATIENCE
        data = f"{url}/gradio_api/queue/data?session_hash={session}"
        with http.stream("GET", data, timeout=CLIENT_PATIENCE) as stream:
            try:
                for _ in stream.iter_lines():
                    if time.monotonic() > deadline:
                        break
            except httpx.ReadTimeout:
                pass  # no message within its patience: it hangs up all the same


def test_chat_sessions_that_hang_up_leave_the_model_to_the_next(
    app_url: str, model: tuple[OneSlotStreamingModel, str]
) -> None:
    fake = model[0]
    for n in range(6):
        _gradio_hang_up(app_url, n)
    time.sleep(1.0)  # a second for the last one to be noticed

    reply = httpx.post(app_url + "/api/ask", json={"question": question(99)}, timeout=120)

    assert reply.status_code == 200, reply.text
    assert fake.finished == ["99"], fake.finished


def test_chat_questions_nobody_listens_for_are_not_answered(
    app_url: str, model: tuple[OneSlotStreamingModel, str]
) -> None:
    """Joining Gradio's queue returns at once: a client that never opens the stream for its
    answer holds no connection, and used to have the model answer it all the same."""
    fake = model[0]
    with httpx.Client(timeout=30) as http:
        config = http.get(f"{app_url}/config").json()
        fn = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "chat")
        for n in range(6):
            join = {"data": [question(n), []], "fn_index": fn, "session_hash": uuid.uuid4().hex}
            joined = http.post(
                f"{app_url}/gradio_api/queue/join", json={**join, "event_data": None}
            )
            assert joined.status_code == 200, joined.text

    reply = httpx.post(app_url + "/api/ask", json={"question": question(99)}, timeout=120)

    assert reply.status_code == 200, reply.text
    assert fake.finished == ["99"], fake.finished
    assert set(fake.ended) == {"99"}, "the model was never asked for the others"


def test_a_session_is_gone_only_when_its_last_stream_disconnects() -> None:
    from bot.web.stopping import SessionStops, Stop

    sessions = SessionStops()
    sessions.opened("s1")
    sessions.opened("s1")  # the page opened a new stream before the old one was torn down
    first = Stop()
    with sessions.answering(["s1", None], first):
        sessions.closed("s1", disconnected=True)
        assert not first.is_set(), "the session still listens on its other stream"
        assert sessions.listened(["s1"])
        sessions.closed("s1", disconnected=True)
        assert first.is_set()
    late = Stop()
    with sessions.answering(["s1"], late):
        assert late.is_set(), "an answer that waited in Gradio's queue for a gone session"
    sessions.opened("s1")
    again = Stop()
    with sessions.answering(["s1"], again):
        sessions.closed("s1", disconnected=False)  # the stream ended: the answer was sent
        assert not again.is_set()


@pytest.mark.slow
def test_the_local_model_stops_generating_when_its_client_goes_away(local_llm: Any) -> None:
    """The bundled llama.cpp server, as `newsbot serve` reaches it: stopping an answer mid-stream
    frees its slot within a few tokens' time, where it would go on for up to 300 tokens."""
    from bot.web.limits import AnswerGate
    from bot.web.stopping import Stop, answer_in_worker

    address = local_llm.start()
    llm = make_chat_model(
        "local",
        local_server_factory=lambda: local_llm,
        max_tokens=300,
        http_client=stoppable_http_client(),
    )
    stop = Stop()
    seen: list[float] = []

    def generating() -> bool:
        slots = httpx.get(address + "/slots", timeout=10).json()
        return any(slot.get("is_processing") for slot in slots)

    async def hang_up_after_a_few_words() -> None:
        story = "Write a long story, at least 300 words, about a harbour town."
        outputs = answer_in_worker(AnswerGate(), lambda: iter(llm.stream(story)), stop)
        async for _ in outputs:
            seen.append(time.monotonic())
            if len(seen) == 4:
                assert generating()
                stop.set()  # the client is gone while the model generates

    asyncio.run(hang_up_after_a_few_words())
    stopped = seen[3]
    per_token = (seen[3] - seen[1]) / 2
    while generating():
        time.sleep(0.05)
    idle_after = time.monotonic() - stopped
    # The ~296 tokens left would take 296 * per_token; llama.cpp notices the closed connection at
    # its next token or its next look at the connection (about a second).
    assert idle_after < 2.0 + 4 * per_token, (idle_after, per_token)
    assert idle_after < 296 * per_token / 5, (idle_after, per_token)
