"""http(s) URLs of article pages and feeds, fetched with httpx under a timeout and a size cap.

The response's content type decides how it is read (feed, HTML page, JSON, plain text); when the
server says nothing useful, the first bytes are sniffed. The page's final URL (after redirects) is
the article's url unless the page names a canonical one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx

from ingest.article import Article, ArticleInputError, InputProblem
from ingest.loaders.feeds import articles_from_feed
from ingest.loaders.html import article_from_html, decode_html
from ingest.loaders.jsonl import article_from_record
from ingest.loaders.reading import decode_text, too_large
from ingest.loaders.text import article_from_text

logger = logging.getLogger(__name__)

USER_AGENT = "newsbot/0.1 (news question answering; +https://github.com/)"
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")
_XML_TYPES = ("application/xml", "text/xml")


def is_url(value: str) -> bool:
    """Whether a command-line argument is an http(s) URL."""
    return value.lower().startswith(("http://", "https://"))


def _fetch(
    url: str, client: httpx.Client, max_bytes: int, timeout: float
) -> tuple[bytes, httpx.Response]:
    try:
        with client.stream("GET", url) as response:
            if response.status_code >= 400:
                raise ArticleInputError(
                    url, f"the server answered HTTP {response.status_code} {response.reason_phrase}"
                )
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise too_large(url, int(declared), max_bytes)
            body = bytearray()
            for piece in response.iter_bytes():
                body.extend(piece)
                if len(body) > max_bytes:
                    raise too_large(url, f"more than {max_bytes}", max_bytes)
            return bytes(body), response
    except httpx.TimeoutException as exc:
        raise ArticleInputError(
            url, f"no answer within {timeout:g} s (raise NEWSBOT_HTTP_TIMEOUT to wait longer)"
        ) from exc
    except httpx.HTTPError as exc:
        raise ArticleInputError(url, f"cannot fetch the URL ({exc})") from exc


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
    url: str, *, max_bytes: int, timeout: float, client: httpx.Client | None = None
) -> Iterator[Article | InputProblem]:
    """The article (page) or articles (feed) at an http(s) URL.

    Args:
        url: the address.
        max_bytes: largest response body accepted.
        timeout: seconds to wait for the server (connect and each read).
        client: an httpx client to reuse; a new one is made (and closed) when None.

    Raises:
        ArticleInputError: the URL cannot be fetched, is too large, or holds no article.
    """
    own = client is None
    http = client or httpx.Client(
        timeout=timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT}
    )
    try:
        data, response = _fetch(url, http, max_bytes, timeout)
    finally:
        if own:
            http.close()
    if not data.strip():
        raise ArticleInputError(url, "the server sent an empty response")
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    final_url = str(response.url)
    kind = _kind(content_type, data)
    logger.debug("%s: %s (%s, %d bytes)", url, kind, content_type or "no content type", len(data))
    if kind == "feed":
        yield from articles_from_feed(data, url)
        return
    if kind == "html":
        html = decode_html(data, url, declared=response.charset_encoding)
        article, problems = article_from_html(html, url, url=final_url)
    elif kind == "json":
        try:
            record = json.loads(decode_text(data, url))
        except ValueError as exc:
            raise ArticleInputError(url, f"not valid JSON ({exc})") from exc
        article, problems = article_from_record(record, url)
    elif kind == "text":
        text = decode_text(data, url)
        article, problems = article_from_text(text, url, markdown=False, url=final_url)
    else:
        raise ArticleInputError(
            url, f"unsupported content type {content_type!r} (expected an HTML page or a feed)"
        )
    yield article
    yield from problems
