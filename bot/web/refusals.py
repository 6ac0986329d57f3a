"""The refusal warnings: a log line, once per origin, for a request the browser will refuse.

A browser refuses a frame or a cross-origin response with only a console error, and nothing
else logs it. The rules are `bot.web.origins`'s, the ones the refusing layers apply.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.web.origins import (
    FRAMEABLE_PREFIX,
    ORIGIN_FORM,
    SELF,
    Origins,
    framing_origin,
    is_frameable,
)

log = logging.getLogger(__name__)

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
        if origin is None or origin == "null" or not ORIGIN_FORM.fullmatch(origin):
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
