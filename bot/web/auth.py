"""One auth rule for every door: the credentials, the sessions and the middleware checking them.

When a credential is configured (`NEWSBOT_AUTH` user:password and/or `NEWSBOT_API_KEY`), every
route needs one, except the login page and static assets: the chat, the widget, Gradio's
`/gradio_api/*` (queue, upload, cancel, files), `/api/*` (health and docs included). A request
proves itself with any of:

- `Authorization: Bearer <api key>`;
- `Authorization: Basic` with the configured user and password;
- the session cookie the login page sets (password: the configured one, or the API key).

Gradio's own login is not used: it guards only part of the mounted apps and its cookie is
`SameSite=None`. Ours is `HttpOnly; SameSite=Lax`, so other sites cannot ride it.

Sessions and failed sign-ins are kept in `LoginRecords`: in memory by default, or in the
deployment's database (`newsbot.login_records`), so that every replica of a scaled-out
deployment honours a sign-in made on another and counts the same failures.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

SESSION_COOKIE = "newsbot_session"
SESSION_SECONDS = 12 * 3600
LOGIN_PATHS = ("/login", "/login/", "/widget/login", "/widget/login/")
# Gradio's built frontend and icons: public files, needed to draw the pages (not user data).
STATIC_PREFIXES = ("/assets/", "/static/", "/svelte/", "/widget/assets/", "/widget/static/")
STATIC_FILES = ("/favicon.ico", "/widget/favicon.ico", "/widget/gradio.js")
MAX_LOGIN_FAILURES = 10
HEADER_FAILURES = 50
"""Wrong Authorization headers allowed per address and window (scripts retry more than people)."""
LOGIN_WINDOW_SECONDS = 300.0


@dataclass(frozen=True)
class Credentials:
    """What the app accepts; `configured` is False when both are unset (an open app)."""

    login: tuple[str, str] | None = None
    api_key: str | None = None

    def fingerprint(self) -> bytes:
        """A digest of the credentials: equal for equal credentials, changed by any change."""
        return hashlib.sha256(json.dumps([self.login, self.api_key]).encode("utf-8")).digest()

    @property
    def configured(self) -> bool:
        return self.login is not None or bool(self.api_key)

    def password_ok(self, user: str, password: str) -> bool:
        """The login pair, or (any user name) the API key as the password."""
        ok = False
        if self.login is not None:
            user_ok = _same(user.strip(), self.login[0])
            ok = user_ok and _same(password, self.login[1])
        if self.api_key:
            ok = _same(password, self.api_key) or ok
        return ok

    def header_ok(self, authorization: str) -> bool:
        """`Bearer <api key>`, or `Basic` with the login pair."""
        scheme, _, value = authorization.strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer" and self.api_key:
            return _same(value, self.api_key)
        if scheme.lower() == "basic" and self.login is not None:
            try:
                decoded = base64.b64decode(value, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return False
            user, sep, password = decoded.partition(":")
            return bool(sep) and self.password_ok(user, password)
        return False


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class LoginRecords(Protocol):
    """Where sessions and failed sign-ins are kept. Times are seconds since the epoch (machines
    share a clock); a session is known by a hash of its token, never the token itself."""

    def add_session(self, key: str, expires: float) -> None: ...

    def session_expires(self, key: str) -> float | None: ...

    def end_session(self, key: str) -> None: ...

    def add_failure(self, client: str, kind: str, at: float) -> None: ...

    def failures_since(self, client: str, kind: str, since: float) -> list[float]:
        """The times of `client`'s failures of `kind` after `since`, oldest first."""
        ...


class MemoryLoginRecords:
    """`LoginRecords` in this process's memory (one server; a restart logs everyone out)."""

    def __init__(self) -> None:
        self._sessions: dict[str, float] = {}
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def add_session(self, key: str, expires: float) -> None:
        now = time.time()
        with self._lock:
            # Drop expired sessions so the table cannot grow without bound.
            self._sessions = {k: end for k, end in self._sessions.items() if end > now}
            self._sessions[key] = expires

    def session_expires(self, key: str) -> float | None:
        with self._lock:
            return self._sessions.get(key)

    def end_session(self, key: str) -> None:
        with self._lock:
            self._sessions.pop(key, None)

    def add_failure(self, client: str, kind: str, at: float) -> None:
        with self._lock:
            if len(self._failures) > 10_000:  # many addresses: forget those with no recent one
                cutoff = at - LOGIN_WINDOW_SECONDS
                self._failures = {k: t for k, t in self._failures.items() if t and t[-1] > cutoff}
            self._failures.setdefault((client, kind), deque(maxlen=1000)).append(at)

    def failures_since(self, client: str, kind: str, since: float) -> list[float]:
        with self._lock:
            return [t for t in self._failures.get((client, kind), ()) if t > since]


