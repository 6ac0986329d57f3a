"""Gradio never fetches a URL for newsbot: every way it has to do so is refused, at the edge and at
the root.

Gradio fetches URLs on a request's behalf in three ways, all outside newsbot's fetch policy
(`ingest/fetching`: the address checks, `NEWSBOT_FETCH_ALLOW_NETWORKS`, the size and time caps):

- `GET`/`HEAD /gradio_api/file=<http(s) URL>` (and `/gradio_api/file/<URL>`, under every mount)
  fetches the URL and streams it back (`route_utils.secure_url_stream_response`): an open proxy;
- a `FileData` whose `path` or `url` is a URL, in an event's input, is downloaded into Gradio's
  cache before the event runs (`processing_utils.async_ssrf_protected_get`);
- `/gradio_api/proxy=<URL>` forwards to the Spaces an app loaded with `gr.load` (none here).

Gradio checks these URLs with `safehttpx`, which counts carrier-grade NAT addresses (a cloud's
metadata address among them) as public and asks a public DNS-over-HTTPS service about names that
resolve privately: an offline server would make outbound requests and leak internal names.

newsbot's pages send only uploaded files and put URLs in the Library's URL box (newsbot's own
fetcher), so none of these is needed. `RemoteFileGuard` answers 403 to the routes before Gradio
sees them; `refuse_gradio_fetches` replaces every function and transport Gradio and safehttpx
fetch with by ones that refuse before any name is resolved or connection made, so a route or
caller the guard does not know cannot fetch either.
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

import httpx
import safehttpx
from fastapi import HTTPException
from gradio import processing_utils, route_utils, routes, static_server
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

REFUSAL = "newsbot does not fetch files given as URLs here; put URLs in the Library's URL box"

# `/gradio_api/file=...`, `/gradio_api/file/...` and `/gradio_api/proxy=...` under any mount.
_FETCHING_ROUTE = re.compile(r"/gradio_api/(?:(file=|file/)|proxy=)(.*)$", re.DOTALL)
# What Gradio or httpx could read as a URL: a scheme (`http:`, `HTTPS:`), or `//host`.
_URL_LIKE = re.compile(r"^\s*(?:[a-z][a-z0-9+.\-]*:|[/\\]{2})", re.IGNORECASE)


def fetching_path(path: str) -> bool:
    """Whether a request path asks Gradio to fetch a URL: any `proxy=`, or `file=`/`file/`
    followed by something URL-like (a local file name is Gradio's own check to make)."""
    match = _FETCHING_ROUTE.search(path)
    if match is None:
        return False
    return match.group(1) is None or bool(_URL_LIKE.match(match.group(2)))


class RemoteFileGuard:
    """Answers 403 to a request that asks Gradio to fetch a URL, before Gradio sees it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and fetching_path(scope["path"]):
            await JSONResponse({"detail": REFUSAL}, 403)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class RefusingTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """An httpx transport, for the synchronous and the async client, that sends nothing: every
    request is an error."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(REFUSAL, request=request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(REFUSAL, request=request)


class RefusingSecureTransport(RefusingTransport):
    """Stands in for `safehttpx.AsyncSecureTransport(verified_ip)`: takes the address, sends
    nothing."""

    def __init__(self, verified_ip: str = "", *args: Any, **kwargs: Any) -> None:
        self.verified_ip = verified_ip


async def _refuse_stream(url: str, request: Any) -> NoReturn:
    raise HTTPException(403, REFUSAL)


async def _refuse_async(*args: Any, **kwargs: Any) -> NoReturn:
    raise httpx.ConnectError(REFUSAL)


def _refuse(*args: Any, **kwargs: Any) -> NoReturn:
    raise httpx.ConnectError(REFUSAL)


async def _resolve_nothing(hostname: str) -> NoReturn:
    raise ValueError(f"{REFUSAL} (not resolving {hostname!r})")


REPLACED: tuple[tuple[Any, str, Any], ...] = (
    # The `file=<URL>` routes: the function and the names it was imported under.
    (route_utils, "secure_url_stream_response", _refuse_stream),
    (routes, "secure_url_stream_response", _refuse_stream),
    (static_server, "secure_url_stream_response", _refuse_stream),
    # safehttpx, for any caller: no name is resolved (neither by the system nor by dns.google).
    (safehttpx, "async_validate_url", _resolve_nothing),
    (safehttpx, "async_resolve_hostname_google", _resolve_nothing),
    (safehttpx, "AsyncSecureTransport", RefusingSecureTransport),
    (safehttpx, "get", _refuse_async),
    # Gradio's downloads of FileData URLs, and the clients and transports they use.
    (processing_utils, "async_ssrf_protected_get", _refuse_async),
    (processing_utils, "async_ssrf_protected_download", _refuse_async),
    (processing_utils, "ssrf_protected_download", _refuse),
    (processing_utils, "save_url_to_cache", _refuse),
    (processing_utils, "unsafe_download", _refuse),
    (processing_utils, "async_transport", RefusingTransport()),
    (processing_utils, "sync_transport", RefusingTransport()),
    (processing_utils, "sync_client", httpx.Client(transport=RefusingTransport())),
    # `/proxy=` (Spaces loaded with gr.load; Gradio refuses other hosts, and so does this).
    (routes, "_proxy_transport", RefusingTransport()),
)
"""(module, attribute, replacement): every way Gradio has to fetch a URL on a request's behalf."""


def refuse_gradio_fetches() -> None:
    """Replace every function and transport in `REPLACED` (idempotent).

    Raises:
        RuntimeError: when one is missing (a new Gradio moved it: look again, then update
            `REPLACED`), so a Gradio upgrade cannot silently reopen a door.
    """
    for module, name, replacement in REPLACED:
        if not hasattr(module, name):
            raise RuntimeError(f"{module.__name__}.{name} is gone: check how Gradio fetches URLs")
        setattr(module, name, replacement)
