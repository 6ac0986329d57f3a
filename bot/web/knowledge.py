"""What the bot knows, as one line of HTML for the page header: articles, dates, sources.

Computed from the article library (`stats` and `list_articles`, as `NewsStore` has them) when a
page loads, and cached for a short while so a burst of page loads reads the registry once; a new
ingest shows within `CACHE_SECONDS`. Everything from articles is escaped.
"""

from __future__ import annotations

import html
import threading
import time
from collections import Counter
from collections.abc import Mapping
from datetime import date
from typing import Any, Protocol

from newsbot.errors import NewsbotError
from vectorstore.records import ArticleRow

CACHE_SECONDS = 10.0
"""How long one summary is reused before the library is read again."""
PAGE = 1000
"""Articles read per `list_articles` call."""
MAX_ARTICLES = 20_000
"""Most articles read for the date range and sources; beyond, the hint says 'from at least'."""
TOP_SOURCES = 3
"""Sources named in the hint, most articles first."""


class Catalog(Protocol):
    """The read-only part of the library the hint needs (`NewsStore` and the web Library)."""

    def stats(self) -> Mapping[str, Any]: ...

    def list_articles(
        self, limit: int = 20, offset: int = 0, query: str | None = None
    ) -> list[ArticleRow]: ...


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "")[:10])
    except ValueError:
        return None


def _when(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def knowledge_html(catalog: Catalog) -> str:
    """'<strong>42 articles</strong> from 3 May 2025 to 10 Jun 2025 · sources: Reuters, BBC, AP'.

    Titles and source names are escaped: this is HTML, not Markdown (no link can be formed).
    """
    try:
        count = int(catalog.stats().get("articles", 0))
        rows: list[ArticleRow] = []
        while len(rows) < min(count, MAX_ARTICLES):
            page = catalog.list_articles(limit=PAGE, offset=len(rows))
            if not page:
                break
            rows += page
    except NewsbotError as exc:
        return f"The library cannot be read now: {html.escape(str(exc))}"
    if count == 0:
        return "<strong>No articles yet</strong>: add some with <code>newsbot ingest</code>."
    parts = [f"<strong>{count} article{'s' if count != 1 else ''}</strong>"]
    days = sorted(d for d in (_day(row.published) for row in rows) if d is not None)
    if days:
        start = "at least " if len(rows) < count else ""
        parts[0] += (
            f" from {start}{_when(days[0])} to {_when(days[-1])}"
            if days[0] != days[-1]
            else f" from {_when(days[0])}"
        )
    sources = Counter(row.source.strip() for row in rows if row.source.strip())
    if sources:
        names = [html.escape(name) for name, _ in sources.most_common(TOP_SOURCES)]
        more = len(sources) - len(names)
        parts.append("sources: " + ", ".join(names) + (f" and {more} more" if more > 0 else ""))
    return " · ".join(parts)


class KnowledgeHint:
    """`knowledge_html(catalog)`, recomputed at most every `CACHE_SECONDS`."""

    def __init__(self, catalog: Catalog, ttl: float = CACHE_SECONDS) -> None:
        self.catalog = catalog
        self.ttl = ttl
        self._lock = threading.Lock()
        self._cached: tuple[float, str] | None = None

    def __call__(self) -> str:
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] > self.ttl:
                self._cached = (now, knowledge_html(self.catalog))
            return self._cached[1]
