"""Who may reach the web app from where: the Host check, CORS, framing, and the order they run in.

- Host: the `Host` header must be localhost, an IP address, or a configured name; a DNS-rebinding
  page (evil.example resolved to 127.0.0.1) sends its own name and gets 400.
- CORS: one policy for the whole app (Gradio's own is switched off): only the configured origins
  may call it from a browser, none by default. `*` is allowed only without credentials, and then
  without cookies.
- Cross-site requests: a POST (or other unsafe method) whose `Origin` is neither this server
  nor a configured origin is a 403, so another page cannot make a browser upload or ask.
- Bodies: a request body over MAX_BODY_BYTES is a 413 (uploads have Gradio's own limit).
- Framing: `/widget` (and its login page) may be framed by the app itself and the configured
  origins; every other page sends `X-Frame-Options: DENY` and `frame-ancestors 'none'`.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Sequence

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.web.auth import AuthMiddleware, Credentials, Sessions
from newsbot.errors import ConfigError

_ORIGIN = re.compile(r"^https?://[^/\s?#]+$")
_HOST_NAME = re.compile(r"^(\*\.)?[a-z0-9.-]+$")
FRAMEABLE_PREFIX = "/widget"


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


def check_origins(origins: Sequence[str], credentials: bool = False) -> list[str]:
    """The allowed origins without trailing slashes, each checked to be `scheme://host[:port]`.

    Raises:
        ConfigError: for an entry with a path, a query or a scheme other than http(s), and for
            `*` when a credential is configured (any site could then act as a signed-in user).
    """
    checked = []
    for origin in origins:
        clean = origin.strip().rstrip("/")
        if clean == "*" and credentials:
            raise ConfigError(
                "NEWSBOT_ALLOWED_ORIGINS: '*' cannot be used with NEWSBOT_AUTH or "
                "NEWSBOT_API_KEY (any site could use a signed-in browser); list the origins, "
                'e.g. ["https://example.com"]'
            )
        if clean != "*" and not _ORIGIN.match(clean):
            raise ConfigError(
                f"NEWSBOT_ALLOWED_ORIGINS: {origin!r} is not an origin; use the form "
                "https://example.com or http://localhost:8080 (no path)"
            )
        checked.append(clean)
    return checked


def check_hosts(hosts: Sequence[str]) -> list[str]:
    """Configured host names, lower-cased; `*` (any) and `*.example.com` (subdomains) allowed.

    Raises:
        ConfigError: for an entry that is not a bare host name (no scheme, port or path).
    """
    checked = []
    for host in hosts:
        clean = host.strip().lower().rstrip(".")
        if clean != "*" and not _HOST_NAME.match(clean):
            raise ConfigError(
                f"NEWSBOT_ALLOWED_HOSTS: {host!r} is not a host name; use the form "
                "news.example.com or *.example.com (no scheme, port or path)"
            )
        checked.append(clean)
    return checked


def host_allowed(host_header: str, allowed: Sequence[str]) -> bool:
    """Whether a `Host` header names this server: localhost, an IP literal or a configured name.

    IP literals are safe: DNS rebinding needs a name the attacker controls.
    """
    if "*" in allowed:
        return True
    host = host_header.strip().lower()
    if host.startswith("["):
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    host = host.rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    return any(
        host == name or (name.startswith("*.") and host.endswith(name[1:])) for name in allowed
    )


class HostCheckMiddleware:
    """Answers 400 to a request whose `Host` names another site (DNS rebinding)."""

    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str]) -> None:
        self.app = app
        self.allowed = list(allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host")
        if host is None or host_allowed(host, self.allowed):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        detail = (
            f"Host {host[:100]!r} is not served here: add the name to NEWSBOT_ALLOWED_HOSTS "
            "if it is yours"
        )
        await _json_response(send, 400, detail)


UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class OriginCheckMiddleware:
    """Refuses (403) a state-changing request sent by a page of another, unlisted origin.

    CORS only hides responses; a form or `fetch` from another page still *sends* its request
    (an upload, say). Browsers name the sending page in `Origin`: it must be this server (same
    host and port, whatever the scheme a TLS proxy removed) or a configured origin. Requests
    without `Origin` (curl, scripts, same-origin GETs) are not browser cross-site requests.
    """

    def __init__(self, app: ASGIApp, origins: Sequence[str]) -> None:
        self.app = app
        self.any = "*" in origins
        self.origins = {o.lower() for o in origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS or self.any:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None or origin.lower() in self.origins:
            await self.app(scope, receive, send)
            return
        netloc = origin.lower().partition("://")[2]
        if netloc and netloc == headers.get("host", "").lower():
            await self.app(scope, receive, send)
            return
        detail = (
            f"Requests from pages on {origin[:100]!r} are not accepted: add the origin to "
            "NEWSBOT_ALLOWED_ORIGINS if it is yours"
        )
        await _json_response(send, 403, detail)


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
        declared = Headers(scope=scope).get("content-length", "0")
        if not declared.isdigit() or int(declared) > self.limit:
            await _json_response(send, 413, f"The request body is over {self.limit} bytes.")
            return
        seen = 0

        async def bounded_receive() -> Message:
            # A chunked body has no length up front: stop reading it at the limit.
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, bounded_receive, send)


async def _json_response(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class FrameHeadersMiddleware:
    """Framing rules per path, plus `nosniff` and a strict referrer policy on every response."""

    def __init__(self, app: ASGIApp, origins: Sequence[str]) -> None:
        self.app = app
        ancestors = " ".join(o for o in origins)
        self.widget_policy = f"frame-ancestors 'self' {ancestors}".strip().encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        frameable = scope["path"] == FRAMEABLE_PREFIX or scope["path"].startswith(
            FRAMEABLE_PREFIX + "/"
        )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # A second CSP header adds its rules to any the app sent (browsers enforce all).
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-frame-options"
                ]
                if frameable:
                    headers.append((b"content-security-policy", self.widget_policy))
                else:
                    headers.append((b"content-security-policy", b"frame-ancestors 'none'"))
                    headers.append((b"x-frame-options", b"DENY"))
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"strict-origin-when-cross-origin"))
                message = {**message, "headers": headers}
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
    """Install framing headers, the Host check, a body limit, CORS, the Origin check and auth.

    Outermost first, in that order.

    A parent `CORSMiddleware` switches off Gradio's own CORS handling in the mounted apps (which
    reflects any origin when the Host is not localhost), so this list is the one policy.

    Raises:
        ConfigError: for a malformed origin or host, or `*` origins with credentials.
    """
    origins = check_origins(allowed_origins, credentials.configured)
    hosts = check_hosts(allowed_hosts)
    any_origin = "*" in origins
    # add_middleware puts each new layer outside the previous ones: innermost first.
    app.add_middleware(AuthMiddleware, credentials=credentials, sessions=sessions)
    app.add_middleware(OriginCheckMiddleware, origins=origins)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"] if any_origin else origins,
        allow_credentials=bool(origins) and not any_origin,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(HostCheckMiddleware, allowed_hosts=hosts)
    # Outermost, so refusals and redirects carry the framing headers too.
    app.add_middleware(FrameHeadersMiddleware, origins=["*"] if any_origin else origins)
