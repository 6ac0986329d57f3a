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
The conversation is kept in the reader's browser (`bot.web.keep`; the chat's own Clear forgets
it) and the chat's toolbar copies it as Markdown with its sources (`bot.web.transcript`).
`static/newsbot.js` gives the messages plain-text labels. Every chat answer holds one slot of the
app's `AnswerGate`; the Library ingests only files from Gradio's upload folder, whatever path a
request names.
"""

from __future__ import annotations

import html
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from contextlib import aclosing
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.components.chatbot import TextMessage
from gradio.context import LocalContext
from gradio.utils import get_upload_folder

from bot.answer.question import MAX_QUESTION_CHARS
from bot.web.answer_log import AnswerRecorder
from bot.web.chat import (
    ChatAssistant,
    ChatFn,
    Message,
    make_chat_fn,
    message_text,
    question_check,
    settled,
    stopped_notes,
)
from bot.web.feedback_ui import FEEDBACK_OPTIONS, feedback_controls
from bot.web.filter_row import filter_note, filter_row
from bot.web.keep import keep_conversation
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
from bot.web.limits import AnswerGate, Busy, Stopped
from bot.web.stopping import SessionStops, Stop, answer_in_worker
from bot.web.transcript import conversation_markdown
from bot.web.uploads import UPLOAD_MAX_AGE

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"

CHAT_API_NAME = "chat"
"""Gradio API name of the chat endpoint: `client.predict(message=..., api_name="/chat")`."""
INPUT_PLACEHOLDER = "Ask about the news…"
"""The chat input's placeholder, kept after each question (see `_ChatInterface`)."""
KNOWLEDGE_REFRESH_SECONDS = 15.0
"""How often an open chat page reads its header's "what it knows" line again."""
DESCRIPTION = "Answers questions about the news in its library, citing the articles it read."
"""What the bot does: the empty chat's placeholder, above the example questions."""
COPY_LABEL = "Copy as Markdown"
"""The chat toolbar's button that copies the conversation with its sources."""
KEEP_KEYS = {False: "newsbot-chat", True: "newsbot-widget"}
"""localStorage keys of the kept conversations: the chat page's, the widget's."""
COPY_TO_CLIPBOARD = """(text) => {
  const fallback = () => {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  };
  // The Clipboard API needs a secure context (https or this machine); elsewhere, the old way.
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).catch(fallback);
  } else {
    fallback();
  }
}"""
AsyncChatFn = Callable[..., AsyncIterator[str | list[Message]]]


def gated_chat(chat: ChatFn, gate: AnswerGate, sessions: SessionStops | None = None) -> AsyncChatFn:
    """`chat` behind the length limit and one slot of `gate` (a full queue is a clear error).

    The answer runs on a worker thread (`bot.web.stopping.answer_in_worker`): when its Gradio
    session's stream disconnects (`sessions`) or the event is cancelled (the stop button), it
    gives up its place in the queue and its model call stops. A question nobody listens for (it
    joined Gradio's queue, and no stream for its session or event opened within
    `LISTENER_GRACE_SECONDS`) is dropped before it takes a place.
    """
    stops = sessions or SessionStops()

    async def run(
        message: str, history: list[Message], request: gr.Request
    ) -> AsyncGenerator[str | list[Message], None]:
        if len(message_text(message)) > MAX_QUESTION_CHARS:
            raise gr.Error(
                f"That question is too long: keep it under {MAX_QUESTION_CHARS} characters."
            )
        # The keys its results are streamed under: the page's session, a `call` client's event.
        keys = [getattr(request, "session_hash", None), LocalContext.event_id.get(None)]
        if not await stops.wait_for_listener(keys):
            log.info("chat question dropped: nobody is listening for its answer")
            return
        stop = Stop()
        outputs = answer_in_worker(gate, lambda: chat(message, history, request), stop)
        with stops.answering(keys, stop):
            try:
                async with aclosing(outputs):
                    async for output in outputs:
                        yield output
            except Busy as exc:
                raise gr.Error(str(exc)) from exc
            except Stopped:
                return

    return run


