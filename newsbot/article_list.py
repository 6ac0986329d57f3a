"""How `newsbot list` shows stored articles: aligned columns (id, date, source, title) as text.

Widths are counted in terminal cells (rich's `cell_len`), so titles in CJK or with emoji keep the
columns straight. Every value is passed through `printable` first (stored data may hold terminal
escapes or bidi overrides) and measured as it will be shown. On a terminal the source and title
are cut with "…" to fit its width; anywhere else (a pipe, a log) every value is shown whole.
Dates are shown as one format, the ISO day (YYYY-MM-DD), whatever the article's date carried.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from rich.cells import cell_len, set_cell_size

from ingest.cleaning import printable
from ingest.dates import DateError, parse_published
from vectorstore.records import ArticleRow

HEADERS = ("ID", "PUBLISHED", "SOURCE", "TITLE")
UNDATED = "undated"
GAP = "  "
#: On a terminal, a source wider than this is cut before the title is (the title says more).
SOURCE_CELLS = 24
#: The narrowest a title is cut to; a terminal narrower than that wraps the line instead.
MIN_TITLE_CELLS = 16


def published_day(published: str | None) -> str:
    """The article's publication day as YYYY-MM-DD, or "undated".

    Stored dates are ISO days (`2025-03-11`) or datetimes (`2025-06-05T12:15:00+00:00`); the day
    is the one the publisher wrote, as the store's own date filter reads it (its first ten
    characters), not converted to another time zone.
    """
    if not published:
        return UNDATED
    try:
        return date.fromisoformat(published.strip()[:10]).isoformat()
    except ValueError:
        pass
    try:  # another spelling (RFC 822, ...), stored by an older version that kept dates as given
        day = parse_published(published)
    except DateError:
        return UNDATED  # not a date at all: none is known
    return day[:10] if day else UNDATED


def fit(text: str, cells: int) -> str:
    """`text` cut to at most `cells` terminal cells, ending in "…" when it was cut."""
    if cell_len(text) <= cells:
        return text
    # set_cell_size pads with a space where a wide character would straddle the edge.
    return set_cell_size(text, max(cells - 1, 0)).rstrip() + "…"


def pad(text: str, cells: int) -> str:
    """`text` followed by spaces up to `cells` terminal cells."""
    return text + " " * max(cells - cell_len(text), 0)


def render(rows: Sequence[ArticleRow], width: int | None = None) -> list[str]:
    """The lines of the listing, a header first; `width` (a terminal's) cuts the last columns.

    Without `width` nothing is cut: each line is as long as its values need.
    """
    table = [HEADERS] + [
        (
            printable(row.article_id),
            published_day(row.published),
            printable(row.source) or "-",
            printable(row.title) or "-",
        )
        for row in rows
    ]
    widths = [max(cell_len(line[i]) for line in table) for i in range(len(HEADERS))]
    if width is not None:
        widths = _fit_widths(widths, width)
    lines = []
    for line in table:
        cells = [fit(value, cells) for value, cells in zip(line, widths, strict=True)]
        # The last column is not padded: no trailing spaces in a copy or a log.
        lines.append(
            GAP.join([pad(c, w) for c, w in zip(cells[:-1], widths, strict=False)] + [cells[-1]])
        )
    return lines


def _fit_widths(widths: list[int], width: int) -> list[int]:
    """Widths within `width` cells: ids and dates whole; the source cut first, then the title."""
    ident, day, source, title = widths
    fixed = ident + day + 3 * len(GAP)
    if fixed + source + title <= width:
        return widths
    source = min(source, SOURCE_CELLS)
    title = max(min(title, width - fixed - source), MIN_TITLE_CELLS)
    return [ident, day, source, title]
