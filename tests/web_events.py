"""Calling one Gradio event over HTTP the way the browser does (queue/join, then queue/data)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx


def gradio_event(
    url: str,
    api_name: str,
    data: list[Any],
    *,
    page_query: str = "",
    session: str | None = None,
    **headers: str,
) -> dict[str, Any]:
    """Call one Gradio event through its queue, as the browser does; the completion message.

    `page_query` is the query string of the page the event is sent from (`since=7d&source=ap`):
    Gradio's client adds it to its queue/join request. `session` is the page's session (a new
    one by default).
    """
    with httpx.Client(timeout=60, headers=headers) as http:
        config = http.get(f"{url}/config").json()
        fn = next(d["id"] for d in config["dependencies"] if d.get("api_name") == api_name)
        session = session or uuid.uuid4().hex
        join = {"data": data, "fn_index": fn, "session_hash": session, "event_data": None}
        query = f"?{page_query}" if page_query else ""
        http.post(f"{url}/gradio_api/queue/join{query}", json=join).raise_for_status()
        with http.stream("GET", f"{url}/gradio_api/queue/data?session_hash={session}") as stream:
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    message: dict[str, Any] = json.loads(line[5:])
                    if message.get("msg") == "process_completed":
                        return message
    raise AssertionError("the event never completed")