class _ChatInterface(gr.ChatInterface):
    """Gradio's chat, keeping the input's placeholder, and the question of a failed answer.

    Gradio blanks the placeholder while it answers (submit and retry) and never puts it back;
    here it stays through a submit, and is restored after any answer ends. An answer that fails
    left the input disabled and the conversation under an error badge; here the question goes
    back to the input and the conversation back to before it. Both hooks are private Gradio
    methods: `tests/test_web_ui.py` and `tests/test_web_browser.py` notice if they stop working.
    """

    def _clear_and_save_textbox(self, message: Any) -> tuple[Any, Any]:
        return type(self.textbox)("", interactive=False), message

    def _setup_stop_events(
        self, event_triggers: list[Any], events_to_cancel: list[Any], after_success: Any
    ) -> None:
        super()._setup_stop_events(event_triggers, events_to_cancel, after_success)
        for event in events_to_cancel:
            # After an answer ends, and after the stop button: a stopped answer's note would
            # spin on ("Reading 2 passages…"), so it says it stopped.
            event.then(
                lambda messages: (
                    gr.update(placeholder=INPUT_PLACEHOLDER),
                    stopped_notes(messages),
                ),
                [self.chatbot],
                [self.textbox, self.chatbot],
                api_visibility="undocumented",
                queue=False,
            ).then(  # and in Gradio's copy, which the next answer is shown after
                lambda messages: messages,
                [self.chatbot],
                [self.chatbot_state],
                api_visibility="undocumented",
                queue=False,
            )
            # A failed answer (the model unreachable, the queue full), which Gradio ends no other
            # way: its question goes back to the input, the conversation back to before it.
            event.failure(
                lambda question, before: (
                    gr.update(value=question, interactive=True, submit_btn=True, stop_btn=False),
                    settled(before),  # its copy may hold a note a stop left pending
                ),
                [self.saved_input, self.chatbot_state],
                [self.textbox, self.chatbot],
                api_visibility="undocumented",
                queue=False,
            )


def _text_only(chatbot: gr.Chatbot) -> gr.Chatbot:
    """`chatbot`, refusing any message sent back by a page that is not text.

    The page sends the conversation back with each event (undo, retry, a vote), and Gradio
    reads a message naming a file or another component (`{"type": "component", "component":
    "file", "value": {"path": ...}}`) by opening that server path: whether a file exists, a
    copy in its cache. No page of ours sends one, so one is refused before anything is read.
    (Set on the instance: a subclass of a Gradio component makes Gradio write a .pyi file
    beside this module.)
    """
    read = chatbot._preprocess_content

    def text_content(message: Any) -> Any:
        if not isinstance(message, TextMessage):
            raise gr.Error("The chat holds text messages only.")
        return read(message)

    chatbot._preprocess_content = text_content  # type: ignore[method-assign,assignment]
    return chatbot


def _chat_interface(
    blocks: gr.Blocks,
    assistant: ChatAssistant,
    examples: Sequence[str],
    gate: AnswerGate,
    *,
    compact: bool,
    sessions: SessionStops | None = None,
    recorder: AnswerRecorder | None = None,
) -> None:
    """The chat (the widget's when `compact`), its conversation kept in the reader's browser."""
    copy = gr.Button(COPY_LABEL, size="sm", render=False, elem_classes="nb-copy-md")
    chatbot = _text_only(
        gr.Chatbot(
            elem_id="nb-widget-chatbot" if compact else "nb-chatbot",
            height=None,
            min_height=240 if compact else None,
            scale=1,  # fills the page's height (Blocks fill_height) when no height is fixed
            show_label=False,
            latex_delimiters=[],
            sanitize_html=True,
            allow_tags=False,
            render_markdown=True,
            # The thumbs only where votes are kept (bot.web.feedback_ui).
            feedback_options=FEEDBACK_OPTIONS if recorder and recorder.keeps_feedback else None,
            buttons=["copy", copy],
            placeholder=None if compact else DESCRIPTION,
            group_consecutive_messages=True,
        )
    )
    textbox = gr.Textbox(
        placeholder=INPUT_PLACEHOLDER,
        label="Question",  # not shown; it heads a refusal of what was typed (`question_check`)
        show_label=False,
        lines=1,
        max_lines=4,
        elem_id="nb-widget-input" if compact else "nb-input",
        submit_btn=True,
        stop_btn=True,
    )
    chat = _ChatInterface(
        gated_chat(
            make_chat_fn(assistant, recorder, "widget" if compact else "chat"), gate, sessions
        ),
        chatbot=chatbot,
        textbox=textbox,
        examples=list(examples) or None,
        cache_examples=False,
        run_examples_on_click=True,
        flagging_mode="never",
        analytics_enabled=False,
        autofocus=not compact,
        fill_height=True,
        save_history=False,
        validator=question_check,
        api_name=CHAT_API_NAME,
        api_description="Ask a question; the last message's sources follow as a second message.",
    )
    if recorder is not None and recorder.keeps_feedback:
        feedback_controls(chatbot, recorder)
    # Carries the Markdown from the server to the browser's clipboard.
    markdown = gr.Textbox(visible=False, elem_id="nb-copy-text")
    private: dict[str, Any] = {"api_visibility": "private", "queue": False}
    copy.click(conversation_markdown, [chatbot], [markdown], **private).success(
        None, [markdown], None, js=COPY_TO_CLIPBOARD, **private
    )
    keep_conversation(blocks, chat, KEEP_KEYS[compact])


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
        follow_panel(follows)


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
            _chat_interface(
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
        _chat_interface(
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
