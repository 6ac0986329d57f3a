"""What `newsbot serve` runs: build the assistant and library from the settings, serve the app."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from newsbot.settings import Settings

if TYPE_CHECKING:
    import fastapi

log = logging.getLogger(__name__)

EXAMPLE_QUESTIONS = (
    "What did Pakistan and the US agree on?",
    "How many smart kettles did Brightwell recall, and why?",
    "What did the climate panel warn coastal towns about?",
)


def build_web_app(settings: Settings) -> fastapi.FastAPI:
    """The FastAPI app (chat, library tab, /widget, /api) over the configured parts."""
    from bot.web.app import build_app
    from newsbot.factories import build_assistant, build_store
    from newsbot.library import StoreLibrary

    store = build_store(settings)
    return build_app(
        build_assistant(settings, store),
        StoreLibrary(settings, store),
        allowed_origins=settings.allowed_origins,
        auth=settings.auth,
        api_key=settings.api_key,
        examples=EXAMPLE_QUESTIONS,
        max_upload_bytes=settings.max_input_bytes,
    )


def run_server(settings: Settings, *, host: str, port: int) -> None:
    """Serve until interrupted; the local model loads on the first question."""
    from bot.web.server import serve

    serve(build_web_app(settings), host=host, port=port)
