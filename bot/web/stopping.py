"""A question whose client went away stops: its queue place is freed and its model call ended.

Without this, a client that disconnects keeps its place in the `AnswerGate` and the model answers
it to the end: a few tiny requests a minute, each dropped at once, keep everyone else at 429.

- `DisconnectWatch` (middleware) gives each answering request a `Stop` (`request_stop`) and sets
  it the moment the client disconnects, before the response is complete: `/api/ask`,
  `/api/ask/stream`, and Gradio's `/gradio_api/queue/data` stream, whose session's running chat
  answers are stopped with it (`SessionStops`).
- `answer_in_worker` runs one answer (waiting for a gate slot included) on a thread of its own and
  hands its events to the event loop; a set `Stop` ends the wait for a slot, closes the answer's
  stream between events, and shuts down the socket its model call is reading, which a blocked read
  (the model still reading the prompt) notices at once.
- `stoppable_http_client` is the model's httpx client, whose sockets a `Stop` reaches; the entry
  point gives it to the model. A model server stops generating when its client's connection
  closes (llama.cpp does).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
import socket
import struct
import threading
import time
from collections import Counter, OrderedDict, defaultdict
from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, TypeVar
from urllib.parse import parse_qs

import httpcore
import httpx
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.web.limits import AnswerGate

log = logging.getLogger(__name__)

T = TypeVar("T")
SCOPE_KEY = "newsbot.stop"
ANSWER_PATHS = ("/api/ask", "/api/ask/stream")
QUEUE_STREAM = "/gradio_api/queue/data"


class Stop:
    """Set once when an answer's client has gone; shuts down the sockets its model call reads."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def set(self) -> None:
        with self._lock:
            self._event.set()
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)

    def watch(self, sock: socket.socket) -> None:
        """`set` shuts `sock` down (a blocked read returns at once); when already set, at once."""
        with self._lock:
            self._sockets.add(sock)
            stopped = self._event.is_set()
        if stopped:
            _shut(sock)


_RESET_ON_CLOSE = struct.pack("ii", 1, 0)
"""SO_LINGER on with a 0 s timeout: closing the socket sends a reset, not a polite FIN."""


def _shut(sock: socket.socket) -> None:
    with suppress(OSError):
        # The connection is closed once the read fails: with a reset, the model server's next
        # write (its next token) fails at once, and it stops generating.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)
        sock.shutdown(socket.SHUT_RDWR)  # a blocked recv returns at once


_current: contextvars.ContextVar[Stop | None] = contextvars.ContextVar("newsbot_stop", default=None)


def answer_stopped() -> bool:
    """Whether the answer running on this thread was stopped (its client went away): an error
    it raises then is the stop's doing (the metrics do not count it as an error)."""
    stop = _current.get()
    return stop is not None and stop.is_set()


# --- the model's transport ---------------------------------------------------------------------


class _WatchedBackend(httpcore.SyncBackend):
    """Gives each new connection's socket to the `Stop` of the answer opening it."""

    def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        stream = super().connect_tcp(*args, **kwargs)
        stop = _current.get()
        if stop is not None:
            stop.watch(stream.get_extra_info("socket"))
        return stream


def stoppable_http_client() -> httpx.Client:
    """An httpx client for the chat model (`make_chat_model(http_client=...)`) whose calls a
    client's disconnect stops: its connections go to the `Stop` of the answer that opened them.

    No connection is kept alive for the next call: each belongs to the one answer that opened
    it (a model server on this machine or network costs no noticeable time to connect to).
    Timeouts are the model client's own (it sets them per request)."""
    transport = httpx.HTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))
    pool: Any = transport._pool  # httpcore's pool: where httpx keeps the network backend
    pool._network_backend = _WatchedBackend()
    return httpx.Client(transport=transport)


# --- noticing a disconnect -----------------------------------------------------------------------


MAX_GONE_SESSIONS = 10_000
"""Sessions remembered as gone (the oldest are forgotten first)."""
LISTENER_GRACE_SECONDS = 2.0
"""How long a chat answer waits for someone to listen for it (Gradio's page and clients open
their stream right after joining the queue) before it is dropped unanswered."""


