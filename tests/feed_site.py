"""A news site on a loopback port for the follow tests: feeds, sitemaps and article pages that a
test changes while pollers read them, with every request counted and timed.

Each page has an ETag (a hash of its body) and a Last-Modified time; a request that sends the
current ETag back gets 304. A path can be made to fail with a status, or to answer slowly.
`rss` and `article_html` build the documents.
"""

from __future__ import annotations

import hashlib
import html
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.loopback_http import serving


@dataclass
class Hit:
    """One request: its path, when it arrived (monotonic seconds), the status sent (0 while it
    is in flight), the User-Agent."""

    path: str
    at: float
    status: int
    agent: str


@dataclass
class Site:
    """The pages served (path -> content type and body) and what was asked of them."""

    base: str = ""
    pages: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    modified: dict[str, float] = field(default_factory=dict)
    failing: dict[str, int] = field(default_factory=dict)
    slow: dict[str, float] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, path: str, body: str, content_type: str = "text/html; charset=utf-8") -> None:
        with self.lock:
            self.pages[path] = (content_type, body.encode())
            self.modified[path] = time.time()

    def url(self, path: str) -> str:
        return self.base + path

    def requests(self, path: str, status: int | None = None) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if h.path == path and status in (None, h.status)]


class _Handler(BaseHTTPRequestHandler):
    site: Site

    def do_GET(self) -> None:
        site = self.site
        path = self.path
        hit = Hit(path, time.monotonic(), 0, self.headers.get("User-Agent", ""))
        with site.lock:
            site.hits.append(hit)  # status 0 until answered: in flight
        delay = site.slow.get(path, 0.0)
        if delay:
            time.sleep(delay)
        with site.lock:
            page = site.pages.get(path)
            failing = site.failing.get(path)
            modified = site.modified.get(path, 0.0)
        headers: dict[str, str] = {}
        if failing:
            status, body = failing, b"failing on purpose"
        elif page is None:
            status, body = 404, b"not found"
        else:
            content_type, body = page
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            headers = {
                "Content-Type": content_type,
                "ETag": etag,
                "Last-Modified": formatdate(modified, usegmt=True),
            }
            status = 304 if self.headers.get("If-None-Match") == etag else 200
            if status == 304:
                body = b""
        hit.status = status
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a poller killed mid-request leaves a broken pipe: not the test's business


@contextmanager
def serve_site() -> Iterator[Site]:
    """A `Site` served on 127.0.0.1 (a free port) until the block ends."""
    site = Site()
    handler = type("Handler", (_Handler,), {"site": site})
    server = _Server(("127.0.0.1", 0), handler)
    with serving(server) as base:
        site.base = base
        yield site


def rss(site: Site, items: list[tuple[str, str, str, str]], title: str = "Merrow Gazette") -> str:
    """An RSS 2.0 feed of (path, title, summary, date) items, links on `site`."""
    entries = "".join(
        f"<item><title>{html.escape(t)}</title><link>{site.url(p)}</link>"
        f"<guid isPermaLink='true'>{site.url(p)}</guid>"
        f"<description>{html.escape(s)}</description><pubDate>{d}</pubDate></item>"
        for p, t, s, d in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{html.escape(title)}</title><link>{site.base}/</link>"
        f"<description>News</description>{entries}</channel></rss>"
    )


def article_html(title: str, paragraphs: list[str], site_name: str = "Merrow Gazette") -> str:
    """An article page trafilatura reads: a headline, the site's name, the body paragraphs."""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (
        f"<!doctype html><html><head><title>{html.escape(title)}</title>"
        f'<meta property="og:site_name" content="{html.escape(site_name)}">'
        f'<meta property="og:title" content="{html.escape(title)}"></head>'
        f"<body><nav><a href='/'>Home</a></nav><article><h1>{html.escape(title)}</h1>"
        f"{body}</article><footer>Merrow Gazette</footer></body></html>"
    )
