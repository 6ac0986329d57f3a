"""Publication dates: parse what inputs carry into ISO 8601, never invent one.

Inputs write dates in many ways (ISO 8601, RFC 822 from feeds, `struct_time` from feedparser, epoch
seconds). `parse_published` returns an ISO date (`2022-06-12`) when the input has only a day, an ISO
datetime when it has a time, and raises `ImplausibleDate` for values that parse but cannot be a news
article's date (year 0001, far in the future), so that callers can report them. Messages quote the
value as the input wrote it (never a Python `datetime(...)`), and an RFC 822 date whose four-digit
year the parser would read otherwise (`0000` as 2000) is refused, not moved.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime

# Oldest plausible publication date, and how far ahead of "now" one may be (time zones, embargoes).
EARLIEST = date(1800, 1, 1)
FUTURE_SLACK = timedelta(days=2)

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_FOUR_DIGITS = re.compile(r"(?<![\d+-])(\d{4})(?!\d)")  # not a "+0000" zone


class DateError(ValueError):
    """A value that should be a publication date is unreadable or implausible."""


class ImplausibleDate(DateError):
    """A readable date outside the range a news article can have."""


def _shown(raw: object) -> str:
    """The value as a person would recognise it from the input."""
    if isinstance(raw, time.struct_time):
        raw = datetime(*raw[:6], tzinfo=UTC)
    if isinstance(raw, datetime | date):
        return repr(raw.isoformat())
    return repr(raw)


def _check_range(day: date, raw: object, today: date) -> None:
    if day < EARLIEST:
        raise ImplausibleDate(
            f"implausible date {_shown(raw)} (before {EARLIEST.year}); stored without a date"
        )
    if day > today + FUTURE_SLACK:
        raise ImplausibleDate(
            f"implausible date {_shown(raw)} (in the future); stored without a date"
        )


def parse_published(value: object, *, today: date | None = None) -> str | None:
    """Turn an input's date value into an ISO 8601 string; None when the input has no date.

    Args:
        value: a string, `datetime`, `date`, `time.struct_time`, or epoch seconds.
        today: the reference day for "in the future" (default: today in UTC).

    Raises:
        DateError: the value is present but not a date (`ImplausibleDate`: out of range).
    """
    reference = today or datetime.now(UTC).date()
    raw = value
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise DateError(f"unreadable date {value!r}")
    if isinstance(value, time.struct_time):
        value = datetime(*value[:6], tzinfo=UTC)
    if isinstance(value, int | float):
        try:
            value = datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise ImplausibleDate(f"implausible date {raw!r}; stored without a date") from exc
    if isinstance(value, datetime):
        _check_range(value.date(), raw, reference)
        return value.isoformat()
    if isinstance(value, date):
        _check_range(value, raw, reference)
        return value.isoformat()
    if not isinstance(value, str):
        raise DateError(f"unreadable date {_shown(value)}")
    return _parse_string(value.strip(), reference)


def _parse_string(text: str, today: date) -> str:
    compact = _COMPACT_DATE.match(text)
    if compact:
        text = "-".join(compact.groups())
    if _DATE_ONLY.match(text):
        try:
            day = date.fromisoformat(text)
        except ValueError as exc:
            raise DateError(f"unreadable date {text!r}") from exc
        _check_range(day, text, today)
        return day.isoformat()
    moment: datetime | None = None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        moment = _rfc822(text)
    if moment is None:
        raise DateError(f"unreadable date {text!r}")
    _check_range(moment.date(), text, today)
    return moment.isoformat()


def _rfc822(text: str) -> datetime | None:
    """An RFC 822 date (as RSS feeds write them), or None when `text` is not one."""
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    # The parser reads every year under 100 as two digits: "0000" would become 2000.
    written = _FOUR_DIGITS.search(text)
    if written and int(written.group(1)) != moment.year:
        raise ImplausibleDate(
            f"implausible date {text!r} (year {written.group(1)}); stored without a date"
        )
    return moment
