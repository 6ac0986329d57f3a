"""The reader's filter in the web app: read from a page's URL, and the chat page's filter row.

A site owner configures the widget (or a link to the chat) by its URL:
`/widget?since=2025-05-01&until=2025-05-31&source=Reuters&source=AP` (dates as YYYY-MM-DD or
`7d` for the last seven days). Gradio's browser client sends the page's query string with each
chat event, so the chat function reads them from that event's `gr.Request` (`page_filter`),
checked by `bot.answer.question.make_filter` as the CLI's options and the JSON API's fields are.

The chat page's filter row (Published and Sources, in a collapsed "Filters" accordion) works
through the same URL. On each page load the controls show the filter the page's URL sets
(`filter_controls`); a reader's change is checked by `filter_query` (a refusal is a one-line
error) and then written into the page's address with `history.replaceState`. Every later question
of the session then carries it as a URL-set filter does, so there is one way in for a filter, one
check and one error, and a filtered page can be reloaded or shared. The accordion's title says
what is set. The widget has no controls (its site owner sets its URL): `filter_note` only names
its filter.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qs, quote, urlencode

import gradio as gr

from bot.answer.question import EVERYTHING, MAX_SOURCES, SearchFilter, make_filter
from bot.web.knowledge import KnowledgeHint
from newsbot.errors import InputError

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


def params_filter(params: Any, where: str = URL_ERROR) -> SearchFilter:
    """The filter that URL parameters ask for (`since`, `until`, `source` repeated; empty if
    none).

    Raises:
        InputError: a parameter cannot be read (said as "`where`: ...").
    """
    try:
        return make_filter(
            since=_last(_values(params, "since")),
            until=_last(_values(params, "until")),
            sources=_values(params, "source"),
        )
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from exc


def page_filter(request: gr.Request | None = None) -> SearchFilter:
    """The filter the page's URL asks for (empty if none): the URL of `request`, or else of the
    Gradio event running now (the chat function is called through wrappers that take only the
    message and the history).

    Raises:
        InputError: a parameter cannot be read (said as "The page's URL ...").
    """
    if request is None:
        from gradio.context import LocalContext

        request = LocalContext.request.get(None)
    if request is None:
        return EVERYTHING
    return params_filter(getattr(request, "query_params", None))


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
    problem: str | None = None
    """Why the URL's filter cannot be used (every question of the page is refused with it)."""

    @property
    def summary(self) -> str:
        """'Past 7 days · Reuters, AP', the URL's problem, or empty without a filter."""
        if self.problem:  # said at once, not only when a question is refused (a review)
            return self.problem
        parts = [published_label(self.published)] if self.published else []
        if self.sources:
            parts.append(", ".join(self.sources))
        return " · ".join(parts)


def filter_controls(params: Any, known_sources: Sequence[str]) -> FilterControls:
    """The controls' values for a page's URL parameters, with `known_sources` (the library's) to
    choose from. A URL's dates that are no preset become a choice of their own, and a URL's
    source is shown as the library spells it (or as given, when the library has no such source).
    A filter that cannot be used is shown as it is set, with its `problem`."""
    try:
        params_filter(params)
        problem = None
    except InputError as exc:
        problem = str(exc)
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
    sources = list(chosen.values())
    return FilterControls(choices, published, [*known_sources, *extra], sources, problem)


# --- the filter row ------------------------------------------------------------------------------

FILTERS_LABEL = "Filters"
"""The row's title; with a filter set, followed by what it keeps ("Filters: Past 7 days")."""
SET_URL_FILTER = (
    "(query) => {\n"
    "  const params = new URLSearchParams(window.location.search);\n"
    f"  for (const name of {json.dumps(list(FILTER_PARAMS))}) params.delete(name);\n"
    "  for (const [name, value] of new URLSearchParams(query)) params.append(name, value);\n"
    "  const search = params.toString();\n"
    '  window.history.replaceState(window.history.state, "",\n'
    '    window.location.pathname + (search ? "?" + search : "") + window.location.hash);\n'
    "}"
)
"""Puts the filter parameters in the page's address, keeping the others (`__theme`)."""
NOTE_PREFIX = "Searching only"
"""The widget's filter line: 'Searching only: Past 7 days · Reuters'."""


def filters_label(summary: str) -> str:
    """The accordion's title for a filter's summary ('Filters: Past 7 days · Reuters')."""
    return f"{FILTERS_LABEL}: {summary}" if summary else FILTERS_LABEL


def filter_row(blocks: gr.Blocks, hint: KnowledgeHint | None) -> None:
    """Render the row where it is called; `hint` gives the library's sources to choose from."""
    with (
        gr.Accordion(FILTERS_LABEL, open=False, elem_id="nb-filters") as row,
        gr.Row(equal_height=True),
    ):
        published = gr.Dropdown(
            choices=list(PUBLISHED),
            value="",
            label="Published",
            filterable=False,  # four choices: no keyboard popping up on a phone
            elem_id="nb-published",
            scale=1,
            min_width=200,  # side by side on a wide screen, one above the other on a phone
        )
        sources = gr.Dropdown(
            choices=[],
            value=[],
            multiselect=True,
            max_choices=MAX_SOURCES,
            label="Sources",
            elem_id="nb-source-filter",
            scale=2,
            min_width=200,  # side by side on a wide screen, one above the other on a phone
        )
    # Carries the checked query from the server's answer to the browser's address.
    query = gr.Textbox(visible=False, elem_id="nb-filter-query")

    def show(request: gr.Request) -> tuple[Any, Any, Any]:
        known = hint.knowledge().source_names() if hint is not None else []
        shown = filter_controls(request.query_params, known)
        return (
            gr.update(label=filters_label(shown.summary)),
            gr.update(choices=shown.published_choices, value=shown.published),
            gr.update(choices=shown.source_choices, value=shown.sources),
        )

    def choose(published_value: str, names: list[str] | None) -> tuple[str, Any]:
        try:
            checked = filter_query(published_value, names or [])
        except InputError as exc:
            raise gr.Error(str(exc)) from exc
        summary = filter_controls(parse_qs(checked), []).summary
        return checked, gr.update(label=filters_label(summary))

    private: dict[str, Any] = {"api_visibility": "private"}
    blocks.load(show, None, [row, published, sources], **private)
    gr.on(
        [published.input, sources.input], choose, [published, sources], [query, row], **private
    ).success(None, [query], None, js=SET_URL_FILTER, **private)


def filter_note(blocks: gr.Blocks) -> None:
    """Render the widget's one line naming the filter its URL sets (hidden without one), so a
    reader knows what is searched. The names come from the URL: escaped."""
    note = gr.HTML("", visible=False, elem_id="nb-filter-note", padding=False)

    def show(request: gr.Request) -> Any:
        shown = filter_controls(request.query_params, [])
        text = shown.problem or (f"{NOTE_PREFIX}: {shown.summary}" if shown.summary else "")
        text = html.escape(text)
        return gr.update(value=text, visible=bool(text))

    blocks.load(show, None, [note], api_visibility="private")
