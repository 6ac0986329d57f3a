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
  the server logs each such refusal once per origin, with the setting that allows it.
"""

from __future__ import annotations

import ipaddress
import json
import logging
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
from newsbot.errors import ConfigError

log = logging.getLogger(__name__)

_ORIGIN = re.compile(r"https?://[^/\s?#]+")
_HOST_NAME = re.compile(r"(\*\.)?[a-z0-9.-]+")
FRAMEABLE_PREFIX = "/widget"
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


def _checked(entries: Sequence[str], form: re.Pattern[str], setting: str, example: str) -> None:
    for entry in entries:
        if entry != "*" and not form.fullmatch(entry):
            raise ConfigError(f"{setting}: {entry!r} is not {example}")


def check_origins(origins: Sequence[str], credentials: bool = False) -> list[str]:
    """The allowed origins without trailing slashes, each checked to be `scheme://host[:port]`.

    Raises:
        ConfigError: for an entry with a path, a query or a scheme other than http(s), and for
            `*` when a credential is configured (any site could then act as a signed-in user).
    """
    checked = [origin.strip().rstrip("/") for origin in origins]
    if "*" in checked and credentials:
        raise ConfigError(
            "NEWSBOT_ALLOWED_ORIGINS: '*' cannot be used with NEWSBOT_AUTH or "
            "NEWSBOT_API_KEY (any site could use a signed-in browser); list the origins, "
            'e.g. ["https://example.com"]'
        )
    example = "an origin; use the form https://example.com or http://localhost:8080 (no path)"
    _checked(checked, _ORIGIN, "NEWSBOT_ALLOWED_ORIGINS", example)
    return checked


def check_hosts(hosts: Sequence[str]) -> list[str]:
    """Configured host names, lower-cased; `*` (any) and `*.example.com` (subdomains) allowed.

    Raises:
        ConfigError: for an entry that is not a bare host name (no scheme, port or path).
    """
    checked = [host.strip().lower().rstrip(".") for host in hosts]
    example = (
        "a host name; use the form news.example.com or *.example.com (no scheme, port or path)"
    )
    _checked(checked, _HOST_NAME, "NEWSBOT_ALLOWED_HOSTS", example)
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


def is_frameable(path: str) -> bool:
    """Whether pages of other (configured) origins may frame `path`: the widget only."""
    return path == FRAMEABLE_PREFIX or path.startswith(FRAMEABLE_PREFIX + "/")


class Origins:
    """Which pages may use the app from a browser: this server's own, and the configured ones."""

    def __init__(self, origins: Sequence[str]) -> None:
        self.any = "*" in origins
        self.listed = [o for o in origins if o != "*"]
        self.lowered = {o.lower() for o in self.listed}

    def accepts(self, origin: str, scope: Scope) -> bool:
        """Whether a page on `origin` may call, frame or connect: listed, or this server (same
        host and port, whatever the scheme a TLS proxy removed)."""
        if self.any or origin.lower() in self.lowered:
            return True
        netloc = origin.lower().partition("://")[2]
        return bool(netloc) and netloc == Headers(scope=scope).get("host", "").lower()

    def setting_with(self, origin: str) -> str:
        """The NEWSBOT_ALLOWED_ORIGINS value that would add `origin` to the listed ones."""
        return f"NEWSBOT_ALLOWED_ORIGINS='{json.dumps([*self.listed, origin])}'"


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


MAX_WARNED_ORIGINS = 300
"""Origins remembered as warned about; past it, one last line says later ones go unlogged."""
FRAME_DESTINATIONS = ("iframe", "frame", "embed", "object", "fencedframe")
"""`Sec-Fetch-Dest` values of a request to show a page inside another (CSP frame-ancestors)."""


