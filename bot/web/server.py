"""Run the web app with uvicorn: loopback by default, never a public share link.

An open app (no credential) is only served on loopback unless the user passes `--public`. The
request log has a line per action (a POST: a question, an upload, a sign-in) and per failed
request, none for the pages, assets and event streams a browser fetches by the dozen; `quiet`
keeps warnings and errors only.
"""

from __future__ import annotations

import copy
import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import fastapi
import uvicorn

from bot.web.json_logs import use_json
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


def serving_line(host: str, port: int) -> str:
    """What to open, said once the server listens: "newsbot is serving on http://127.0.0.1:7860/
    (widget: /widget/, API: /api/docs); Ctrl-C stops it"."""
    name = host.strip("[]")
    where = ""
    if name in ("", "0.0.0.0", "::"):
        # Every address of this machine: the loopback one opens here, whatever the network.
        where, name = " every address of this machine, here", "127.0.0.1"
    shown = f"[{name}]" if ":" in name else name
    return (
        f"newsbot is serving on{where} http://{shown}:{port}/ (widget: /widget/, API: /api/docs); "
        "Ctrl-C stops it"
    )


class _AnnouncingServer(uvicorn.Server):
    """uvicorn's server, which says where it serves once its socket listens (not before: a URL
    printed while the app is still loading would not open)."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[str], None]) -> None:
        super().__init__(config)
        self.on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.on_ready(serving_line(self.config.host, bound_port(self)))


def bound_port(server: uvicorn.Server) -> int:
    """The port a started server listens on (port 0 picks a free one)."""
    port = server.servers[0].sockets[0].getsockname()[1] if server.servers else 0
    return int(port or server.config.port)


class ActionsOnly(logging.Filter):
    """uvicorn's access log without the successful GETs (pages, scripts, styles, fonts, the
    answer's event stream, heartbeats: hundreds an hour for one open chat) and the page's own
    small events (`/gradio_api/run/predict`: the header's and the Library's refresh every 15 s,
    the chat's after-answer steps): what is left is a line per question (to the chat, the widget
    or /api/ask), upload, sign-in and other POST, and per request that failed."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not isinstance(args, tuple) or len(args) != 5:  # not uvicorn's request line
            return True
        method, path, status = args[1], str(args[2]), args[4]
        if not isinstance(status, int) or status >= 400:
            return True
        page_event = method == "POST" and path.split("?")[0].endswith("/gradio_api/run/predict")
        return method != "GET" and not page_event


def log_config(json_lines: bool = False) -> dict[str, Any]:
    """uvicorn's logging configuration with `ActionsOnly` on its access log; `json_lines`: as
    JSON, with a line per answer (`bot.web.json_logs`)."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["filters"] = {"actions_only": {"()": ActionsOnly}}
    config["handlers"]["access"]["filters"] = ["actions_only"]
    return use_json(config) if json_lines else config


def server_config(
    app: fastapi.FastAPI,
    host: str,
    port: int,
    trusted_proxies: Sequence[str] = (),
    log_level: str = "info",
    loop: str = "auto",
    json_lines: bool = False,
) -> uvicorn.Config:
    """uvicorn's settings: the forwarded headers are read only from `trusted_proxies`; the access
    log as `ActionsOnly` says, and none below `log_level` "info".

    `loop` is uvicorn's event loop choice (`auto`: uvloop when installed; `asyncio` resolves names
    through `socket.getaddrinfo`, which a test can stub)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        log_config=log_config(json_lines),
        loop=loop,
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=list(trusted_proxies) or None,
    )


def serve(
    app: fastapi.FastAPI,
    host: str = "127.0.0.1",
    port: int = 7860,
    on_ready: Callable[[str], None] | None = None,
    trusted_proxies: Sequence[str] = (),
    quiet: bool = False,
    json_lines: bool = False,
) -> None:
    """Serve `app` until interrupted (call `check_exposure` first).

    `on_ready` receives `serving_line` once the server listens (the CLI prints it whatever the
    logging level); without it the line is logged at INFO. Requests from `trusted_proxies` carry
    the client's address and scheme in X-Forwarded-For and X-Forwarded-Proto. `quiet` logs no
    request and no uvicorn progress line, only warnings and errors. `json_lines` writes the
    logs as JSON (`NEWSBOT_LOG_FORMAT=json`, `bot.web.json_logs`).
    """
    if not is_loopback(host):
        log.warning("serving on %s:%d, reachable from other machines", host, port)
    level = "warning" if quiet else "info"
    config = server_config(app, host, port, trusted_proxies, level, json_lines=json_lines)
    server = _AnnouncingServer(config, on_ready or log.info)
    with suppress(KeyboardInterrupt):  # as uvicorn.run: Ctrl-C is the way to stop
        server.run()


@contextmanager
def serving_in_thread(
    app: fastapi.FastAPI,
    start_timeout: float = 30.0,
    trusted_proxies: Sequence[str] = (),
    loop: str = "auto",
) -> Iterator[str]:
    """Run `app` on a free loopback port in a background thread; yields its base URL.

    For tests and scripts that drive the real app (a browser, screenshots) in the same process.
    `loop` as for `server_config`.
    """
    server = uvicorn.Server(server_config(app, "127.0.0.1", 0, trusted_proxies, "warning", loop))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the web server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{bound_port(server)}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
