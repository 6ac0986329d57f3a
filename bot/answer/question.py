"""A question to the assistant, as every entry point asks it, and what it asks about in time.

`Question` is the one value the CLI, the terminal chat, the web chat, the JSON API and `newsbot
eval` hand to `bot.answer.assistant.Assistant`: the text, the conversation so far, the day it is
answered as of and the reader's filter. `make_filter` reads that filter from what a reader typed
(the CLI's `--since/--until/--source`, the JSON API's fields, the page's URL parameters), so all
of them accept the same dates (YYYY-MM-DD, or `7d` for seven days ago) and give the same one-line
errors; the store applies it (`NewsStore.search`).

`question_window` is the time a question's own words name: "this week", "yesterday", "last
month", "last Friday", "recently" (the past month), "in June 2022", as the publication days to
prefer, relative to `as_of`. Each window is what the phrase says plus a day of slack (an article
about Tuesday's events is often dated Wednesday, and time zones differ); none is fitted to any
benchmark. A question with no such phrase has no window: the store's recency prior alone then
prefers newer stories, softly. The window is a preference, not a filter:
`bot.answer.chain.retrieve_passages` searches inside it first and fills up from outside when it
holds too few passages.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from bot.answer.history import ChatTurn
from newsbot.errors import InputError
from vectorstore.records import SearchFilter

__all__ = [
    "DATE_HELP",
    "EARLIEST_DAY",
    "EVERYTHING",
    "LATEST_DAY",
    "MAX_QUESTION_CHARS",
    "MAX_SOURCES",
    "MAX_SOURCE_CHARS",
    "Question",
    "SearchFilter",
    "Window",
    "make_filter",
    "named_days",
    "parse_day",
    "question_window",
]

EVERYTHING: Final = SearchFilter()
"""No filter: every stored article may answer."""

MAX_QUESTION_CHARS: Final = 2000
"""Longest question accepted at every door: a question, not an article pasted in (it would
overflow the model's context and be refused there with a message about the model's settings)."""

EARLIEST_DAY: Final = date(1900, 1, 1)
LATEST_DAY: Final = date(2999, 12, 31)
"""The days a question may be asked as of or filtered on: counting days back or forward from a
day near `date.min` or `date.max` would overflow, and no news is dated there."""


def in_range(day: date, name: str) -> date:
    """`day`, when it lies within EARLIEST_DAY..LATEST_DAY; `name` says which input it was.

    Raises:
        InputError: it does not.
    """
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise InputError(
            f"{name} {day.isoformat()} is out of range: "
            f"use a day from {EARLIEST_DAY.year} to {LATEST_DAY.year}"
        )
    return day


@dataclass(frozen=True)
class Question:
    """One question: its `text`, the earlier turns of the conversation (`history`, oldest
    first; the assistant keeps the recent ones), the day it is answered as of (`as_of`; None:
    today) and the date range and sources it searches (`filters`; empty: everything). A chat
    asks every question of a conversation with the same filter, so follow-ups keep it."""

    text: str
    history: Sequence[ChatTurn] = ()
    as_of: date | None = None
    filters: SearchFilter = EVERYTHING

    def __post_init__(self) -> None:
        if len(self.text) > MAX_QUESTION_CHARS:
            raise InputError(
                f"the question is {len(self.text):,} characters long: "
                f"keep it under {MAX_QUESTION_CHARS:,}"
            )
        for said in [self.text, *(turn["content"] for turn in self.history)]:
            _check_text(said)
        if self.as_of is not None:
            in_range(self.as_of, "as of")
        since = self.filters.since
        if since is not None and since > self.day:  # nothing published by then can be found
            raise InputError(
                f"since {since.isoformat()} is after the day the question is asked as of, "
                f"{self.day.isoformat()}: move one of them"
            )

    @property
    def day(self) -> date:
        """The day the question is answered as of."""
        return self.as_of or date.today()


def _check_text(text: str) -> None:
    """Raise InputError when `text` holds a lone surrogate: bytes that were not UTF-8 (a terminal
    in another encoding), which Python keeps as such and no tokenizer can read."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(
            "the question holds bytes that are not UTF-8 text: "
            "set your terminal (or request) to UTF-8 and ask again"
        ) from None


# --- the reader's filter -----------------------------------------------------------------------

MAX_SOURCES: Final = 20
MAX_SOURCE_CHARS: Final = 200
DATE_HELP: Final = "YYYY-MM-DD, or Nd for N days ago (7d)"
_DAYS_AGO = re.compile(r"(\d{1,5})d", re.IGNORECASE)


def parse_day(text: str, name: str, today: date) -> date:
    """A day from "YYYY-MM-DD" or "Nd" (N days before `today`); `name` says which input it was.

    Raises:
        InputError: not one of those forms, or a day out of range (`in_range`).
    """
    value = text.strip()
    days_ago = _DAYS_AGO.fullmatch(value)
    if days_ago:
        # At most 99999 days back from a day in range: no overflow.
        return in_range(in_range(today, "as of") - timedelta(days=int(days_ago.group(1))), name)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{name} {text!r} is not a date: use {DATE_HELP}") from None
    return in_range(day, name)


def make_filter(
    since: str | date | None = None,
    until: str | date | None = None,
    sources: Iterable[str] = (),
    today: date | None = None,
) -> SearchFilter:
    """A checked `SearchFilter` from user input (relative days count back from `today`).

    Blank sources are dropped and repeats removed (case-insensitively, first spelling kept).

    Raises:
        InputError: a date that cannot be read or is out of range, `since` after `until`, more
            than MAX_SOURCES sources, or a source longer than MAX_SOURCE_CHARS.
    """
    today = today or date.today()
    first = parse_day(since, "since", today) if isinstance(since, str) else since
    last = parse_day(until, "until", today) if isinstance(until, str) else until
    for day, name in ((first, "since"), (last, "until")):
        if day is not None:
            in_range(day, name)
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


