"""Issue 24 finding 4: input the app cannot use is a 4xx with a JSON reason, never a 500.

Real servers on 127.0.0.1 (one open, one with an API key); the scripted assistant answers, since
what is tested is how the web layer refuses input, not what the model says.
"""

from __future__ import annotations

import base64
import json
import os
import socket
from collections.abc import Iterator

import httpx
import pytest

from bot.web import build_app
from bot.web.server import serving_in_thread
from tests.test_web_api import ScriptedAssistant

pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")

KEY = "k3y-456"


@pytest.fixture(scope="module")
def open_url() -> Iterator[str]:
    with serving_in_thread(build_app(ScriptedAssistant())) as url:
        yield url


@pytest.fixture(scope="module")
def key_url() -> Iterator[str]:
    with serving_in_thread(build_app(ScriptedAssistant(), api_key=KEY)) as url:
        yield url


# Raw JSON bodies: each is valid JSON for Python's parser (FastAPI's), and unusable.
BAD_BODIES = {
    "lone high surrogate": rb'{"question": "\ud800"}',
    "lone low surrogate in a turn": (
        rb'{"question": "Q?", "history": [{"role": "user", "content": "\udfff"}]}'
    ),
    "surrogate in a field name": rb'{"question": "Q?", "\ud800": 1}',
    "NaN date": rb'{"question": "Q?", "as_of": NaN}',
    "Infinity date": rb'{"question": "Q?", "as_of": Infinity}',
    "-Infinity since": rb'{"question": "Q?", "since": -Infinity}',
}


@pytest.mark.parametrize("path", ["/api/ask", "/api/ask/stream"])
@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_unusable_input_is_a_422_with_a_json_reason(open_url: str, path: str, name: str) -> None:
    reply = httpx.post(
        open_url + path,
        content=BAD_BODIES[name],
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert reply.status_code == 422, (name, reply.status_code, reply.text[:200])
    detail = json.loads(reply.content.decode("utf-8"))["detail"]
    assert detail, reply.text
    assert all("msg" in problem for problem in detail), detail


def _upgrade(url: str, path: str, **headers: str) -> str:
    """Send a WebSocket upgrade request over a raw socket; the response's status line."""
    host, port = url.removeprefix("http://").split(":")
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return sock.recv(4096).decode("latin-1").split("\r\n", 1)[0]


@pytest.mark.parametrize(
    "path", ["/gradio_api/queue/data", "/widget/gradio_api/queue/data", "/api/ask"]
)
def test_a_websocket_without_a_credential_is_refused_not_a_500(key_url: str, path: str) -> None:
    for headers in ({}, {"Cookie": "newsbot_session=forged"}):
        status = _upgrade(key_url, path, **headers)
        assert status.split(" ")[1] == "403", (path, headers, status)