class RefusalWarnings:
    """Logs, once per origin, a browser request that the app's rules make the browser refuse.

    A refused frame or cross-origin response shows only as an error in the browser's console;
    the server answered normally. This layer changes nothing: it reads the request, applies the
    same rules as the layers that decide (`Origins`, `is_frameable`), and logs a WARNING with
    the origin, what was refused, and the setting that allows it. It sits inside the Host check
    (a wrong Host is refused, and says so, for another reason) and outside CORS (whose refusal
    of a preflight never reaches the app).

    - A cross-origin call (CORS `fetch`, the `<gradio-app>` script and its assets) or change
      (`OriginCheckMiddleware`'s 403): any request whose `Origin` is neither here nor listed.
      Browsers send `Origin` on every CORS-mode request and every non-GET one.
    - A WebSocket from such an origin (`OriginCheckMiddleware` closes it).
    - Framing: the browser alone applies `frame-ancestors`, to the response of a navigation
      that carries no `Origin`. Fetch Metadata (w3c.github.io/webappsec-fetch-metadata) names
      what the browser will do with it: `Sec-Fetch-Dest: iframe` (or frame, embed, object)
      means "shown inside another page". `Sec-Fetch-Site` is no use to tell whose: it compares
      *sites*, which ignore the port, so the very trap this catches (a page on
      http://127.0.0.1:8000 framing http://127.0.0.1:7860) is `same-site`, and it describes
      the page that started the navigation, not the parent. The framing page comes from
      `Referer`, which the default `strict-origin-when-cross-origin` policy reduces to the
      origin across origins; without one (a `no-referrer` page, a file:// page) it is named as
      unknown, unless `Sec-Fetch-Site: same-origin` says the app framed itself. Browsers send
      `Sec-Fetch-*` only to potentially trustworthy URLs (https, localhost, 127.0.0.1), so on
      plain HTTP under another name framing refusals go unlogged. Only the parent is seen:
      `frame-ancestors` checks every ancestor, and a listed parent inside an unlisted page is
      refused without a warning.
    """

    def __init__(self, app: ASGIApp, origins: Sequence[str], limit: int = MAX_WARNED_ORIGINS):
        self.app = app
        self.origins = Origins(origins)
        self.limit = limit
        self.warned: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            self.observe(scope)
        await self.app(scope, receive, send)

    def observe(self, scope: Scope) -> None:
        headers = Headers(scope=scope)
        path = scope["path"]
        origin = headers.get("origin")
        if origin is not None:
            if not self.origins.accepts(origin, scope):
                what = "a WebSocket" if scope["type"] == "websocket" else "a cross-origin call"
                method = scope.get("method", "GET")
                self.warn(origin, f"{what} ({method} {path})", self.fix(origin))
            return
        if headers.get("sec-fetch-dest") not in FRAME_DESTINATIONS:
            return
        parent = framing_origin(headers)
        if not is_frameable(path):  # frame-ancestors 'none': refused even to this server
            self.warn(
                parent or "unknown",
                f"framing {path}",
                f"only {FRAMEABLE_PREFIX}/ may be shown in a frame; point the iframe at it",
            )
        elif parent != SELF and (parent is None or not self.origins.accepts(parent, scope)):
            self.warn(parent or "unknown", f"framing the widget ({path})", self.fix(parent))

    def fix(self, origin: str | None) -> str:
        if origin is None or origin == "null" or not _ORIGIN.fullmatch(origin):
            return (
                "the page's origin is unknown (a file:// page, a sandboxed frame or no "
                "Referer): serve the page over http(s) and add its origin to "
                "NEWSBOT_ALLOWED_ORIGINS"
            )
        return f"to allow it, set {self.origins.setting_with(origin)}"

    def warn(self, origin: str, what: str, fix: str) -> None:
        key = origin.lower()[:200]
        if key in self.warned or len(self.warned) > self.limit:
            return
        self.warned.add(key)
        if len(self.warned) > self.limit:
            log.warning("More than %d origins refused; later ones are not logged", self.limit)
            return
        log.warning(
            "Refused %s from a page on %s (browsers show this only in their console): %s",
            what,
            origin[:200],
            fix,
        )


SELF = "this server"


def framing_origin(headers: Headers) -> str | None:
    """The origin of the page framing this request, from `Referer`; SELF for this app's own."""
    if headers.get("sec-fetch-site") == "same-origin":
        return SELF
    parts = urlsplit(headers.get("referer", ""))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


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
            detail = f"The request body is over {self.limit} bytes."
            await JSONResponse({"detail": detail}, 413)(scope, receive, send)
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
