"""Issue 24 finding 1: Gradio fetches no URL for anyone, on any route, under any mount.

A real open server on 127.0.0.1 (no credential, as `serve --public` runs), on the asyncio event
loop, so every name the server process would resolve goes through `socket.getaddrinfo`. The test
replaces that with a stub resolver (loopback names pass through, any other name is recorded and
"resolves" to 100.100.100.200, a cloud metadata address safehttpx counts as public), and httpx's
async transport with one that records what would have been fetched and sends nothing. So no
request ever leaves this machine and no DNS server is asked, whatever the code under test does.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bot.web import build_app
from bot.web.server import serving_in_thread
from tests.test_web_api import ScriptedAssistant

pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")

METADATA = "100.100.100.200"
LOCAL_NAMES = ("127.0.0.1", "localhost", "::1", None)


class Recorder:
    """What the server process resolved and what it would have fetched."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.fetched: list[str] = []


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """A stub resolver and a recording transport for the whole process (the server's thread)."""
    seen = Recorder()
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name in LOCAL_NAMES or (isinstance(name, str) and name.startswith("127.")):
            return real_getaddrinfo(host, port, *args, **kwargs)
        seen.names.append(str(name))
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (METADATA, port or 0))]

    async def record(self: Any, request: httpx.Request) -> httpx.Response:
        seen.fetched.append(f"{request.url} (Host: {request.headers.get('host')})")
        return httpx.Response(
            200, stream=httpx.ByteStream(b"instance credentials"), request=request
        )

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", record)
    return seen


@pytest.fixture(scope="module")
def open_url() -> Iterator[str]:
    """An open app (no credential) on the asyncio loop, so the stub resolver sees every name."""
    with serving_in_thread(build_app(ScriptedAssistant()), loop="asyncio") as url:
        yield url


TARGETS = (
    f"http://{METADATA}/latest/meta-data/iam",
    "http://metadata.internal/computeMetadata/v1/",
    "https://intranet.corp.example/payroll.pdf",
    "HTTP://metadata.internal/upper-case-scheme",
    "http%3A%2F%2Fmetadata.internal%2Fencoded",
)
ROUTES = ("/gradio_api/file={}", "/gradio_api/file/{}", "/gradio_api/proxy={}")


@pytest.mark.parametrize("mount", ["", "/widget"])
def test_no_route_fetches_a_url(open_url: str, recorder: Recorder, mount: str) -> None:
    with httpx.Client(timeout=30) as http:
        for route in ROUTES:
            for target in TARGETS:
                for method in ("GET", "HEAD"):
                    path = mount + route.format(target)
                    reply = http.request(method, open_url + path)
                    assert reply.status_code in (400, 403, 404), (method, path, reply.status_code)
                    assert b"instance credentials" not in reply.content, (method, path)
    assert recorder.fetched == []
    assert recorder.names == []


def test_a_local_file_route_still_answers(open_url: str, recorder: Recorder) -> None:
    """The guard refuses URLs only: Gradio still judges local names itself (403, not ours)."""
    reply = httpx.get(open_url + "/gradio_api/file=/etc/hostname", timeout=30)
    assert reply.status_code == 403
    assert "newsbot does not fetch" not in reply.text
    assert recorder.fetched == []


def test_every_fetching_function_refuses_without_resolving(
    open_url: str, recorder: Recorder
) -> None:
    """At the root: any caller of Gradio's or safehttpx's fetching (a route the guard does not
    know, a component's download) fails before a name is resolved or a connection made."""
    import safehttpx
    from gradio import processing_utils, route_utils, routes

    from bot.web.no_remote_files import REFUSAL

    url = "http://metadata.internal/latest"
    calls = [
        lambda: safehttpx.get(url),
        lambda: safehttpx.async_validate_url("metadata.internal"),
        lambda: safehttpx.async_resolve_hostname_google("metadata.internal"),
        lambda: processing_utils.async_ssrf_protected_get(url),
        lambda: processing_utils.async_ssrf_protected_download(url, "/tmp"),
        lambda: route_utils.secure_url_stream_response(url, None),
        lambda: routes.secure_url_stream_response(url, None),
    ]
    for call in calls:
        with pytest.raises(Exception, match=REFUSAL):
            asyncio.run(call())
    for sync_call in (
        lambda: processing_utils.save_url_to_cache(url, "/tmp"),
        lambda: processing_utils.unsafe_download(url, "/tmp"),
        lambda: processing_utils.sync_client.get(url),
    ):
        with pytest.raises(Exception, match=REFUSAL):
            sync_call()

    async def through_transports() -> None:
        transports = (
            processing_utils.async_transport,
            routes._proxy_transport,
            safehttpx.AsyncSecureTransport(METADATA),
        )
        for transport in transports:
            async with httpx.AsyncClient(transport=transport) as client:
                with pytest.raises(httpx.ConnectError, match=REFUSAL):
                    await client.get(url)

    asyncio.run(through_transports())
    assert recorder.fetched == []
    assert recorder.names == []
