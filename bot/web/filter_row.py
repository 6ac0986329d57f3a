"""The chat page's filter row: Published and Sources, in a collapsed "Filters" accordion.

The controls never reach the chat function themselves. On each page load they show the filter
the page's URL sets (`filter_controls`); a reader's change is checked by `filter_query` (the one
check, `make_filter`; a refusal is a one-line error) and then written into the page's address with
`history.replaceState`. Gradio's client sends that query string with every event, so each later
question of the session is filtered by `bot.web.filters.page_filter`, exactly as a URL-configured
page is, and the filtered page can be reloaded or shared. The accordion's title says what is set.
The widget has no controls (its site owner sets its URL): `filter_note` only names its filter.
"""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import parse_qs

import gradio as gr

from bot.answer.filters import MAX_SOURCES
from bot.web.filters import FILTER_PARAMS, PUBLISHED, filter_controls, filter_query
from bot.web.knowledge import KnowledgeHint
from newsbot.errors import InputError

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
        summary = filter_controls(request.query_params, []).summary
        text = html.escape(f"{NOTE_PREFIX}: {summary}") if summary else ""
        return gr.update(value=text, visible=bool(summary))

    blocks.load(show, None, [note], api_visibility="private")
