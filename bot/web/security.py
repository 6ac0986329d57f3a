"""Who may use the web app: UI login, the API key, CORS and frame-ancestors.

Defaults: the widget can be embedded anywhere (no frame-ancestors) and Gradio applies its own
CORS rules to its pages; `/api/*` sends no CORS headers, so browsers only call it same-origin.
With `allowed_origins`, one CORS policy covers the whole app and only those origins (plus the
app itself) may frame it.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Sequence

from fastapi import FastAPI, HTTPException, Request, status
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsbot.errors import ConfigError

_ORIGIN = re.compile(r"^https?://[^/\s?#]+$")


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


def check_origins(origins: Sequence[str]) -> list[str]:
    """The allowed origins without trailing slashes, each checked to be `scheme://host[:port]`.

    Raises:
        ConfigError: for an entry with a path, a query or a scheme other than http(s).
    """
    checked = []
    for origin in origins:
        clean = origin.strip().rstrip("/")
        if clean != "*" and not _ORIGIN.match(clean):
            raise ConfigError(
                f"NEWSBOT_ALLOWED_ORIGINS: {origin!r} is not an origin; use the form "
                "https://example.com or http://localhost:8080 (no path)"
            )
        checked.append(clean)
    return checked


def api_key_check(api_key: str | None) -> Callable[[Request], None]:
    """A FastAPI dependency that requires `Authorization: Bearer <api_key>` when a key is set."""
    expected = f"Bearer {api_key}".encode() if api_key else None

    def check(request: Request) -> None:
        if expected is None:
            return
        given = request.headers.get("authorization", "").strip().encode()
        if not hmac.compare_digest(given, expected):
            raise HTTPException(
                status_code=status.HTTP_401_UNAUTHORIZED,
                detail="Missing or wrong API key: send the header 'Authorization: Bearer <key>'",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return check


class FrameAncestorsMiddleware:
    """Adds `Content-Security-Policy: frame-ancestors 'self' <origins>` to every response."""

    def __init__(self, app: ASGIApp, origins: Sequence[str]) -> None:
        self.app = app
        self.policy = ("frame-ancestors 'self' " + " ".join(origins)).strip().encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"content-security-policy", self.policy))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_policy)


def apply_origin_policy(app: FastAPI, allowed_origins: Sequence[str]) -> None:
    """Install CORS and frame-ancestors for configured origins; nothing when there are none.

    A parent `CORSMiddleware` also switches off Gradio's own CORS handling in the mounted apps,
    so the configured list is the one policy for the chat, the widget and the API.
    """
    origins = check_origins(allowed_origins)
    if not origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    if "*" not in origins:
        app.add_middleware(FrameAncestorsMiddleware, origins=origins)
