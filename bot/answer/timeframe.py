"""The time a question asks about: "this week", "yesterday", "last month", "in June 2022".

`question_window` turns the first such phrase into the publication days to prefer, relative to
the day the question is asked (`as_of`). Each window is what the phrase says plus a day of slack
(an article about Tuesday's events is often dated Wednesday, and time zones differ); none is
fitted to any benchmark. A question with no such phrase ("What did Pakistan and the US agree
on?") has no window: the store's recency prior alone then prefers newer stories, softly.

The window is a preference, not a filter: `bot.answer.chain.retrieve_passages` searches inside
it first and fills up from outside when it holds too few passages.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

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
        return saturday, saturday + timedelta(days=1)
    if unit == "month":
        if words[0] == "last":
            previous = as_of.replace(day=1) - timedelta(days=1)
            return previous.replace(day=1), as_of
        return as_of - timedelta(days=31), as_of
    if unit == "year":
        year = as_of.year - 1 if words[0] == "last" else as_of.year
        return date(year, 1, 1), min(date(year, 12, 31), as_of)
    return None


_RELATIVE_RE: Final = re.compile(
    r"\b(today|tonight|yesterday|last night|this (?:morning|afternoon|evening)|"
    r"(?:this|last|past) (?:week|weekend|month|year)|(?:past|last) few days)\b"
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
