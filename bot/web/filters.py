"""The reader's filters in the web app: from a page's URL parameters, and passed to an assistant.

A site owner configures the widget (or a link to the chat) by its URL:
`/widget?since=2025-05-01&until=2025-05-31&source=Reuters&source=AP` (dates as YYYY-MM-DD or
`7d` for the last seven days). Gradio's browser client sends the page's query string with each
chat event, so the chat function reads them from that event's `gr.Request`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.answer.filters import make_filter
from newsbot.errors import InputError
from vectorstore.records import SearchFilter

if TYPE_CHECKING:
    import gradio as gr


def _values(params: Any, name: str) -> list[str]:
    """Every value of a query parameter: starlette's `QueryParams`, or a plain dict (Gradio
    turns the request into dicts when it pickles it)."""
    if params is None:
        return []
    if hasattr(params, "getlist"):
        return [str(value) for value in params.getlist(name)]
    value = dict(params).get(name)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def page_filter(request: gr.Request | None) -> SearchFilter | None:
    """The filter the page's URL asks for (`since`, `until`, `source` repeated); None if none.

    Raises:
        InputError: a parameter cannot be read (said as "the page's URL ...").
    """
    if request is None:
        return None
    params = getattr(request, "query_params", None)
    since, until = _values(params, "since"), _values(params, "until")
    try:
        found = make_filter(
            since=since[-1] if since and since[-1].strip() else None,
            until=until[-1] if until and until[-1].strip() else None,
            sources=_values(params, "source"),
        )
    except InputError as exc:
        raise InputError(f"The page's URL sets a filter that cannot be used: {exc}") from exc
    return found or None


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
