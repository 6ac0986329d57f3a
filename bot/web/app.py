"""The web app: one FastAPI app with the JSON API, the chat page at `/` and the widget at `/widget`.

Routes:
- `/`            the chat (Chat tab, Library tab when a library is given); Gradio API `/chat`
- `/widget/`     the compact chat for `<iframe>` (`?__theme=dark|light`) and `<gradio-app>`
- `/widget/gradio.js` the `<gradio-app>` web component script, served from the installed Gradio
- `/api/ask`, `/api/ask/stream`, `/api/health` the JSON API (`bot.web.api`)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import fastapi
import gradio as gr
from fastapi.responses import RedirectResponse, Response

from bot.web.api import build_api_router
from bot.web.chat import ChatAssistant
from bot.web.library import Library
from bot.web.security import apply_origin_policy, parse_auth
from bot.web.ui import build_chat_blocks, build_widget_blocks

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
WIDGET_PATH = "/widget"
_GRADIO_LOADER = Path(gr.__file__).parent / "templates" / "frontend" / "gradio.js"


def _theme() -> gr.themes.Base:
    return gr.themes.Soft(primary_hue="blue", neutral_hue="slate")


def _web_component_script() -> Response:
    """The `<gradio-app>` loader; it imports `./assets/...`, which the widget mount serves."""
    return Response(
        _GRADIO_LOADER.read_text(encoding="utf-8"),
        media_type="text/javascript",
        headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "max-age=300"},
    )


def _widget_redirect(request: fastapi.Request) -> RedirectResponse:
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"{WIDGET_PATH}/{query}", status_code=307)


def build_app(
    assistant: ChatAssistant,
    library: Library | None = None,
    **options: Any,
) -> fastapi.FastAPI:
    """Build the whole web app around ready-made parts; see `_build_app` for the options.

    Gradio makes (and never closes) a new asyncio event loop for each lock it creates when no
    loop is running; building inside a short-lived running loop avoids those leaked loops.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:

        async def build() -> fastapi.FastAPI:
            return _build_app(assistant, library, **options)

        return asyncio.run(build())
    return _build_app(assistant, library, **options)


def _build_app(
    assistant: ChatAssistant,
    library: Library | None = None,
    *,
    allowed_origins: Sequence[str] = (),
    auth: str | tuple[str, str] | None = None,
    api_key: str | None = None,
    examples: Sequence[str] = (),
    max_upload_bytes: int | None = None,
    title: str = "newsbot",
) -> fastapi.FastAPI:
    """Build the whole web app around ready-made parts.

    Args:
        assistant: answers questions (`bot.answer.assistant.Assistant` or anything with its shape).
        library: the article library for the Library tab; None hides the tab.
        allowed_origins: origins allowed to call the API from a browser and to frame the app;
            empty means any page may embed the widget and only same-origin pages call the API.
        auth: `"user:password"` (or a pair) required to open the chat and the widget.
        api_key: when set, `/api/ask*` requires `Authorization: Bearer <api_key>`.
        examples: example questions offered in the chat and the widget.
        max_upload_bytes: largest file the Library tab accepts.
        title: the browser tab title.

    Raises:
        ConfigError: for a malformed `auth` or origin.
    """
    login = parse_auth(auth)
    app = fastapi.FastAPI(title=title, docs_url="/api/docs", openapi_url="/api/openapi.json")
    apply_origin_policy(app, allowed_origins)
    app.include_router(build_api_router(assistant, api_key))
    app.add_api_route(
        f"{WIDGET_PATH}/gradio.js", _web_component_script, methods=["GET"], include_in_schema=False
    )
    app.add_api_route(WIDGET_PATH, _widget_redirect, methods=["GET"], include_in_schema=False)

    css_paths = [STATIC / "newsbot.css"]
    shim = (STATIC / "storage-shim.js").read_text(encoding="utf-8")
    common = {
        "auth": login,
        "theme": _theme(),
        "ssr_mode": False,
        "show_error": False,
        "run_history": False,
        "max_file_size": max_upload_bytes,
        "head": f"<script>{shim}</script>",
    }
    # The widget first: a mount at "/" would otherwise swallow /widget.
    gr.mount_gradio_app(
        app,
        build_widget_blocks(assistant, examples, title=title),
        path=WIDGET_PATH,
        footer_links=[],
        css_paths=[*css_paths, STATIC / "widget.css"],
        **common,
    )
    gr.mount_gradio_app(
        app,
        build_chat_blocks(assistant, library, examples, title=title),
        path="/",
        footer_links=["api"],
        css_paths=css_paths,
        **common,
    )
    log.debug(
        "web app built: origins=%s auth=%s api_key=%s", allowed_origins, bool(login), bool(api_key)
    )
    return app
