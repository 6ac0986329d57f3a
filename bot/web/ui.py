"""The Gradio pages: the full chat with a library tab, and the compact embeddable widget.

Both are plain `gr.Blocks` built from injected parts; `bot.web.app` mounts them on FastAPI. The
chat endpoint of each is public as `/chat` (for `gradio_client`); the library events are private.
The chat page opens with a one-line header: the bot's name and what it knows (articles, dates,
sources: `bot.web.knowledge`, read on each page load); what it does is the empty chat's
placeholder. The example questions are Gradio's own example buttons, styled as chips in
`static/newsbot.css`. Above the chat, a collapsed "Filters" row (Published, Sources) narrows every
question of the session: it sets the page URL's filter parameters, which the chat reads as it
reads a filter given in the URL (`bot.web.filters`). The chat takes whatever height the page
leaves (`static/newsbot.css` stretches each level between the page and it), so opening the
filters shrinks the chat instead of pushing the input below the screen.
The chat box itself (its input, its answers behind the app's `AnswerGate`, the conversation kept
in the reader's browser and copied as Markdown) is `bot.web.chat_box`. `static/newsbot.js` gives
the messages plain-text labels. The Library ingests only files from Gradio's upload folder,
whatever path a request names.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.utils import get_upload_folder

from bot.web.answer_log import AnswerRecorder
from bot.web.chat import ChatAssistant
from bot.web.chat_box import chat_interface
from bot.web.filter_row import filter_note, filter_row
from bot.web.knowledge import Catalog, KnowledgeHint
from bot.web.library import (
    Library,
    delete_article,
    find_articles,
    ingest_sources,
    stats_markdown,
)
from bot.web.library_follow import follow_panel
from bot.web.library_questions import QuestionDigest, questions_panel
from bot.web.limits import AnswerGate
from bot.web.stopping import SessionStops
from bot.web.uploads import UPLOAD_MAX_AGE

STATIC = Path(__file__).parent / "static"

KNOWLEDGE_REFRESH_SECONDS = 15.0
"""How often an open chat page reads its header's "what it knows" line again."""


def _page_script(blocks: gr.Blocks) -> None:
    """Run `static/newsbot.js` when the page loads (plain-text message labels, placeholders)."""
    script = (STATIC / "newsbot.js").read_text(encoding="utf-8")
    blocks.load(None, None, None, js=script, api_visibility="private", queue=False)


def _library_tab(library: Library, tab: gr.Tab) -> None:
    """The Library: its articles (listed afresh each time the tab is opened: another page or
    process may have added or deleted some since), upload and URL ingest, delete, followed
    sources."""
    stats = gr.Markdown(stats_markdown(library), elem_id="nb-library-stats")
    with gr.Row():
        query = gr.Textbox(
            placeholder="Filter by title or source", show_label=False, scale=4, elem_id="nb-query"
        )
        search = gr.Button("Search", scale=1)
    table_html, choices = find_articles(library, "")
    table = gr.HTML(table_html, elem_classes="nb-articles-box", elem_id="nb-articles")
    with gr.Row(equal_height=True):
        picked = gr.Dropdown(
            choices=choices,
            value=None,
            label="Article to delete",
            scale=4,
            elem_id="nb-delete-choice",
        )
        delete = gr.Button("Delete", variant="stop", scale=1)
    gr.Markdown("### Add articles")
    with gr.Row():
        files = gr.File(
            label="Upload files (.txt .md .html .json .jsonl .xml)",
            file_count="multiple",
            type="filepath",
            scale=1,
        )
        urls = gr.Textbox(
            label="Article or feed URLs (one per line)", lines=4, scale=1, elem_id="nb-urls"
        )
    ingest = gr.Button("Ingest", variant="primary")
    status = gr.Markdown(elem_id="nb-library-status")

    def refresh(text: str) -> tuple[str, str, Any]:
        html_table, options = find_articles(library, text)
        return stats_markdown(library), html_table, gr.update(choices=options, value=None)

    def do_ingest(paths: list[str] | None, url_text: str, text: str) -> tuple[Any, ...]:
        report = ingest_sources(library, paths, url_text, Path(get_upload_folder()))
        return (report, None, "", *refresh(text))

    def do_delete(article_id: str | None, text: str) -> tuple[Any, ...]:
        return (delete_article(library, article_id), *refresh(text))

    listing = [stats, table, picked]
    private: dict[str, Any] = {"api_visibility": "private"}
    search.click(refresh, [query], listing, **private)
    tab.select(refresh, [query], listing, show_progress="hidden", **private)
    query.submit(refresh, [query], listing, **private)
    ingest.click(do_ingest, [files, urls, query], [status, files, urls, *listing], **private)
    delete.click(do_delete, [picked, query], [status, *listing], **private)
    follows = getattr(library, "follows", None)
    if follows is not None:  # the followed sources' panel, when the library has them
        follow_panel(follows, tab)


