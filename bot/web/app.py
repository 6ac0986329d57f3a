"""The web app: one FastAPI app with the JSON API, the chat page at `/` and the widget at `/widget`.

Routes:
- `/`            the chat (Chat tab, Library tab when a library is given); Gradio API `/chat`
- `/widget/`     the compact chat for `<iframe>` (`?__theme=dark|light`) and `<gradio-app>`
- `/widget/gradio.js` the `<gradio-app>` web component script, served from the installed Gradio
- `/api/ask`, `/api/ask/stream`, `/api/health` the JSON API (`bot.web.api`)
- `/article/<id>`, `/widget/article/<id>` a stored article's text (`bot.web.article_page`)
- `/api/feedback` a reader's vote on an answer (`bot.web.feedback_api`, `bot.web.answer_log`)
- `/library/questions.csv` the editors' view as CSV (`bot.web.library_questions`), with the Library
- `/metrics`     Prometheus metrics (`bot.web.metrics`), behind the credential like every route
- `/login`, `/widget/login`, `/logout` sign in and out, when a credential is set (`bot.web.auth`)

Who may reach what is set in `bot.web.security` (Host, CORS, framing) and `bot.web.auth` (one
credential rule for every route); load limits in `bot.web.limits`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import fastapi
import gradio as gr
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from swagger_ui_bundle import swagger_ui_path

from bot.web.answer_log import AnswerRecorder, QuestionLog
from bot.web.api import (
    API_FALLBACK,
    EVERY_METHOD,
    api_fallback,
    build_api_router,
    validation_error,
    with_head,
)
from bot.web.article_page import ArticleShelf, article_page, article_routes
from bot.web.auth import LOGIN_PATHS, Credentials, LoginRecords, Sessions
from bot.web.chat import ChatAssistant
from bot.web.chat_box import ONE_REPLY_REFUSED
from bot.web.feedback_api import build_feedback_router
from bot.web.knowledge import Catalog
from bot.web.library import Library
from bot.web.library_questions import CSV_PATH, QuestionDigest
from bot.web.limits import AnswerGate
from bot.web.login import LoginPage, logout
from bot.web.metrics import CONTENT_TYPE, AnswerMetrics
from bot.web.no_remote_files import RemoteFileGuard, refuse_gradio_fetches
from bot.web.question_groups import Embedder
from bot.web.security import apply_policies, parse_auth
from bot.web.stopping import DisconnectWatch, SessionStops
from bot.web.ui import build_chat_blocks, build_widget_blocks
from bot.web.uploads import UPLOAD_MAX_AGE, delete_refused_uploads
from newsbot.errors import ConfigError

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
WIDGET_PATH = "/widget"
OPENAPI_URL = "/api/openapi.json"
DOCS_ASSETS = "/api/docs/assets"
"""Swagger UI's files for `/api/docs`, from the swagger-ui-bundle-v2 package."""
_GRADIO_LOADER = Path(gr.__file__).parent / "templates" / "frontend" / "gradio.js"


def _web_component_script() -> Response:
    """The `<gradio-app>` loader; it imports `./assets/...`, which the widget mount serves.

    Pages of the configured origins may load it (the app's one CORS policy), as they may call
    the widget's API."""
    return Response(
        _GRADIO_LOADER.read_text(encoding="utf-8"),
        media_type="text/javascript",
        headers={"Cache-Control": "max-age=300"},
    )


DOCS_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")


def _docs_file(name: str) -> Callable[[], FileResponse]:
    path = Path(swagger_ui_path) / name

    def serve() -> FileResponse:
        return FileResponse(path)

    return serve


