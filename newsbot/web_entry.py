"""What `newsbot serve` runs: build the assistant and library from the settings, serve the app.

An app with no credential is served only on loopback, or with `--public`, and then without
the Library tab.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from newsbot.settings import Settings

if TYPE_CHECKING:
    import fastapi

    from bot.web.limits import AnswerGate
    from vectorstore.store import NewsStore

log = logging.getLogger(__name__)

FOLLOW_PATIENCE = 60.0
"""Longest a poll step waits for the answers in flight to end before it goes ahead anyway."""

EXAMPLE_QUESTIONS = (
    "What did Pakistan and the US agree on?",
    "How many smart kettles did Brightwell recall, and why?",
    "What did the climate panel warn coastal towns about?",
)


def build_web_app(
    settings: Settings,
    *,
    library: bool = True,
    host: str | None = None,
    store: NewsStore | None = None,
) -> fastapi.FastAPI:
    """The FastAPI app (chat, library tab, /widget, /api) over the configured parts.

    `library=False` leaves the Library tab out (no ingest or delete through the web). A `host`
    that is a name (`--host news.example.com`) is served besides NEWSBOT_ALLOWED_HOSTS.
    `store`: the store to answer from (default: the configured one, opened here).
    """
    from bot.web.app import build_app
    from bot.web.stopping import stoppable_http_client
    from newsbot.factories import build_assistant, build_registry, build_store
    from newsbot.follow_command import follow_desk
    from newsbot.library import StoreLibrary
    from newsbot.login_records import DatabaseLoginRecords
    from newsbot.question_log import open_question_log

    store = store if store is not None else build_store(settings)
    database = store.registry.database
    return build_app(
        # The model's calls go through a client a disconnect can stop (bot.web.stopping).
        build_assistant(settings, store, stoppable_http_client()),
        StoreLibrary(settings, store, follow_desk(store)) if library else None,
        catalog=store,  # the header's "what it knows" line, with or without the Library tab
        allowed_origins=settings.web.allowed_origins,
        allowed_hosts=[*settings.web.allowed_hosts, *_bound_name(host)],
        auth=settings.web.auth,
        api_key=settings.web.api_key,
        examples=EXAMPLE_QUESTIONS,
        max_upload_bytes=settings.limits.max_input_bytes,
        max_active_answers=settings.limits.max_active_answers,
        max_queued_questions=settings.limits.max_queued_questions,
        max_queue_wait=settings.limits.max_queue_wait,
        # Beside the article registry: shared by every replica when that is PostgreSQL.
        login_records=DatabaseLoginRecords(database),
        # Off by default: with it off, nothing of a question outlives its answer (SECURITY.md).
        # On, it has a connection of its own: a write or vote waiting on the database must not
        # hold the connection every request's sign-in check goes through.
        question_log=open_question_log(
            build_registry(settings).database if settings.web.log_questions else database,
            settings.web.log_questions,
            settings.web.log_retention_days,
        ),
        question_embedder=store.embeddings,  # the editors' view groups questions with it
    )


def run_server(
    settings: Settings,
    *,
    host: str,
    port: int,
    public: bool = False,
    on_ready: Callable[[str], None] | None = None,
    quiet: bool = False,
    on_allowed: Callable[[], object] | None = None,
) -> None:
    """Serve until interrupted; the local model loads on the first question.

    `on_ready` receives the line saying where it serves, once it listens; `quiet` logs no
    request, only warnings and errors; `on_allowed` runs once the exposure check has passed
    (the CLI creates the data dir there, so a refused start leaves nothing behind).

    Raises:
        ConfigError: for an open app (no credential) on a network address without `public`.
    """
    from bot.web.server import check_exposure, is_loopback, serve

    credentials = bool(settings.web.auth or settings.web.api_key)
    check_exposure(host, credentials=credentials, public=public)
    if on_allowed is not None:
        on_allowed()
    library = library_allowed(host, credentials=credentials)
    if not library:
        log.warning("serving open on %s (--public): the Library tab is left out", host)
    if not is_loopback(host) and not settings.web.allowed_hosts and not _bound_name(host):
        log.warning(
            "only IP addresses and localhost are answered; set NEWSBOT_ALLOWED_HOSTS to the "
            'names clients use (e.g. ["news.example.com"])'
        )
    from newsbot.factories import build_store

    store = build_store(settings)
    app = build_web_app(settings, library=library, host=host, store=store)
    stop_following = _follow_in_background(settings, store, app)
    json_lines = settings.web.log_format == "json"
    if json_lines:
        on_ready = None  # the "serving on" line is a JSON log record too (bot.web.server's)
    try:
        serve(
            app,
            host=host,
            port=port,
            on_ready=on_ready,
            trusted_proxies=settings.web.trusted_proxies,
            quiet=quiet,
            json_lines=json_lines,
        )
    finally:
        if stop_following is not None:
            stop_following.set()


def _follow_in_background(
    settings: Settings, store: NewsStore, app: fastapi.FastAPI
) -> threading.Event | None:
    """Poll the followed sources on a background thread that waits while questions are being
    answered (NEWSBOT_FOLLOW_IN_SERVE) and counts its polls in the app's `/metrics`; the event
    stops it. None when it is off."""
    if not settings.fetch.follow_in_serve:
        return None
    from newsbot.follow_command import start_follow_thread

    return start_follow_thread(
        settings, store, answers_first(app.state.answer_gate), app.state.metrics.polled
    )


def answers_first(gate: AnswerGate) -> Callable[[], None]:
    """The follow poller's pause in `newsbot serve`: wait while questions are being answered or
    queued, at most FOLLOW_PATIENCE seconds (under unbroken load the feeds must still come in)."""

    def give_way() -> None:
        gate.wait_idle(FOLLOW_PATIENCE)

    return give_way


def _bound_name(host: str | None) -> list[str]:
    """`[host]` when the server binds to a DNS name rather than an address."""
    import ipaddress

    if not host:
        return []
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return [host.lower()]
    return []


def library_allowed(host: str, *, credentials: bool) -> bool:
    """Whether the web Library (ingest, delete) is offered: not on an open app on a network.

    Anyone may then ask, but nobody may ingest uploads or URLs, or delete.
    """
    from bot.web.server import is_loopback

    return credentials or is_loopback(host)
