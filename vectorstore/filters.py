"""Date range and source filters as Chroma sees them: the `where` of a filtered search.

Sources are matched case-insensitively. Chroma compares strings exactly, so the store first maps
the requested names onto the spellings it holds (the registry's distinct sources) and filters on
those with `$in`: collections ingested before filters existed work unchanged. Reading a filter
from user input is `bot.answer.filters`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from vectorstore.chunks import day_number


def stored_spellings(wanted: Sequence[str], stored: Iterable[str]) -> list[str]:
    """The stored source names equal to one of `wanted` when case is ignored."""
    keys = {name.casefold() for name in wanted}
    return sorted({name for name in stored if name.casefold() in keys})


def chroma_where(
    *, since: date | None, until: date | None, dated_only: bool, sources: Sequence[str]
) -> dict[str, Any] | None:
    """The Chroma `where` for chunks published in `since..until` (either may be open) from one
    of `sources` (any when empty); None when nothing is filtered.

    With `dated_only`, undated chunks (`published_ts` -1) are left out: the lower bound is then
    at least day 0. Without it, `until` alone keeps undated chunks (the "as of" rule).
    """
    clauses: list[dict[str, Any]] = []
    if dated_only:
        first = max(day_number(since), 0) if since is not None else 0
        clauses.append({"published_ts": {"$gte": first}})
    if until is not None:
        clauses.append({"published_ts": {"$lte": day_number(until)}})
    if sources:
        clauses.append({"source": {"$in": list(sources)}})
    if not clauses:
        return None
    # Chroma wants `$and` to hold two or more clauses.
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
