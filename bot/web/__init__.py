"""The browser chat, the embeddable widget and the JSON API, on one FastAPI app."""

from bot.web.app import build_app
from bot.web.library import Library
from bot.web.server import serve

__all__ = ["Library", "build_app", "serve"]