def _header(title: str, hint: KnowledgeHint | None) -> None:
    """One line: the page's name and, given a catalog, what it knows (read on each load and
    every KNOWLEDGE_REFRESH_SECONDS while the page is open)."""
    with gr.Row(elem_id="nb-header"):
        gr.HTML(
            f'<h1 class="nb-title">{html.escape(title)}</h1>',
            elem_id="nb-identity",
            padding=False,
        )
        if hint is not None:
            line = gr.HTML(hint, elem_id="nb-knowledge", padding=False)
            # Read again while the page is open, so articles that arrive (followed feeds) show.
            # Outside the queue: a tick never waits behind an answer or takes its place.
            tick = gr.Timer(KNOWLEDGE_REFRESH_SECONDS)
            tick.tick(
                hint, outputs=line, queue=False, show_progress="hidden", api_visibility="private"
            )


def build_chat_blocks(
    assistant: ChatAssistant,
    library: Library | None,
    examples: Sequence[str] = (),
    *,
    gate: AnswerGate,
    title: str = "newsbot",
    catalog: Catalog | None = None,
    sessions: SessionStops | None = None,
    upload_max_age: int = UPLOAD_MAX_AGE,
    recorder: AnswerRecorder | None = None,
    questions: QuestionDigest | None = None,
) -> gr.Blocks:
    """The full page: a header, a Chat tab (filters, answers with sources) and, given a library,
    a Library tab. The header's knowledge line and the Sources filter read `catalog` (default: the
    library). Uploads the Library does not ingest are deleted once `upload_max_age` seconds old
    (Gradio's `delete_cache`, which looks every tenth of that)."""
    catalog = catalog if catalog is not None else library
    hint = KnowledgeHint(catalog) if catalog is not None else None
    sweep = max(1, upload_max_age // 10)
    blocks = gr.Blocks(
        title=title,
        analytics_enabled=False,
        fill_height=True,
        delete_cache=(sweep, upload_max_age),
    )
    with blocks:
        _header(title, hint)
        with gr.Tab("Chat", elem_id="nb-chat-tab"):
            filter_row(blocks, hint)
            chat_interface(
                blocks,
                assistant,
                examples,
                gate,
                compact=False,
                sessions=sessions,
                recorder=recorder,
            )
        if library is not None:
            with gr.Tab("Library", elem_id="nb-library-tab") as library_tab:
                _library_tab(library, library_tab)
                if questions is not None:  # the editors' view (bot.web.library_questions)
                    questions_panel(questions)
        _page_script(blocks)
    return _bounded_queue(blocks, gate)


def build_widget_blocks(
    assistant: ChatAssistant,
    examples: Sequence[str] = (),
    *,
    gate: AnswerGate,
    title: str = "newsbot",
    sessions: SessionStops | None = None,
    recorder: AnswerRecorder | None = None,
) -> gr.Blocks:
    """The compact chat-only view for `<iframe>` and `<gradio-app>` embedding; a line above the
    chat names the filter its URL sets, if any."""
    blocks = gr.Blocks(title=title, analytics_enabled=False, fill_height=True)
    with blocks:
        filter_note(blocks)
        chat_interface(
            blocks, assistant, examples, gate, compact=True, sessions=sessions, recorder=recorder
        )
        _page_script(blocks)
    return _bounded_queue(blocks, gate)


def _bounded_queue(blocks: gr.Blocks, gate: AnswerGate) -> gr.Blocks:
    # Gradio's own queue, bounded (library clicks share it), so a flood of sessions is told
    # "queue full" instead of piling up without bound; the gate is the real answer limit.
    blocks.queue(
        default_concurrency_limit=gate.active_limit,
        max_size=max(16, 2 * (gate.active_limit + gate.queued_limit)),
    )
    return blocks
