"""A reader's filter (date range, sources) read from what they typed, checked in one place.

`make_filter` reads the CLI's `--since/--until/--source`, the JSON API's fields and the widget's
URL parameters, so all of them accept the same dates (YYYY-MM-DD, or `7d` for seven days ago) and
give the same one-line errors. The store applies the `SearchFilter` (`NewsStore.search`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Final

from newsbot.errors import InputError
from vectorstore.records import SearchFilter

__all__ = [
    "DATE_HELP",
    "MAX_SOURCES",
    "MAX_SOURCE_CHARS",
    "SearchFilter",
    "make_filter",
    "parse_day",
]

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
