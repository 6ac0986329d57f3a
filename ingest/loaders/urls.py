"""http(s) URLs of article pages and feeds, fetched by `ingest.loaders.fetching` under its policy.

The response's content type decides how it is read (feed, HTML page, JSON, plain text); when the
server says nothing useful, the first bytes are sniffed. The page's final URL (after redirects) is
the article's url unless the page names a canonical one. Which addresses may be fetched, and how
many bytes and seconds a fetch may take, is the `FetchPolicy`'s business.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

from ingest.article import Article, ArticleInputError, InputProblem
from ingest.loaders.feeds import articles_from_feed
from ingest.loaders.fetching import FetchPolicy, fetch
from ingest.loaders.html import article_from_html, decode_html
from ingest.loaders.jsonl import TOO_DEEP, article_from_record
from ingest.loaders.reading import decode_text
from ingest.loaders.text import article_from_text

logger = logging.getLogger(__name__)

_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")
_XML_TYPES = ("application/xml", "text/xml")


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
    """The article (page) or articles (feed) at an http(s) URL.

    Args:
        url: the address.
        policy: what the fetch may reach (addresses) and spend (bytes, seconds, redirects).
        max_chars: the longest article text accepted.

    Raises:
        ArticleInputError: the URL is refused, cannot be fetched, is too large, or holds no article.
    """
    fetched = fetch(url, policy)
    data = fetched.body
    if not data.strip():
        raise ArticleInputError(url, "the server sent an empty response")
    content_type = fetched.content_type
    kind = _kind(content_type, data)
    logger.debug("%s: %s (%s, %d bytes)", url, kind, content_type or "no content type", len(data))
    if kind == "feed":
        yield from articles_from_feed(data, url, max_chars)
        return
    if kind == "html":
        html = decode_html(data, url, declared=fetched.charset)
        article, problems = article_from_html(html, url, url=fetched.url, max_chars=max_chars)
    elif kind == "json":
        try:
            record = json.loads(decode_text(data, url))
        except ValueError as exc:
            raise ArticleInputError(url, f"not valid JSON ({exc})") from exc
        except RecursionError as exc:
            raise ArticleInputError(url, TOO_DEEP) from exc
        article, problems = article_from_record(record, url, max_chars)
    elif kind == "text":
        text = decode_text(data, url)
        article, problems = article_from_text(
            text, url, markdown=False, url=fetched.url, max_chars=max_chars
        )
    else:
        raise ArticleInputError(
            url, f"unsupported content type {content_type!r} (expected an HTML page or a feed)"
        )
    yield article
    yield from problems
