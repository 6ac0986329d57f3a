"""Date range and source filters as Chroma sees them: the `where` of a filtered search.

Sources are matched case-insensitively. Chroma compares strings exactly, so the store first maps
the requested names onto the spellings it holds (the registry's distinct sources) and filters on
those with `$in`: collections ingested before filters existed work unchanged. Reading a filter
from user input is `bot.answer.question.make_filter`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from vectorstore.chunks import day_number


def stored_spellings(wanted: Sequence[str], stored: Iterable[str]) -> list[str]:
    """The stored source names equal to one of `wanted` when case is ignored."""
    keys = {name.casefold() for name in wanted}
    return sorted({name for name in stored if name.casefold() in keys})


@dataclass(frozen=True)
class ChunkFilter:
    """Which chunks a filtered search keeps: `published_ts` within `first_day..last_day` (days
    since 1970-01-01; None: open) and `source` one of `sources` (exact; empty: any)."""

    first_day: int | None
    last_day: int | None
    sources: tuple[str, ...]

    def where(self) -> dict[str, Any]:
        """The Chroma `where` of this filter."""
        clauses: list[dict[str, Any]] = []
        if self.first_day is not None:
            clauses.append({"published_ts": {"$gte": self.first_day}})
        if self.last_day is not None:
            clauses.append({"published_ts": {"$lte": self.last_day}})
        if self.sources:
            clauses.append({"source": {"$in": list(self.sources)}})
        # Chroma wants `$and` to hold two or more clauses.
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def keeps_day(self, day: int, source: str) -> bool:
        """True when `where` keeps a chunk published on epoch day `day` (-1: undated) by
        `source`."""
        if self.first_day is not None and day < self.first_day:
            return False
        if self.last_day is not None and day > self.last_day:
            return False
        return not self.sources or source in self.sources


def chunk_filter(
    *, since: date | None, until: date | None, dated_only: bool, sources: Sequence[str]
) -> ChunkFilter | None:
    """The filter for chunks published in `since..until` (either may be open) from one of
    `sources` (any when empty); None when nothing is filtered.

    With `dated_only`, undated chunks (`published_ts` -1) are left out: the lower bound is then
    at least day 0. Without it, `until` alone keeps undated chunks (the "as of" rule).
    """
    first = None
    if dated_only:
        first = max(day_number(since), 0) if since is not None else 0
    last = day_number(until) if until is not None else None
    if first is None and last is None and not sources:
        return None
    return ChunkFilter(first, last, tuple(sources))
