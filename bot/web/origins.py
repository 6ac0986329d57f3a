"""Which pages may use the app from a browser, and which paths they may frame: the rules.

The layers that enforce them (`bot.web.security`) and the one that logs what a browser will
refuse (`bot.web.refusals`) apply the same rules from here, so the warnings cannot drift from
what is refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import Scope

from newsbot.errors import ConfigError

ORIGIN_FORM = re.compile(r"https?://[^/\s?#]+")
FRAMEABLE_PREFIX = "/widget"
SELF = "this server"
"""What `framing_origin` says when the app frames its own page."""


def checked_entries(
    entries: Sequence[str], form: re.Pattern[str], setting: str, example: str
) -> None:
    """Raises ConfigError naming `setting` for an entry (other than `*`) not of `form`."""
    for entry in entries:
        if entry != "*" and not form.fullmatch(entry):
            raise ConfigError(f"{setting}: {entry!r} is not {example}")


def check_origins(origins: Sequence[str], credentials: bool = False) -> list[str]:
    """The allowed origins lower-cased (as browsers send them) without trailing slashes, each
    checked to be `scheme://host[:port]`.

    Raises:
        ConfigError: for an entry with a path, a query or a scheme other than http(s), and for
            `*` when a credential is configured (any site could then act as a signed-in user).
    """
    checked = [origin.strip().rstrip("/").lower() for origin in origins]
    if "*" in checked and credentials:
        raise ConfigError(
            "NEWSBOT_ALLOWED_ORIGINS: '*' cannot be used with NEWSBOT_AUTH or "
            "NEWSBOT_API_KEY (any site could use a signed-in browser); list the origins, "
            'e.g. ["https://example.com"]'
        )
    example = "an origin; use the form https://example.com or http://localhost:8080 (no path)"
    checked_entries(checked, ORIGIN_FORM, "NEWSBOT_ALLOWED_ORIGINS", example)
    return checked


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


def framing_origin(headers: Headers) -> str | None:
    """The origin of the page framing this request, from `Referer`; SELF for this app's own."""
    if headers.get("sec-fetch-site") == "same-origin":
        return SELF
    parts = urlsplit(headers.get("referer", ""))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()
