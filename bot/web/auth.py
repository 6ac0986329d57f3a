"""One auth rule for every door: the credentials, the login page and the middleware checking them.

When a credential is configured (`NEWSBOT_AUTH` user:password and/or `NEWSBOT_API_KEY`), every
route needs one, except the login page and static assets: the chat, the widget, Gradio's
`/gradio_api/*` (queue, upload, cancel, files), `/api/*` (health and docs included). A request
proves itself with any of:

- `Authorization: Bearer <api key>`;
- `Authorization: Basic` with the configured user and password;
- the session cookie the login page sets (password: the configured one, or the API key).

Gradio's own login is not used: it guards only part of the mounted apps and its cookie is
`SameSite=None`. Ours is `HttpOnly; SameSite=Lax`, so other sites cannot ride it.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import html
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, quote

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

SESSION_COOKIE = "newsbot_session"
SESSION_SECONDS = 12 * 3600
LOGIN_PATHS = ("/login", "/login/", "/widget/login", "/widget/login/")
# Gradio's built frontend and icons: public files, needed to draw the pages (not user data).
STATIC_PREFIXES = ("/assets/", "/static/", "/svelte/", "/widget/assets/", "/widget/static/")
STATIC_FILES = ("/favicon.ico", "/widget/favicon.ico", "/widget/gradio.js")
MAX_LOGIN_FAILURES = 10
LOGIN_WINDOW_SECONDS = 300.0


@dataclass(frozen=True)
class Credentials:
    """What the app accepts; `configured` is False when both are unset (an open app)."""

    login: tuple[str, str] | None = None
    api_key: str | None = None

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


class Sessions:
    """Login sessions held in memory: random tokens with an expiry (a restart logs everyone out)."""

    def __init__(self, lifetime: float = SESSION_SECONDS) -> None:
        self.lifetime = lifetime
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()

    def create(self) -> str:
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            # Drop expired sessions so the table cannot grow without bound.
            self._tokens = {t: end for t, end in self._tokens.items() if end > now}
            self._tokens[token] = now + self.lifetime
        return token

    def valid(self, token: str | None) -> bool:
        if not token:
            return False
        with self._lock:
            end = self._tokens.get(token)
        return end is not None and end > time.monotonic()

    def end(self, token: str | None) -> None:
        with self._lock:
            self._tokens.pop(token or "", None)


class LoginThrottle:
    """At most MAX_LOGIN_FAILURES wrong passwords per client address in LOGIN_WINDOW_SECONDS."""

    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        times = self._failures.setdefault(client, deque())
        while times and times[0] < now - LOGIN_WINDOW_SECONDS:
            times.popleft()
        return times

    def retry_after(self, client: str) -> int:
        """Seconds until `client` may try again; 0 when it may now."""
        now = time.monotonic()
        with self._lock:
            times = self._recent(client, now)
            if len(times) < MAX_LOGIN_FAILURES:
                return 0
            return max(1, int(times[0] + LOGIN_WINDOW_SECONDS - now) + 1)

    def failed(self, client: str) -> None:
        with self._lock:
            self._recent(client, time.monotonic()).append(time.monotonic())


def is_public_path(path: str) -> bool:
    """The login page and Gradio's static files: the only routes open without a credential."""
    if ".." in path or "\\" in path:
        return False
    return path in LOGIN_PATHS or path in STATIC_FILES or path.startswith(STATIC_PREFIXES)


def _safe_next(target: str) -> str:
    """A same-site path to return to after login; anything else (//evil, http:...) becomes '/'."""
    if target.startswith("/") and not target.startswith(("//", "/\\")) and "\n" not in target:
        return target
    return "/"


_LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}: sign in</title>
<style>
body{{font-family:system-ui,sans-serif;background:#f8fafc;color:#1f2937;display:flex;
justify-content:center;padding-top:12vh;margin:0}}
form{{background:#fff;border:1px solid #e2e8f0;border-radius:12px;padding:1.5rem;width:20rem}}
label{{display:block;margin:.75rem 0 .25rem}}
input{{width:100%;padding:.5rem;box-sizing:border-box}}
button{{margin-top:1rem;width:100%;padding:.6rem;background:#2563eb;color:#fff;border:0;
border-radius:6px}} .error{{color:#b91c1c}}
</style></head><body>
<form method="post" action="{action}">
<h1 style="font-size:1.25rem;margin:0">{title}</h1>
<p class="error" role="alert">{error}</p>
{user_field}
<label for="password">{password_label}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<input type="hidden" name="next" value="{next}">
<button type="submit">Sign in</button>
</form></body></html>
"""


class LoginPage:
    """`GET /login` shows the form; `POST /login` checks it and sets the session cookie.

    Browsers get a redirect back to `next`; scripts (gradio_client's `auth=`) get JSON, as
    Gradio's own login answers.
    """

    def __init__(self, credentials: Credentials, sessions: Sessions, title: str) -> None:
        self.credentials = credentials
        self.sessions = sessions
        self.title = title
        self.throttle = LoginThrottle()

    def _form(
        self, request: Request, next_path: str, error: str = "", status: int = 200
    ) -> HTMLResponse:
        ask_user = self.credentials.login is not None
        user_field = (
            '<label for="username">User name</label>'
            '<input id="username" name="username" autocomplete="username" required>'
            if ask_user
            else '<input type="hidden" name="username" value="">'
        )
        label = "Password" if not self.credentials.api_key else "Password or API key"
        if not ask_user:
            label = "API key"
        page = _LOGIN_PAGE.format(
            title=html.escape(self.title),
            action=html.escape(request.url.path, quote=True),
            error=html.escape(error),
            user_field=user_field,
            password_label=label,
            next=html.escape(_safe_next(next_path), quote=True),
        )
        return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})

    async def __call__(self, request: Request) -> Response:
        if request.method != "POST":
            return self._form(request, request.query_params.get("next", "/"))
        client = request.client.host if request.client else "?"
        wait = self.throttle.retry_after(client)
        if wait:
            return JSONResponse(
                {"detail": f"Too many failed sign-ins; try again in {wait} s"},
                status_code=429,
                headers={"Retry-After": str(wait)},
            )
        body = (await request.body())[:8192].decode("utf-8", "replace")
        fields = {key: values[0] for key, values in parse_qs(body).items()}
        browser = "text/html" in request.headers.get("accept", "")
        if not self.credentials.password_ok(fields.get("username", ""), fields.get("password", "")):
            self.throttle.failed(client)
            if browser:
                return self._form(
                    request, fields.get("next", "/"), "Wrong user name or password.", status=401
                )
            return JSONResponse({"detail": "Incorrect credentials."}, status_code=401)
        response: Response = (
            RedirectResponse(_safe_next(fields.get("next", "/")), status_code=303)
            if browser
            else JSONResponse({"success": True})
        )
        response.set_cookie(
            SESSION_COOKIE,
            self.sessions.create(),
            max_age=int(self.sessions.lifetime),
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
        return response


def logout(sessions: Sessions) -> Callable[[Request], Response]:
    """`GET /logout`: end this browser's session and show the sign-in page."""

    def end(request: Request) -> Response:
        sessions.end(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    return end


class AuthMiddleware:
    """Lets a request through only with a credential, unless the app is open or the path public."""

    def __init__(self, app: ASGIApp, credentials: Credentials, sessions: Sessions) -> None:
        self.app = app
        self.credentials = credentials
        self.sessions = sessions

    def _allowed(self, scope: Scope) -> bool:
        headers = Headers(scope=scope)
        if self.credentials.header_ok(headers.get("authorization", "")):
            return True
        return self.sessions.valid(Request(scope).cookies.get(SESSION_COOKIE))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not self.credentials.configured:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            # CORS preflights carry no credentials; the CORS layer outside answers them.
            await self.app(scope, receive, send)
            return
        if is_public_path(path) or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await _refusal(scope)(scope, receive, send)


def _refusal(scope: Scope) -> Response:
    headers = Headers(scope=scope)
    if scope["method"] in ("GET", "HEAD") and "text/html" in headers.get("accept", ""):
        query = scope["query_string"].decode("latin-1")
        target = scope["path"] + (f"?{query}" if query else "")
        login = "/widget/login" if scope["path"].startswith("/widget") else "/login"
        return RedirectResponse(f"{login}?next={quote(target, safe='/')}", status_code=303)
    detail = (
        "Sign in first: send 'Authorization: Bearer <API key>' (or HTTP Basic with the user "
        "and password), or sign in at /login"
    )
    return Response(
        json.dumps({"detail": detail}),
        status_code=401,
        media_type="application/json",
        # Bearer only: a Basic challenge would make browsers pop up their own password dialog.
        headers={"WWW-Authenticate": "Bearer"},
    )
