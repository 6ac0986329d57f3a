"""What the bot knows: articles, dates and sources, read from the library for the chat page.

`read_knowledge` summarises the library (`stats` and `list_articles`, as `NewsStore` has them);
the page header shows it as one line of HTML (`knowledge_line`) and the chat's Sources filter
offers its sources (`Knowledge.source_names`). `KnowledgeHint` reads it when a page loads and keeps
it for a short while, so a burst of page loads (header and filter alike) reads the registry once;
a new ingest shows within `CACHE_SECONDS`. Everything from articles is escaped.
"""

from __future__ import annotations

import html
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
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

    def stats(self) -> Mapping[str, Any]:
        """Counts, at least `articles` (and usually `chunks`)."""
        ...

    def list_articles(
        self, limit: int = 20, offset: int = 0, query: str | None = None
    ) -> list[ArticleRow]:
        """Stored articles, newest first; `query` filters on title or source."""
        ...


@dataclass(frozen=True)
class Knowledge:
    """What the library holds: `articles` in all, of which `read` were looked at for the dates
    and `sources` (name and article count, most articles first; one spelling per name whatever
    the case). `error` says why the library could not be read (then the rest is empty)."""

    articles: int = 0
    read: int = 0
    first: date | None = None
    last: date | None = None
    sources: tuple[tuple[str, int], ...] = ()
    error: str | None = None

    def source_names(self) -> list[str]:
        """The distinct sources, in alphabetical order (as a reader looks for one)."""
        return sorted((name for name, _ in self.sources), key=str.casefold)


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "")[:10])
    except ValueError:
        return None


def _when(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _distinct_sources(rows: list[ArticleRow]) -> tuple[tuple[str, int], ...]:
    # The store's source filter ignores case, so "Reuters" and "reuters" are one source: its
    # most used spelling names it.
    spellings = Counter(row.source.strip() for row in rows if row.source.strip())
    counts: Counter[str] = Counter()
    names: dict[str, str] = {}
    for name, count in spellings.most_common():
        key = name.casefold()
        names.setdefault(key, name)
        counts[key] += count
    return tuple((names[key], count) for key, count in counts.most_common())


def read_knowledge(catalog: Catalog) -> Knowledge:
    """Read what `catalog` holds (at most MAX_ARTICLES rows for the dates and sources)."""
    try:
        count = int(catalog.stats().get("articles", 0))
        rows: list[ArticleRow] = []
        while len(rows) < min(count, MAX_ARTICLES):
            page = catalog.list_articles(limit=PAGE, offset=len(rows))
            if not page:
                break
            rows += page
    except NewsbotError as exc:
        return Knowledge(error=str(exc))
    days = sorted(d for d in (_day(row.published) for row in rows) if d is not None)
    return Knowledge(
        articles=count,
        read=len(rows),
        first=days[0] if days else None,
        last=days[-1] if days else None,
        sources=_distinct_sources(rows),
    )


def knowledge_line(known: Knowledge) -> str:
    """'<strong>42 articles</strong> from 3 May 2025 to 10 Jun 2025 · sources: Reuters, BBC, AP'.

    Source names are escaped: this is HTML, not Markdown (no link can be formed).
    """
    if known.error is not None:
        return f"The library cannot be read now: {html.escape(known.error)}"
    count = known.articles
    if count == 0:
        return "<strong>No articles yet</strong>: add some with <code>newsbot ingest</code>."
    parts = [f"<strong>{count} article{'s' if count != 1 else ''}</strong>"]
    if known.first is not None and known.last is not None:
        start = "at least " if known.read < count else ""
        parts[0] += (
            f" from {start}{_when(known.first)} to {_when(known.last)}"
            if known.first != known.last
            else f" from {_when(known.first)}"
        )
    if known.sources:
        names = [html.escape(name) for name, _ in known.sources[:TOP_SOURCES]]
        more = len(known.sources) - len(names)
        parts.append("sources: " + ", ".join(names) + (f" and {more} more" if more > 0 else ""))
    return " · ".join(parts)


class KnowledgeHint:
    """`read_knowledge(catalog)`, read again at most every `CACHE_SECONDS`; called, the header
    line (a Gradio component's value, computed on each page load)."""

    def __init__(self, catalog: Catalog, ttl: float | None = None) -> None:
        self.catalog = catalog
        self.ttl = CACHE_SECONDS if ttl is None else ttl
        self._lock = threading.Lock()
        self._cached: tuple[float, Knowledge] | None = None

    def knowledge(self) -> Knowledge:
        """What the library holds, at most `ttl` seconds old."""
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] > self.ttl:
                self._cached = (now, read_knowledge(self.catalog))
            return self._cached[1]

    def __call__(self) -> str:
        return knowledge_line(self.knowledge())
