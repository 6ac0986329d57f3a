"""Run the web app with uvicorn: loopback by default, never a public share link."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import fastapi
import uvicorn

log = logging.getLogger(__name__)

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def serve(app: fastapi.FastAPI, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Serve `app` until interrupted; binding beyond loopback is logged as a warning."""
    if host not in LOOPBACK:
        log.warning(
            "serving on %s:%d, reachable from other machines; set NEWSBOT_AUTH and "
            "NEWSBOT_API_KEY unless this network is trusted",
            host,
            port,
        )
    log.info("newsbot web app on http://%s:%d/ (widget at /widget/, API at /api/)", host, port)
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)


@contextmanager
def serving_in_thread(app: fastapi.FastAPI, start_timeout: float = 30.0) -> Iterator[str]:
    """Run `app` on a free loopback port in a background thread; yields its base URL.

    For tests and scripts that drive the real app (a browser, screenshots) in the same process.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the web server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
