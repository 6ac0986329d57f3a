"""Date range and source filters: read from what a user typed, and turned into a Chroma `where`.

`make_filter` is the one place that reads a filter from text (the CLI's `--since/--until/--source`,
the JSON API's fields, the widget's URL parameters), so all of them accept the same dates and give
the same one-line errors. `chroma_where` is what `NewsStore.search` sends to Chroma.

Sources are matched case-insensitively. Chroma compares strings exactly, so the store first maps
the requested names onto the spellings it holds (the registry's distinct sources) and filters on
those with `$in`: collections ingested before filters existed work unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any, Final

from newsbot.errors import InputError
from vectorstore.chunks import day_number
from vectorstore.records import SearchFilter

MAX_SOURCES: Final = 20
MAX_SOURCE_CHARS: Final = 200
DATE_HELP: Final = "YYYY-MM-DD, or Nd for N days ago (7d)"
_RELATIVE = re.compile(r"(\d{1,5})d", re.IGNORECASE)


def parse_day(text: str, name: str, today: date) -> date:
    """A day from "YYYY-MM-DD" or "Nd" (N days before `today`); `name` says which input it was.

    Raises:
        InputError: not one of those forms.
    """
    value = text.strip()
    relative = _RELATIVE.fullmatch(value)
    if relative:
        return today - timedelta(days=int(relative.group(1)))
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{name} {text!r} is not a date: use {DATE_HELP}") from None


def make_filter(
    since: str | date | None = None,
    until: str | date | None = None,
    sources: Iterable[str] = (),
    today: date | None = None,
) -> SearchFilter:
    """A checked `SearchFilter` from user input (relative days count back from `today`).

    Blank sources are dropped and repeats removed (case-insensitively, first spelling kept).

    Raises:
        InputError: a date that cannot be read, `since` after `until`, more than MAX_SOURCES
            sources, or a source longer than MAX_SOURCE_CHARS.
    """
    today = today or date.today()
    first = parse_day(since, "since", today) if isinstance(since, str) else since
    last = parse_day(until, "until", today) if isinstance(until, str) else until
    if first is not None and last is not None and first > last:
        raise InputError(
            f"since {first.isoformat()} is after until {last.isoformat()}: swap them or drop one"
        )
    kept: dict[str, str] = {}
    for source in sources:
        name = source.strip()
        if len(name) > MAX_SOURCE_CHARS:
            raise InputError(
                f"source {name[:40]!r}... is longer than {MAX_SOURCE_CHARS} characters: "
                "give the source's name as stored (newsbot list shows it)"
            )
        if name:
            kept.setdefault(name.casefold(), name)
    if len(kept) > MAX_SOURCES:
        raise InputError(f"{len(kept)} sources given: filter on at most {MAX_SOURCES}")
    return SearchFilter(since=first, until=last, sources=tuple(kept.values()))


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
