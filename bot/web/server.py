"""Run the web app with uvicorn: loopback by default, never a public share link.

An open app (no credential) is only served on loopback unless the user passes `--public`.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import fastapi
import uvicorn

from newsbot.errors import ConfigError

log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    """Whether `host` only listens on this machine (localhost, 127.0.0.0/8, ::1)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, *, credentials: bool, public: bool) -> None:
    """Refuse an open app on a network address unless the user said `--public`.

    Raises:
        ConfigError: for a non-loopback `host` with no credential and no `public`.
    """
    if credentials or public or is_loopback(host):
        return
    raise ConfigError(
        f"Refusing to serve on {host} with no credential: anyone who can reach it could use "
        "the chat and the API. Set NEWSBOT_AUTH=user:password and/or NEWSBOT_API_KEY, or pass "
        "--public to serve it open on purpose (the Library tab is then left out)"
    )


def serve(app: fastapi.FastAPI, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Serve `app` until interrupted (call `check_exposure` first)."""
    if not is_loopback(host):
        log.warning("serving on %s:%d, reachable from other machines", host, port)
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