class Sessions:
    """Login sessions: random tokens with an expiry, kept in `records` under a key that the
    credentials sign, so a session ends when the password or API key it was opened under is
    changed (records outlive restarts: replicas share them)."""

    def __init__(
        self,
        lifetime: float = SESSION_SECONDS,
        records: LoginRecords | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        self.lifetime = lifetime
        self.records: LoginRecords = records if records is not None else MemoryLoginRecords()
        self._secret = (credentials or Credentials()).fingerprint()

    def key(self, token: str) -> str:
        """Where a session token is recorded: an HMAC of it under the credentials."""
        return hmac.new(self._secret, token.encode("utf-8"), hashlib.sha256).hexdigest()

    def create(self) -> str:
        token = secrets.token_urlsafe(32)
        self.records.add_session(self.key(token), time.time() + self.lifetime)
        return token

    def valid(self, token: str | None) -> bool:
        if not token:
            return False
        end = self.records.session_expires(self.key(token))
        return end is not None and end > time.time()

    def end(self, token: str | None) -> None:
        if token:
            self.records.end_session(self.key(token))


class Throttle:
    """At most `limit` wrong credentials of one `kind` per client address in
    LOGIN_WINDOW_SECONDS, counted in `records` (shared by the replicas that share them)."""

    def __init__(
        self,
        limit: int = MAX_LOGIN_FAILURES,
        kind: str = "login",
        records: LoginRecords | None = None,
    ) -> None:
        self.limit = limit
        self.kind = kind
        self.records: LoginRecords = records if records is not None else MemoryLoginRecords()

    def retry_after(self, client: str) -> int:
        """Seconds until `client` may try again; 0 when it may now."""
        now = time.time()
        times = self.records.failures_since(client, self.kind, now - LOGIN_WINDOW_SECONDS)
        if len(times) < self.limit:
            return 0
        oldest_counted = times[-self.limit]
        return max(1, int(oldest_counted + LOGIN_WINDOW_SECONDS - now) + 1)

    def failed(self, client: str) -> None:
        self.records.add_failure(client, self.kind, time.time())


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "?"


def too_many(wait: int) -> Response:
    return JSONResponse(
        {"detail": f"Too many wrong credentials from this address; try again in {wait} s"},
        status_code=429,
        headers={"Retry-After": str(wait)},
    )


def is_public_path(path: str) -> bool:
    """The login page and Gradio's static files: the only routes open without a credential."""
    if ".." in path or "\\" in path:
        return False
    return path in LOGIN_PATHS or path in STATIC_FILES or path.startswith(STATIC_PREFIXES)


class AuthMiddleware:
    """Lets a request through only with a credential, unless the app is open or the path public.

    CORS preflights never get here: the CORS layer outside answers them. Wrong `Authorization`
    headers count against the sender's address like wrong sign-ins (HEADER_FAILURES allowed).
    """

    def __init__(self, app: ASGIApp, credentials: Credentials, sessions: Sessions) -> None:
        self.app = app
        self.credentials = credentials
        self.sessions = sessions
        self.throttle = Throttle(HEADER_FAILURES, "header", sessions.records)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = self.refusal(scope) if scope["type"] in ("http", "websocket") else None
        if refusal is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            await refusal(scope, receive, send)

    def refusal(self, scope: Scope) -> Response | None:
        """None when the request may pass; else the response that refuses it."""
        if not self.credentials.configured or is_public_path(scope["path"]):
            return None
        authorization = Headers(scope=scope).get("authorization")
        if authorization is None:
            # HTTPConnection reads cookies of both HTTP and WebSocket scopes (Request: HTTP only).
            valid = self.sessions.valid(HTTPConnection(scope).cookies.get(SESSION_COOKIE))
            return None if valid else _refusal(scope)
        client = client_address(scope)
        wait = self.throttle.retry_after(client)
        if wait:
            return too_many(wait)
        if self.credentials.header_ok(authorization):
            return None
        self.throttle.failed(client)
        return _refusal(scope)


def _refusal(scope: Scope) -> Response:
    headers = Headers(scope=scope)
    if scope.get("method") in ("GET", "HEAD") and "text/html" in headers.get("accept", ""):
        query = scope["query_string"].decode("latin-1")
        target = scope["path"] + (f"?{query}" if query else "")
        login = "/widget/login" if scope["path"].startswith("/widget") else "/login"
        return RedirectResponse(f"{login}?next={quote(target, safe='/')}", status_code=303)
    detail = (
        "Sign in first: send 'Authorization: Bearer <API key>' (or HTTP Basic with the user "
        "and password), or sign in at /login"
    )
    # Bearer only: a Basic challenge would make browsers pop up their own password dialog.
    return JSONResponse({"detail": detail}, 401, headers={"WWW-Authenticate": "Bearer"})
