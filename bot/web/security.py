"""Who may reach the web app from where: the Host check, CORS, framing, and the order they run in.

Starlette's middleware where it does the job:
- Host: `TrustedHostMiddleware` judges names (the configured ones, and localhost); an IP address
  passes before it, as DNS rebinding needs a name the attacker controls. A page that rebinds its
  own name (evil.example resolved to 127.0.0.1) sends that name and gets 400.
- CORS: `CORSMiddleware`, one policy for the whole app (Gradio's own is switched off): only the
  configured origins may call it from a browser, none by default; `*` only without credentials.

Ours where Starlette has none (SECURITY.md says why):
- Cross-site requests: a POST (or other unsafe method) whose `Origin` is neither this server
  nor a configured origin is a 403, so another page cannot make a browser upload or ask.
- Bodies: a request body over MAX_BODY_BYTES is a 413 (uploads have Gradio's own limit).
- Framing: `/widget` (and its login page) may be framed by the app itself and the configured
  origins; every other page sends `X-Frame-Options: DENY` and `frame-ancestors 'none'`.
- Warnings: a browser refuses a frame or a cross-origin response with only a console error, so
  the server logs each such refusal once per origin (`bot.web.refusals`).

The rules themselves (which origins, which paths may be framed) are `bot.web.origins`'s.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.web.auth import AuthMiddleware, Credentials, Sessions
from bot.web.origins import Origins, check_origins, checked_entries, is_frameable
from bot.web.refusals import RefusalWarnings
from newsbot.errors import ConfigError

_HOST_NAME = re.compile(r"(\*\.)?[a-z0-9.-]+")
LOCAL_NAMES = ("localhost", "*.localhost")


def parse_auth(value: str | tuple[str, str] | None) -> tuple[str, str] | None:
    """`"user:password"` (NEWSBOT_AUTH) as a (user, password) pair; None stays None.

    Raises:
        ConfigError: when the value has no colon or an empty user or password.
    """
    if value is None or isinstance(value, tuple):
        return value
    user, sep, password = value.partition(":")
    if not sep or not user.strip() or not password:
        raise ConfigError("NEWSBOT_AUTH must look like user:password (both parts non-empty)")
    return user.strip(), password


def check_hosts(hosts: Sequence[str]) -> list[str]:
    """Configured host names, lower-cased; `*` (any) and `*.example.com` (subdomains) allowed.

    Raises:
        ConfigError: for an entry that is not a bare host name (no scheme, port or path).
    """
    checked = [host.strip().lower().rstrip(".") for host in hosts]
    example = (
        "a host name; use the form news.example.com or *.example.com (no scheme, port or path)"
    )
    checked_entries(checked, _HOST_NAME, "NEWSBOT_ALLOWED_HOSTS", example)
    return checked


def names_an_ip(host_header: str) -> bool:
    """Whether a `Host` header (`127.0.0.1:8080`, `[::1]`) names an IP address, not a name."""
    try:
        parts = urlsplit("//" + host_header.strip())
        ipaddress.ip_address(parts.hostname or "")
        _ = parts.port  # a valid port, if any
    except ValueError:
        return False
    return True


TRUSTED = "newsbot.host_trusted"


async def _mark_trusted(scope: Scope, receive: Receive, send: Send) -> None:
    scope[TRUSTED] = True


async def _discard(message: Message) -> None:
    pass


class HostCheck:
    """Answers 400 to a request whose `Host` names another site (DNS rebinding).

    An IP address passes: Starlette's `TrustedHostMiddleware`, which knows no IP literals, judges
    the names, on a copy of the request; its refusal is replaced by one that says which setting
    allows a name.
    """

    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str]) -> None:
        self.app = app
        names = [*allowed_hosts, *LOCAL_NAMES]
        self.names = TrustedHostMiddleware(_mark_trusted, names, www_redirect=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not await self.trusted(scope, receive):
            detail = (
                f"Host {Headers(scope=scope).get('host', '')[:100]!r} is not served here: add "
                "the name to NEWSBOT_ALLOWED_HOSTS if it is yours"
            )
            await JSONResponse({"detail": detail}, 400)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def trusted(self, scope: Scope, receive: Receive) -> bool:
        if names_an_ip(Headers(scope=scope).get("host", "")):
            return True
        probe = {**scope, TRUSTED: False}
        await self.names(probe, receive, _discard)
        return bool(probe[TRUSTED])


UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class OriginCheckMiddleware:
    """Refuses a state-changing request or a WebSocket from a page of another, unlisted origin.

    CORS only hides responses; a form or `fetch` from another page still *sends* its request
    (an upload, say), and CORS does not apply to WebSockets at all. Browsers name the sending
    page in `Origin`: it must be this server or a configured origin (`Origins.accepts`).
    Requests without `Origin` (curl, scripts, same-origin GETs) are not browser cross-site
    requests. A changing request is answered 403, a WebSocket closed before it opens (403).
    """

    def __init__(self, app: ASGIApp, origins: Sequence[str]) -> None:
        self.app = app
        self.origins = Origins(origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = self.foreign_origin(scope)
        if origin is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            detail = (
                f"Requests from pages on {origin[:100]!r} are not accepted: add the origin to "
                "NEWSBOT_ALLOWED_ORIGINS if it is yours"
            )
            await JSONResponse({"detail": detail}, 403)(scope, receive, send)

    def foreign_origin(self, scope: Scope) -> str | None:
        """The `Origin` of a changing request or a WebSocket from a page neither here nor
        listed; else None."""
        if scope["type"] == "http" and scope["method"] not in UNSAFE_METHODS:
            return None
        if scope["type"] not in ("http", "websocket"):
            return None
        origin = Headers(scope=scope).get("origin")
        return None if origin is None or self.origins.accepts(origin, scope) else origin


MAX_BODY_BYTES = 2_000_000
"""Largest request body outside Gradio's upload route (which has its own file size limit)."""
UPLOAD_PATHS = ("/gradio_api/upload", "/widget/gradio_api/upload")


