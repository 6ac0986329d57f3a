"""Gradio never fetches a URL for newsbot: a file given as a URL is refused, not downloaded.

Gradio downloads a `FileData` whose `path` is an http(s) URL before the event runs (to move it
into its cache), through `safehttpx`. That path ignores newsbot's fetch policy
(`ingest/fetching`: the address checks, `NEWSBOT_FETCH_ALLOW_NETWORKS`, the size and time caps):
safehttpx counts some metadata and carrier-grade NAT addresses as public, and asks a public DNS
service about names that resolve privately. A browser could so make the server fetch internal
URLs by putting one in the Library's file field. newsbot's pages send only uploaded files, and
URLs go in the URL box (newsbot's own fetcher), so Gradio's fetching is switched off: its
transport refuses every request before any name is resolved or connection made.
"""

from __future__ import annotations

import httpx
from gradio import processing_utils

REFUSAL = "newsbot does not fetch files given as URLs here; put URLs in the Library's URL box"


class RefusingTransport(httpx.AsyncBaseTransport):
    """An httpx transport that sends nothing: every request is an error."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(REFUSAL, request=request)


def refuse_gradio_fetches() -> None:
    """Make every download Gradio would start on a request's behalf fail without a connection
    (safehttpx uses a given transport instead of resolving and checking the host itself)."""
    if not isinstance(processing_utils.async_transport, RefusingTransport):
        # Typed None in Gradio, read as `_transport` by safehttpx, which takes any transport.
        processing_utils.async_transport = RefusingTransport()  # type: ignore[assignment]
