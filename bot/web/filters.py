"""The reader's filters in the web app: read from a page's URL, shown and set by the chat page.

A site owner configures the widget (or a link to the chat) by its URL:
`/widget?since=2025-05-01&until=2025-05-31&source=Reuters&source=AP` (dates as YYYY-MM-DD or
`7d` for the last seven days). Gradio's browser client sends the page's query string with each
chat event, so the chat function reads them from that event's `gr.Request` (`page_filter`).

The chat page's filter controls (Published, Sources) work through the same URL: a change asks
`filter_query` for the new `since`/`until`/`source` parameters, checked by `make_filter`, and the
page puts them in its address (`bot.web.ui`). Every question then carries them as a URL-set filter
does, so there is one way in for a filter, one check and one error; a filtered page can be
reloaded or shared as it is. `filter_controls` gives the controls' values for a page's URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qs, quote, urlencode

from bot.answer.filters import make_filter
from newsbot.errors import InputError
from vectorstore.records import SearchFilter

if TYPE_CHECKING:
    import gradio as gr

FILTER_PARAMS: Final = ("since", "until", "source")
"""The URL parameters that make a filter; the page keeps any other (`__theme`) as it is."""
ANY_TIME: Final = ""
PUBLISHED: Final = (
    ("Any time", ANY_TIME),
    ("Past day", "since=1d"),
    ("Past 7 days", "since=7d"),
    ("Past 30 days", "since=30d"),
)
"""The Published control's choices: label and the date parameters each one sets."""
URL_ERROR: Final = "The page's URL sets a filter that cannot be used"
CONTROL_ERROR: Final = "The chosen filter cannot be used"


def _values(params: Any, name: str) -> list[str]:
    """Every value of a query parameter: starlette's `QueryParams`, or a plain dict (Gradio
    turns the request into dicts when it pickles it; `parse_qs` gives lists)."""
    if params is None:
        return []
    if hasattr(params, "getlist"):
        return [str(value) for value in params.getlist(name)]
    value = dict(params).get(name)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _last(values: list[str]) -> str | None:
    return values[-1] if values and values[-1].strip() else None


def params_filter(params: Any, where: str = URL_ERROR) -> SearchFilter | None:
    """The filter that URL parameters ask for (`since`, `until`, `source` repeated); None if none.

    Raises:
        InputError: a parameter cannot be read (said as "`where`: ...").
    """
    try:
        found = make_filter(
            since=_last(_values(params, "since")),
            until=_last(_values(params, "until")),
            sources=_values(params, "source"),
        )
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from exc
    return found or None


def page_filter(request: gr.Request | None) -> SearchFilter | None:
    """The filter the page's URL asks for; None if none (or no request).

    Raises:
        InputError: a parameter cannot be read (said as "The page's URL ...").
    """
    if request is None:
        return None
    return params_filter(getattr(request, "query_params", None))


def current_request(request: gr.Request | None = None) -> gr.Request | None:
    """`request`, or else the request of the Gradio event running now (the chat function is
    called through wrappers that take only the message and the history)."""
    if request is not None:
        return request
    from gradio.context import LocalContext

    return LocalContext.request.get(None)


def filter_kwargs(filters: SearchFilter | None) -> dict[str, Any]:
    """`{"filters": filters}` when there is a filter, else nothing, so an assistant written
    before filters existed (a test double, a wrapper) is called exactly as before."""
    return {"filters": filters} if filters else {}


# --- the chat page's controls ------------------------------------------------------------------


def published_label(published: str) -> str:
    """How the Published control names a choice: its preset's label, or the URL's own dates."""
    for label, value in PUBLISHED:
        if value == published:
            return label
    dates = parse_qs(published)
    since, until = _last(dates.get("since", [])), _last(dates.get("until", []))
    if since and until:
        return f"{since} to {until}"
    return f"Since {since}" if since else f"Until {until}"


def _published_value(params: Any) -> str:
    """The Published choice for a URL: its last `since` and `until`, as the filter reads them."""
    dates = [(name, _last(_values(params, name))) for name in ("since", "until")]
    return urlencode([(name, value.strip()) for name, value in dates if value], quote_via=quote)


def filter_query(published: str, sources: Sequence[str] | None) -> str:
    """The URL parameters (`since`, `until`, `source`) for the controls' values, checked.

    `published` is one of the Published choices' values (`since=7d`; the URL's own dates, or
    empty for any time) and `sources` the chosen source names.

    Raises:
        InputError: `published` sets anything but dates, or `make_filter` refuses the filter
            (said as "The chosen filter cannot be used: ...").
    """
    dates = parse_qs(published or "", keep_blank_values=True)
    if any(name not in ("since", "until") or len(v) != 1 for name, v in dates.items()):
        raise InputError(f"{CONTROL_ERROR}: {published!r} is not a Published choice")
    pairs: list[tuple[str, str]] = [
        (name, dates[name][0].strip()) for name in ("since", "until") if name in dates
    ]
    pairs += [("source", name.strip()) for name in sources or ()]
    pairs = [(name, value) for name, value in pairs if value]
    query = urlencode(pairs, quote_via=quote)
    params_filter(parse_qs(query), CONTROL_ERROR)
    return query


@dataclass(frozen=True)
class FilterControls:
    """What the chat page's filter controls show: choices, values and a one-line summary."""

    published_choices: list[tuple[str, str]]
    published: str
    source_choices: list[str]
    sources: list[str]

    @property
    def summary(self) -> str:
        """'Past 7 days · Reuters, AP', or empty without a filter."""
        parts = [published_label(self.published)] if self.published else []
        if self.sources:
            parts.append(", ".join(self.sources))
        return " · ".join(parts)


def filter_controls(params: Any, known_sources: Sequence[str]) -> FilterControls:
    """The controls' values for a page's URL parameters, with `known_sources` (the library's) to
    choose from. A URL's dates that are no preset become a choice of their own, and a URL's
    source is shown as the library spells it (or as given, when the library has no such source).
    Nothing is checked here: the page's questions report a URL that cannot be used."""
    published = _published_value(params)
    choices = list(PUBLISHED)
    if all(value != published for _, value in choices):
        choices.append((published_label(published), published))
    spelled = {name.casefold(): name for name in known_sources}
    chosen: dict[str, str] = {}
    for name in (value.strip() for value in _values(params, "source")):
        if name:
            chosen.setdefault(name.casefold(), spelled.get(name.casefold(), name))
    extra = [name for key, name in chosen.items() if key not in spelled]
    return FilterControls(choices, published, [*known_sources, *extra], list(chosen.values()))
