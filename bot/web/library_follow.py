"""The Library tab's followed-sources panel: follow a feed or sitemap, stop following one, and see
each one's state (last check, last new article, next check, articles added in the last day, last
error in words).

`bot/` must not import `ingest/`, so the entry point hands in an object with the `Follows` shape
(`newsbot.follow_command.FollowDesk`), whose rows are already worded for people; everything from
them is escaped here. The panel reads them again every `REFRESH_SECONDS` while the page is open,
outside the queue, so a look at the list never waits behind an answer.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import gradio as gr

from bot.web.library import removal_message, table_html
from bot.web.render import markdown_text
from newsbot.errors import NewsbotError

log = logging.getLogger(__name__)

REFRESH_SECONDS = 15.0
"""How often an open Library tab reads the followed sources again."""
FULL_TEXT = [
    ("Only for short entries", "auto"),
    ("Always read the article page", "on"),
    ("Never: keep the feed's text", "off"),
]
_COLUMNS = (
    ("url", "Source"),
    ("every", "Every"),
    ("last_check", "Last check"),
    ("last_new_article", "Last new article"),
    ("next_check", "Next check"),
    ("added_last_day", "Added (24 h)"),
    ("last_error", "Last error"),
)


class Follows(Protocol):
    """The followed sources as the web app sees them."""

    def follow(self, url: str, every: str, full_text: str) -> str:
        """Follow `url` every `every` ("15m"), full text "auto", "on" or "off"; a message.

        Raises:
            NewsbotError: the URL or interval is not valid (the message says how to fix it).
        """
        ...

    def unfollow(self, url: str) -> bool:
        """Stop following `url`; False when it was not followed."""
        ...

    def followed(self) -> Sequence[Mapping[str, Any]]:
        """Each source's state in words: the keys of `_COLUMNS`, plus `kind`."""
        ...


def sources_html(follows: Follows) -> tuple[str, list[str]]:
    """The followed sources as an escaped HTML table, and their URLs (for the remove picker)."""
    try:
        rows = follows.followed()
    except NewsbotError as exc:
        return (
            f"<p><strong>Could not list the followed sources:</strong> {html.escape(str(exc))}</p>",
            [],
        )
    if not rows:
        return "<p>No followed sources yet: add a feed or sitemap URL below.</p>", []
    cells = ([html.escape(str(row.get(key) or "")) for key, _ in _COLUMNS] for row in rows)
    table = table_html("nb-articles nb-follows", [name for _, name in _COLUMNS], cells)
    return table, [str(row["url"]) for row in rows]


def add_source(follows: Follows, url: str, every: str, full_text: str) -> str:
    """Follow a source; a Markdown message saying what happened (escaped)."""
    if not url.strip():
        return "**Nothing followed:** paste a feed or sitemap URL first."
    try:
        said = follows.follow(url.strip(), every.strip() or "15m", full_text or "auto")
    except NewsbotError as exc:
        return f"**Not followed:** {markdown_text(str(exc))}"
    return markdown_text(said)


def remove_source(follows: Follows, url: str | None) -> str:
    """Stop following a source; a Markdown message."""
    return removal_message(
        follows.unfollow,
        url,
        unpicked="**Nothing removed:** pick a followed source first.",
        failed="**Could not stop following:**",
        absent="**Nothing removed:** {} is not followed.",
        done="Stopped following {}; its articles stay in the library.",
    )


def follow_panel(follows: Follows, tab: gr.Tab) -> None:
    """Draw the panel inside the Library `tab` being built; it is read again when the tab
    opens (found by a review: a new page showed the sources as they were when the server
    started, until the timer's first tick)."""
    gr.Markdown("### Followed feeds and sitemaps")
    table_html, urls = sources_html(follows)
    table = gr.HTML(table_html, elem_classes="nb-articles-box", elem_id="nb-follows")
    with gr.Row(equal_height=True):
        url = gr.Textbox(label="Feed or sitemap URL", scale=3, elem_id="nb-follow-url", max_lines=1)
        every = gr.Textbox(
            label="Check every", value="15m", scale=1, elem_id="nb-follow-every", max_lines=1
        )
        full_text = gr.Dropdown(
            choices=FULL_TEXT, value="auto", label="Full text", scale=2, elem_id="nb-follow-full"
        )
    add = gr.Button("Follow", variant="primary", elem_id="nb-follow-add")
    with gr.Row(equal_height=True):
        picked = gr.Dropdown(
            choices=urls, value=None, label="Followed source", scale=4, elem_id="nb-follow-pick"
        )
        remove = gr.Button("Stop following", variant="stop", scale=1, elem_id="nb-follow-remove")
    status = gr.Markdown(elem_id="nb-follow-status")

    def refresh() -> tuple[str, Any]:
        html_table, choices = sources_html(follows)
        return html_table, gr.update(choices=choices)

    def do_add(text: str, interval: str, mode: str) -> tuple[Any, ...]:
        return (add_source(follows, text, interval, mode), "", *refresh())

    def do_remove(choice: str | None) -> tuple[Any, ...]:
        said = remove_source(follows, choice)
        html_table, choices = sources_html(follows)
        return said, html_table, gr.update(choices=choices, value=None)

    private: dict[str, Any] = {"api_visibility": "private"}
    add.click(do_add, [url, every, full_text], [status, url, table, picked], **private)
    url.submit(do_add, [url, every, full_text], [status, url, table, picked], **private)
    remove.click(do_remove, [picked], [status, table, picked], **private)
    tab.select(refresh, outputs=[table, picked], show_progress="hidden", **private)
    tick = gr.Timer(REFRESH_SECONDS)
    tick.tick(refresh, outputs=[table, picked], queue=False, show_progress="hidden", **private)