# --- the time a question names -----------------------------------------------------------------

_MONTHS: Final = {name.lower(): n for n, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): n for n, name in enumerate(calendar.month_abbr) if name})
_MONTH_RE: Final = "|".join(sorted(_MONTHS, key=len, reverse=True))
SLACK: Final = timedelta(days=1)


@dataclass(frozen=True)
class Window:
    """Publication days `first..last` (inclusive) that a question asks about."""

    first: date
    last: date
    phrase: str

    def narrow(self, filters: SearchFilter) -> SearchFilter | None:
        """`filters` narrowed to this window; None when they don't overlap."""
        since = max(filters.since or self.first, self.first)
        until = min(filters.until or self.last, self.last)
        return None if since > until else SearchFilter(since, until, filters.sources)


def _month_span(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _relative(phrase: str, as_of: date) -> tuple[date, date] | None:
    """The span of a phrase relative to `as_of` ("this week"), before slack."""
    words = phrase.split()
    unit = words[-1]
    if phrase in {"today", "tonight", "this morning", "this afternoon", "this evening"}:
        return as_of, as_of
    if phrase in {"yesterday", "last night"}:
        day = as_of - timedelta(days=1)
        return day, day
    if unit == "week" or phrase in {"past few days", "last few days"}:
        back = 14 if words[0] == "last" else 7
        return as_of - timedelta(days=back), as_of
    if unit == "weekend":
        saturday = as_of - timedelta(days=(as_of.weekday() - 5) % 7)
        if words[0] == "last":
            if as_of.weekday() >= 5:  # asked on a weekend: the one before
                saturday -= timedelta(days=7)
            return saturday, saturday + timedelta(days=1)
        # "this weekend" on a weekday is as often the coming one ("set to soar this weekend"),
        # which stories of the days since the last one announce.
        return saturday, as_of
    if unit == "month":
        if words[0] == "last":
            previous = as_of.replace(day=1) - timedelta(days=1)
            return previous.replace(day=1), as_of
        return as_of - timedelta(days=31), as_of
    if unit == "year":
        year = as_of.year - 1 if words[0] == "last" else as_of.year
        return date(year, 1, 1), min(date(year, 12, 31), as_of)
    if phrase == "recently":
        return as_of - timedelta(days=31), as_of
    if unit in _WEEKDAYS:
        # "last Friday" is the latest Friday before today; "on Friday", in a question about the
        # news, the latest one up to today. Whatever reports it is published from then on.
        back = (as_of.weekday() - _WEEKDAYS[unit]) % 7
        if words[0] == "last" and back == 0:
            back = 7
        return as_of - timedelta(days=back), as_of
    return None


_WEEKDAYS: Final = {name.lower(): n for n, name in enumerate(calendar.day_name)}
_WEEKDAY_RE: Final = "|".join(_WEEKDAYS)


_RELATIVE_RE: Final = re.compile(
    r"\b(today|tonight|yesterday|last night|this (?:morning|afternoon|evening)|"
    r"(?:this|last|past) (?:week|weekend|month|year)|(?:past|last) few days|recently|"
    rf"(?:last|on) (?:{_WEEKDAY_RE}))\b"
)
_DATED_RE: Final = re.compile(
    rf"\b(?:in |on |during |since )?(?P<month>{_MONTH_RE})\.?"
    r"(?: (?P<day>\d{1,2})(?:st|nd|rd|th)?)?,?(?: (?P<year>(?:19|20)\d\d))?\b"
    r"|\bin (?P<only_year>(?:19|20)\d\d)\b"
)


def question_window(question: str, as_of: date) -> Window | None:
    """The publication days `question` asks about, or None when it names no time."""
    text = re.sub(r"\s+", " ", question.casefold())
    found = _RELATIVE_RE.search(text)
    if found:
        span = _relative(found.group(1), as_of)
        if span:
            return Window(span[0] - SLACK, min(span[1] + SLACK, as_of), found.group(1))
    for match in _DATED_RE.finditer(text):
        if match.group("only_year"):
            year = int(match.group("only_year"))
            if year > as_of.year:
                continue
            return Window(date(year, 1, 1), min(date(year, 12, 31), as_of), match.group(0))
        month = _MONTHS[match.group("month")]
        if match.group("month") == "may" and not (match.group("day") or match.group("year")):
            continue  # "may" alone is the verb
        if not (match.group("day") or match.group("year") or match.group(0).startswith("in ")):
            continue  # a bare month name ("march", "sept") is too often another word
        year = int(match.group("year")) if match.group("year") else as_of.year
        if not match.group("year") and date(year, month, 1) > as_of:
            year -= 1  # "in June", asked in March: last year's June
        try:
            if match.group("day"):
                day = date(year, month, int(match.group("day")))
                first, last = day, day
            else:
                first, last = _month_span(year, month)
        except ValueError:  # "February 30"
            continue
        if first > as_of:
            continue
        return Window(first - SLACK, min(last + SLACK, as_of), match.group(0).strip())
    return None


def named_days(text: str, as_of: date) -> tuple[date, date] | None:
    """The first and last publication day `text` names (`question_window`), for the answer
    check's `named_time`; None when it names no time."""
    window = question_window(text, as_of)
    return (window.first, window.last) if window else None