class BodyLimitMiddleware:
    """Answers 413 to a request body over MAX_BODY_BYTES, before the app reads it all."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UPLOAD_PATHS:
            await self.app(scope, receive, send)
            return
        too_big = JSONResponse({"detail": f"The request body is over {self.limit} bytes."}, 413)
        declared = Headers(scope=scope).get("content-length", "0")
        if not declared.isdigit() or int(declared) > self.limit:
            await too_big(scope, receive, send)
            return
        seen = 0
        cut = started = False

        async def bounded_receive() -> Message:
            # A chunked body has no length up front: stop reading it at the limit.
            nonlocal seen, cut
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    cut = True
                    return {"type": "http.disconnect"}
            return message

        async def send_unless_cut(message: Message) -> None:
            # The app's own reply to a body cut short (a 400, a 500) gives way to the 413.
            nonlocal started
            if cut and not started:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded_receive, send_unless_cut)
        except Exception:
            if not cut or started:  # a failure of the app's own, not of the cut body
                raise
        if cut and not started:
            await too_big(scope, receive, send)


class FrameHeadersMiddleware:
    """Framing rules per path, plus `nosniff` and a strict referrer policy on every response."""

    def __init__(self, app: ASGIApp, origins: Sequence[str]) -> None:
        self.app = app
        self.widget_policy = " ".join(["frame-ancestors 'self'", *origins])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        frameable = is_frameable(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # A second CSP header adds its rules to any the app sent (browsers enforce all).
                headers = MutableHeaders(scope=message)
                del headers["x-frame-options"]
                if frameable:
                    headers.append("content-security-policy", self.widget_policy)
                else:
                    headers.append("content-security-policy", "frame-ancestors 'none'")
                    headers.append("x-frame-options", "DENY")
                headers.append("x-content-type-options", "nosniff")
                headers.append("referrer-policy", "strict-origin-when-cross-origin")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def apply_policies(
    app: FastAPI,
    *,
    credentials: Credentials,
    sessions: Sessions,
    allowed_origins: Sequence[str],
    allowed_hosts: Sequence[str],
) -> None:
    """Install framing headers, the Host check, a body limit, the refusal warnings, CORS, the
    Origin check and auth.

    Outermost first, in that order.

    A parent `CORSMiddleware` switches off Gradio's own CORS handling in the mounted apps (which
    reflects any origin when the Host is not localhost), so this list is the one policy.

    Raises:
        ConfigError: for a malformed origin or host, or `*` origins with credentials.
    """
    origins = check_origins(allowed_origins, credentials.configured)
    any_origin = "*" in origins
    origins = ["*"] if any_origin else origins
    # add_middleware puts each new layer outside the previous ones: innermost first.
    app.add_middleware(AuthMiddleware, credentials=credentials, sessions=sessions)
    app.add_middleware(OriginCheckMiddleware, origins=origins)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_credentials=bool(origins) and not any_origin,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    app.add_middleware(RefusalWarnings, origins=origins)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(HostCheck, allowed_hosts=check_hosts(allowed_hosts))
    # Outermost, so refusals and redirects carry the framing headers too.
    app.add_middleware(FrameHeadersMiddleware, origins=origins)