class SessionStops:
    """The `Stop` of each running chat answer, by the keys its results are streamed under (the
    Gradio session of `queue/data`, the event id of `call/<api>/<event id>`); a key's stream
    disconnecting stops them all, and an answer nobody listens for is not given."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stops: defaultdict[str, set[Stop]] = defaultdict(set)
        self._live: Counter[str] = Counter()  # open streams per key
        self._gone: OrderedDict[str, None] = OrderedDict()

    @contextmanager
    def answering(self, keys: Sequence[str | None], stop: Stop) -> Iterator[None]:
        """Register `stop` as a running answer streamed under `keys`; set at once if such a
        stream is already gone (an answer that waited in Gradio's queue)."""
        names = [key for key in keys if key]
        with self._lock:
            for key in names:
                self._stops[key].add(stop)
            gone = any(key in self._gone for key in names)
        if gone:
            stop.set()
        try:
            yield
        finally:
            with self._lock:
                for key in names:
                    self._stops[key].discard(stop)
                    if not self._stops[key]:
                        del self._stops[key]

    def listened(self, keys: Sequence[str | None]) -> bool:
        """Whether a stream for any of `keys` is open now."""
        with self._lock:
            return any(self._live[key] > 0 for key in keys if key)

    async def wait_for_listener(
        self, keys: Sequence[str | None], grace: float = LISTENER_GRACE_SECONDS
    ) -> bool:
        """Whether a stream for one of `keys` opens within `grace` seconds."""
        deadline = time.monotonic() + grace
        while not self.listened(keys):
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    def opened(self, key: str) -> None:
        with self._lock:
            self._live[key] += 1
            self._gone.pop(key, None)

    def closed(self, key: str, *, disconnected: bool) -> None:
        """A stream for `key` ended; `disconnected`: its client left before the end, which, when
        no other stream for `key` is open, stops the key's answers, and those it starts until a
        stream opens again."""
        with self._lock:
            self._live[key] -= 1
            gone = disconnected and self._live[key] <= 0
            if self._live[key] <= 0:
                del self._live[key]
            stops = list(self._stops.get(key, ())) if gone else []
            if gone:
                self._gone[key] = None
                while len(self._gone) > MAX_GONE_SESSIONS:
                    self._gone.popitem(last=False)
        for stop in stops:
            stop.set()


_CALL_STREAM = re.compile(r"/gradio_api/call/(?:v2/)?[^/]+/([^/]+)$")


def _stream_key(scope: Scope) -> str | None:
    """The key a Gradio result stream listens under: `queue/data`'s session, `call`'s event id;
    None for other paths."""
    path = scope.get("path", "")
    if path.endswith(QUEUE_STREAM):
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        return str(query.get("session_hash", [""])[0])
    found = _CALL_STREAM.search(path)
    return found.group(1) if found else None


class DisconnectWatch:
    """Sets a request's `Stop` when its client disconnects before the response is complete.

    For the answering routes (`ANSWER_PATHS`) and Gradio's result streams (any mount's
    `queue/data` and `call/<api>/<event id>`) it reads the request's messages itself, as they
    come, and hands them on to the app, so a disconnect is seen while the app is busy waiting
    for the model. A result stream is registered in `SessionStops` while it is open.
    """

    def __init__(self, app: ASGIApp, sessions: SessionStops) -> None:
        self.app = app
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        key = _stream_key(scope) if scope["type"] == "http" and scope["method"] == "GET" else None
        if scope["type"] != "http" or not (path in ANSWER_PATHS or key):
            await self.app(scope, receive, send)
            return
        stop = Stop()
        scope[SCOPE_KEY] = stop
        messages: asyncio.Queue[Message] = asyncio.Queue()
        complete = False
        disconnected = False

        async def reader() -> None:
            nonlocal disconnected
            while True:
                message = await receive()
                await messages.put(message)
                if message["type"] == "http.disconnect":
                    if not complete:
                        disconnected = True
                        stop.set()
                        if key:
                            self.sessions.closed(key, disconnected=True)
                    return

        async def watched_send(message: Message) -> None:
            nonlocal complete
            if message["type"] == "http.response.body" and not message.get("more_body"):
                complete = True
            await send(message)

        if key:
            self.sessions.opened(key)
        task = asyncio.create_task(reader())
        try:
            await self.app(scope, messages.get, watched_send)
        finally:
            complete = True
            task.cancel()
            if key and not disconnected:
                self.sessions.closed(key, disconnected=False)


def request_stop(connection: HTTPConnection) -> Stop:
    """The `Stop` `DisconnectWatch` gave this request (a fresh one if it gave none)."""
    stop = connection.scope.get(SCOPE_KEY)
    return stop if isinstance(stop, Stop) else Stop()


# --- one answer on a worker thread --------------------------------------------------------------


_END = object()
"""The worker's last item; an exception it puts is raised here (answers never yield one)."""


async def answer_in_worker(
    gate: AnswerGate, start: Callable[[], Iterator[T]], stop: Stop
) -> AsyncGenerator[T, None]:
    """Wait for a slot of `gate`, then iterate `start()`, on a thread of its own; its items here.

    The thread runs in a copy of the caller's context (Gradio's request, for one), with `stop`
    as the current answer's: set, it ends the wait for a slot (`Stopped`), cuts the model's
    connection, and closes the iterator at its next item, freeing the slot. Leaving the loop
    early (the consumer was cancelled or stopped reading) sets it. Errors are raised here.

    Raises:
        Busy: the queue is full, or the wait for a slot ran out.
        Stopped: `stop` was set while waiting.
    """
    loop = asyncio.get_running_loop()
    items: asyncio.Queue[Any] = asyncio.Queue()

    def put(item: Any) -> None:
        with suppress(RuntimeError):  # the loop is gone (shutdown): nobody is waiting
            loop.call_soon_threadsafe(items.put_nowait, item)

    def work() -> None:
        _current.set(stop)
        try:
            started = gate.acquire(stop)
        except BaseException as exc:
            put(exc)
            return
        try:
            iterator = start()
            try:
                for item in iterator:
                    if stop.is_set():
                        break
                    put(item)
            finally:
                close = getattr(iterator, "close", None)
                if close is not None:
                    close()  # a generator's close ends its model stream
        except BaseException as exc:
            if not stop.is_set():
                put(exc)
            else:
                log.info("answer stopped: its client went away (%s)", type(exc).__name__)
        finally:
            gate.release(started)
            put(_END)

    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(work,), name="newsbot-answer", daemon=True).start()
    try:
        while True:
            item = await items.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