def _api_docs() -> Response:
    return get_swagger_ui_html(
        openapi_url=OPENAPI_URL,
        title="newsbot API",
        swagger_js_url=f"{DOCS_ASSETS}/{DOCS_FILES[0]}",
        swagger_css_url=f"{DOCS_ASSETS}/{DOCS_FILES[1]}",
        swagger_favicon_url=f"{DOCS_ASSETS}/{DOCS_FILES[2]}",
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
    allowed_hosts: Sequence[str] = (),
    auth: str | tuple[str, str] | None = None,
    api_key: str | None = None,
    examples: Sequence[str] = (),
    max_upload_bytes: int | None = None,
    max_active_answers: int = 1,
    max_queued_questions: int = 4,
    max_queue_wait: float = 120.0,
    upload_max_age: int = UPLOAD_MAX_AGE,
    title: str = "newsbot",
    catalog: Catalog | None = None,
    login_records: LoginRecords | None = None,
    question_log: QuestionLog | None = None,
    question_embedder: Embedder | None = None,
) -> fastapi.FastAPI:
    """Build the whole web app around ready-made parts.

    Args:
        assistant: answers questions (`bot.answer.assistant.Assistant` or anything with its shape).
        library: the article library for the Library tab; None hides the tab.
        allowed_origins: origins allowed to call the app from a browser and to frame the widget;
            empty means same-origin only. `*` is refused when a credential is set.
        allowed_hosts: host names served besides localhost and IP addresses (`*`: any).
        auth: `"user:password"` (or a pair) for the login page and HTTP Basic.
        api_key: accepted as `Authorization: Bearer <api_key>` and as the login password.
            With `auth` or `api_key` set, every route but the login page and static files needs
            one of them.
        examples: example questions offered in the chat and the widget.
        max_upload_bytes: largest file the Library tab accepts.
        max_active_answers: questions answered at once (the model's parallel slots).
        max_queued_questions: questions that may wait for a slot; beyond, HTTP 429.
        max_queue_wait: seconds a question may wait for a slot.
        upload_max_age: seconds an upload the Library does not ingest is kept.
        title: the browser tab title.
        catalog: what the page header's "what it knows" line reads (the store: `stats`,
            `list_articles`); default: the library. Read-only, so an app without the Library
            tab can still say what it knows.
        login_records: where sign-in sessions and failures are kept; default: this process's
            memory. Replicas that share them honour each other's sign-ins.
        question_log: where answers and readers' votes are kept (`bot.web.answer_log`); None
            (the default) keeps nothing and refuses votes.
        question_embedder: groups the log's questions for the editors' view in the Library tab
            (the store's embedder); the view needs the library, the log and this.

    Raises:
        ConfigError: for a malformed `auth`, origin or host, or `*` origins with a credential
            or with the Library.
    """
    credentials = Credentials(parse_auth(auth), api_key or None)
    if library is not None and any(origin.strip() == "*" for origin in allowed_origins):
        raise ConfigError(
            "NEWSBOT_ALLOWED_ORIGINS: '*' would let any web page ingest and delete articles "
            'through the Library; list the origins (e.g. ["https://example.com"]), or serve '
            "with --public, which leaves the Library out"
        )
    sessions = Sessions(records=login_records, credentials=credentials)
    gate = AnswerGate(max_active_answers, max_queued_questions, max_queue_wait)
    metrics = AnswerMetrics(gate, catalog if catalog is not None else library)
    recorder = AnswerRecorder(question_log, metrics)
    app = fastapi.FastAPI(
        title=title,
        docs_url=None,  # FastAPI's page loads Swagger UI from a CDN: `_api_docs` serves it
        openapi_url=OPENAPI_URL,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    # Innermost (added first): a credential is checked before the URL is looked at.
    app.add_middleware(RemoteFileGuard)  # Gradio's `file=<URL>` and `proxy=` routes: 403
    answering = SessionStops()  # a client that disconnects stops its answer (bot.web.stopping)
    app.add_middleware(DisconnectWatch, sessions=answering)
    apply_policies(
        app,
        credentials=credentials,
        sessions=sessions,
        allowed_origins=allowed_origins,
        allowed_hosts=allowed_hosts,
    )

    def hidden(path: str, endpoint: Callable[..., Any], *methods: str) -> None:
        allowed = with_head(set(methods or ["GET"]))
        app.add_api_route(path, endpoint, methods=sorted(allowed), include_in_schema=False)

    if credentials.configured:
        # Before the Gradio mounts, which have login routes of their own that we do not use.
        login_page = LoginPage(credentials, sessions, title)
        for path in LOGIN_PATHS:
            hidden(path, login_page, "GET", "POST")
        hidden("/logout", logout(sessions), "GET", "POST")
    app.state.answer_gate = gate  # background work (followed feeds) gives way to answers
    app.state.metrics = metrics  # and counts its polls there
    app.include_router(build_api_router(assistant, gate, recorder))
    app.include_router(build_feedback_router(recorder))
    hidden("/metrics", lambda: Response(metrics.text(), media_type=CONTENT_TYPE))
    digest = None
    if library is not None and question_log is not None and question_embedder is not None:
        digest = QuestionDigest(question_log, question_embedder)
        hidden(CSV_PATH, digest.csv_response)
    app.add_exception_handler(RequestValidationError, validation_error)
    # The API's page works offline: Swagger UI from its Python package, not from a CDN. Only
    # the files the page loads: the package's own index.html would fetch a demo from the web.
    for name in DOCS_FILES:
        hidden(f"{DOCS_ASSETS}/{name}", _docs_file(name))
    hidden("/api/docs", _api_docs)
    hidden(f"{WIDGET_PATH}/gradio.js", _web_component_script)
    hidden(WIDGET_PATH, _widget_redirect)
    shelf = catalog if catalog is not None else library
    if isinstance(shelf, ArticleShelf):  # sources without a web address link to their text
        for path in article_routes(("", WIDGET_PATH)):
            hidden(path, article_page(shelf))
    # Gradio's upload route exists in every mounted app; only the Library's file field uses it.
    # Where there is none (the widget; a chat without the Library) an upload is refused, so an
    # open server is no file host. Before the mounts, so these routes match first.
    # Gradio's voice recording route takes files too, and no page records.
    no_uploads = [f"{prefix}/gradio_api/process_recording" for prefix in ("", WIDGET_PATH)]
    no_uploads.append(f"{WIDGET_PATH}/gradio_api/upload")
    if library is None:
        no_uploads.append("/gradio_api/upload")
    for path in no_uploads:
        hidden(
            path, lambda: JSONResponse({"detail": "This page takes no file uploads."}, 403), "POST"
        )
    # Gradio's `run` routes reply once, with a generator's first update: the chat's answer would
    # be its progress note (or nothing). Say where it streams instead.
    for prefix in ("", WIDGET_PATH):
        for route in ("run", "api"):
            for slash in ("", "/"):
                hidden(
                    f"{prefix}/gradio_api/{route}/chat{slash}",
                    lambda: JSONResponse({"detail": ONE_REPLY_REFUSED}, 400),
                    "POST",
                )
    # Gradio's monitoring pages (queue statistics: event names, times) are not served at all.
    for path in ("/monitoring", "/monitoring/{rest:path}"):
        for prefix in ("", WIDGET_PATH):
            hidden(prefix + path, lambda: JSONResponse({"detail": "Not Found"}, 404), "GET", "HEAD")
    hidden(API_FALLBACK, api_fallback, *EVERY_METHOD)  # last of the /api routes

    css = [STATIC / "newsbot.css"]
    shim = (STATIC / "storage-shim.js").read_text(encoding="utf-8")
    # The widget first: a mount at "/" would otherwise swallow /widget.
    widget = build_widget_blocks(
        assistant, examples, gate=gate, title=title, sessions=answering, recorder=recorder
    )
    chat = build_chat_blocks(
        assistant,
        library,
        examples,
        gate=gate,
        title=title,
        catalog=catalog,
        sessions=answering,
        upload_max_age=upload_max_age,
        recorder=recorder,
        questions=digest,
    )
    pages: list[tuple[gr.Blocks, str, list[str], list[Path]]] = [
        (widget, WIDGET_PATH, [], [*css, STATIC / "widget.css"]),
        (chat, "/", ["api"], css),
    ]
    for blocks, path, footer_links, css_paths in pages:
        gr.mount_gradio_app(
            app,
            blocks,
            path=path,
            footer_links=footer_links,
            css_paths=css_paths,
            theme=gr.themes.Soft(primary_hue="blue", neutral_hue="slate"),
            ssr_mode=False,
            show_error=False,
            run_history=False,
            max_file_size=max_upload_bytes,
            head=f"<script>{shim}</script>",
        )
        # Gradio checks that a file named in a request is one of its uploads only once the app
        # "has launched", which `launch()` marks and `mount_gradio_app` does not: without this,
        # any request could make it copy any server file (or glob) into an event's input.
        blocks.has_launched = True
    refuse_gradio_fetches()  # and no other way Gradio has to fetch a URL works (no_remote_files)
    delete_refused_uploads()  # a refused upload's temporary files are deleted (uploads)
    log.debug(
        "web app built: origins=%s hosts=%s auth=%s api_key=%s",
        allowed_origins,
        allowed_hosts,
        credentials.login is not None,
        bool(api_key),
    )
    return app
