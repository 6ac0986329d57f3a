"""http(s) URLs of article pages and feeds, fetched by `ingest.loaders.fetching` under its policy.

The response's content type decides how it is read (feed, HTML page, JSON, plain text); when the
server says nothing useful, the first bytes are sniffed. The page's final URL (after redirects) is
the article's url unless the page names a canonical one. Which addresses may be fetched, and how
many bytes and seconds a fetch may take, is the `FetchPolicy`'s business.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from ingest.article import Article, ArticleInputError, InputProblem
from ingest.loaders.feeds import read_feed
from ingest.loaders.fetching import FetchPolicy, fetch
from ingest.loaders.html import read_html
from ingest.loaders.jsonl import read_json
from ingest.loaders.text import read_text

logger = logging.getLogger(__name__)

_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")
_XML_TYPES = ("application/xml", "text/xml")
_READERS: dict[str, Callable[..., Iterator[Article | InputProblem]]] = {
    "feed": read_feed,
    "html": read_html,
    "json": read_json,
    "text": read_text,
}


def is_url(value: str) -> bool:
    """Whether a command-line argument is an http(s) URL (the scheme in any case)."""
    return value.lower().startswith(("http://", "https://"))


def _kind(content_type: str, data: bytes) -> str:
    if content_type in _FEED_TYPES:
        return "feed"
    if content_type in ("text/html", "application/xhtml+xml"):
        return "html"
    if content_type in ("application/json", "application/x-ndjson"):
        return "json"
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if content_type in _XML_TYPES or head.startswith(b"<?xml"):
        return "feed" if (b"<rss" in head or b"<feed" in head or b"<rdf:rdf" in head) else "html"
    if head.startswith((b"<!doctype html", b"<html")) or b"<body" in head:
        return "html"
    if content_type == "text/plain" or not content_type:
        return "text"
    return "unsupported"


def load_url(
    url: str, *, policy: FetchPolicy, max_chars: int | None = None
) -> Iterator[Article | InputProblem]:
    """The article (page) or articles (feed) at an http(s) URL, fetched under `policy`.

    Raises:
        ArticleInputError: the URL is refused, cannot be fetched, is too large, or holds no article.
    """
    fetched = fetch(url, policy)
    if not fetched.body.strip():
        raise ArticleInputError(url, "the server sent an empty response")
    content_type = fetched.content_type
    kind = _kind(content_type, fetched.body)
    logger.debug(
        "%s: %s (%s, %d bytes)", url, kind, content_type or "no content type", len(fetched.body)
    )
    if kind not in _READERS:
        raise ArticleInputError(
            url, f"unsupported content type {content_type!r} (expected an HTML page or a feed)"
        )
    yield from _READERS[kind](
        fetched.body, url, url=fetched.url, charset=fetched.charset, max_chars=max_chars
    )
