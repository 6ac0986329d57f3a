"""The sign-in page (`/login`, `/widget/login`) and `/logout`, for `bot.web.auth`'s one rule.

`GET` shows a small form (user name and password, or just the API key when only a key is set);
`POST` checks it, with the sender's address throttled after repeated failures, and sets the
session cookie. Browsers return to the page they came from (only a path on this site); scripts
such as gradio_client's `auth=` get JSON, as from Gradio's own login.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from bot.web.auth import (
    MAX_LOGIN_FAILURES,
    SESSION_COOKIE,
    Credentials,
    Sessions,
    Throttle,
    client_address,
    too_many,
)

_PATH = re.compile(r"/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*")


def safe_next(target: str) -> str:
    """A path on this site to return to after sign-in; anything else becomes '/'.

    Only plain URL characters pass: browsers drop tabs and newlines and read backslashes as
    slashes, so `/\t/evil.test` or `/\\evil.test` would leave the site.
    """
    if _PATH.fullmatch(target) and not target.startswith("//"):
        return target
    return "/"


LOGIN_PAGE = Path(__file__).parent / "static" / "login.html"
"""The sign-in form: a `str.format` template (`title`, `action`, `error`, `user_field`,
`password_label`, `next`)."""


class LoginPage:
    """`GET /login` shows the form; `POST /login` checks it and sets the session cookie.

    Browsers get a redirect back to `next`; scripts (gradio_client's `auth=`) get JSON, as
    Gradio's own login answers.
    """

    def __init__(self, credentials: Credentials, sessions: Sessions, title: str) -> None:
        self.credentials = credentials
        self.sessions = sessions
        self.title = title
        self.throttle = Throttle(MAX_LOGIN_FAILURES, "login", sessions.records)
        self.template = LOGIN_PAGE.read_text(encoding="utf-8")

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
        page = self.template.format(
            title=html.escape(self.title),
            action=html.escape(request.url.path, quote=True),
            error=html.escape(error),
            user_field=user_field,
            password_label=label,
            next=html.escape(safe_next(next_path), quote=True),
        )
        return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})

    async def __call__(self, request: Request) -> Response:
        if request.method != "POST":
            return self._form(request, request.query_params.get("next", "/"))
        client = client_address(request.scope)
        body = (await request.body()).decode("utf-8", "replace")  # at most MAX_BODY_BYTES
        # Checked after the last await: from here to `failed` nothing yields to the event loop,
        # so guesses sent at once (bodies held back until all are in) are counted one by one.
        wait = self.throttle.retry_after(client)
        if wait:
            return too_many(wait)
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
            RedirectResponse(safe_next(fields.get("next", "/")), status_code=303)
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


_LOGOUT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign out</title></head><body>
<form method="post" action="/logout"><button type="submit">Sign out</button></form>
</body></html>
"""


def logout(sessions: Sessions) -> Callable[[Request], Response]:
    """`POST /logout`: end this browser's session and show the sign-in page. `GET` only shows a
    button that posts: a link or image on another site must not sign a user out (a cross-site
    POST meets the Origin check)."""

    def end(request: Request) -> Response:
        if request.method != "POST":
            return HTMLResponse(_LOGOUT_PAGE, headers={"Cache-Control": "no-store"})
        sessions.end(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    return end
