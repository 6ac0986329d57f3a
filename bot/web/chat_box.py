"""The chat box of both pages: Gradio's ChatInterface over the answer stream, as newsbot needs it.

`chat_interface` builds it (the widget's when compact): a chatbot that holds text messages only,
an input whose validator refuses a question that cannot be asked where it was typed, each answer
behind one slot of the app's `AnswerGate` on a worker thread that a stop or a closed page ends
(`gated_chat`), the conversation kept in the reader's browser (`bot.web.keep`) and copied as
Markdown with its sources (`bot.web.transcript`). `_ChatInterface` keeps the input's placeholder,
settles a stopped answer's note, gives a failed answer's question back to the input and asks a
clicked suggestion as a typed question.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from contextlib import aclosing
from functools import partial
from typing import Any

import gradio as gr
from gradio.components.chatbot import TextMessage
from gradio.context import LocalContext

from bot.answer.question import MAX_QUESTION_CHARS
from bot.web.answer_log import AnswerRecorder
from bot.web.chat import (
    ChatAssistant,
    ChatFn,
    Message,
    answer_begun,
    make_chat_fn,
    message_text,
    question_check,
    questions_asked,
    settled,
    stopped_notes,
)
from bot.web.feedback_ui import FEEDBACK_OPTIONS, feedback_controls, shown_votes
from bot.web.keep import keep_conversation
from bot.web.limits import AnswerGate, Busy, Stopped
from bot.web.stopping import SessionStops, Stop, answer_in_worker
from bot.web.transcript import conversation_markdown

log = logging.getLogger(__name__)

CHAT_API_NAME = "chat"
"""Gradio API name of the chat endpoint: `client.predict(message=..., api_name="/chat")`."""
INPUT_PLACEHOLDER = "Ask about the news…"
"""The chat input's placeholder, kept after each question (see `_ChatInterface`)."""
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
_COUNT_QUESTIONS = "(messages) => (messages || []).filter((m) => m.role === 'user').length"
"""In the page: how many questions the chat holds (`bot.web.chat.questions_asked` on the server)."""
_PAGE_ONLY: dict[str, Any] = {"api_visibility": "private", "queue": False}
AsyncChatFn = Callable[..., AsyncIterator[str | list[Message]]]
VotesFn = Callable[[list[Message]], list[str | None]]
"""The thumbs a conversation shows marked (`bot.web.feedback_ui.shown_votes`)."""
_ONE_REPLY = re.compile(r"/gradio_api/(?:run|api)/")
ONE_REPLY_REFUSED = (
    "An answer streams: ask through /gradio_api/call/chat (or gradio_client), or POST /api/ask "
    "for the whole answer at once."
)


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
        if _ONE_REPLY.search(str(getattr(getattr(request, "url", None), "path", ""))):
            # Gradio's `run` routes reply once, with a generator's first update (app.py refuses
            # them by name; `run/predict` with the chat's fn_index arrives here).
            yield ONE_REPLY_REFUSED
            return
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
    back to the input and the conversation back to before it. A clicked suggestion is asked as
    a typed question is, with the stop button. The hooks are private Gradio methods:
    `tests/test_web_ui.py` and `tests/test_web_browser.py` notice if they stop working.
    """

    def __init__(self, *args: Any, votes: VotesFn | None = None, **kwargs: Any) -> None:
        self._votes = votes  # read while Gradio's __init__ sets the events up
        super().__init__(*args, **kwargs)

    def _clear_and_save_textbox(self, message: Any) -> tuple[Any, Any]:
        return type(self.textbox)("", interactive=False), message

    def _setup_events(self) -> None:
        # Gradio answers a clicked message option (our "Tell me more about …") on a chain its
        # stop button does not cancel, with the input left open: a question typed meanwhile
        # lost the suggestion's question and answer (found by a review). Its chain is set
        # aside here, and `_ask_option` asks the option like a typed question instead.
        self.chatbot.option_select = _NoChain()  # type: ignore[method-assign,assignment]
        try:
            super()._setup_events()
        finally:
            del self.chatbot.option_select

    def _ask_option(self) -> Any:
        """The answer to a clicked option, as a typed question's: the input closed, with Stop."""
        answer = self._api_wrapper(self.fn, self._stream_fn)  # type: ignore[no-untyped-call]
        answer.__name__ = "_submit_fn"  # Gradio's name for it: not to be taken for the API's
        return (
            type(self.chatbot)
            .option_select(  # the class's listener: the instance's is set aside
                self.chatbot,
                self.option_clicked,
                [self.chatbot],
                [self.chatbot, self.saved_input],
                **_PAGE_ONLY,
            )
            .then(
                lambda: gr.update(interactive=False, submit_btn=False, stop_btn=True),
                None,
                [self.textbox],
                **_PAGE_ONLY,
            )
            .then(
                answer,
                [self.saved_input, self.chatbot_state],
                [self.null_component, self.chatbot],
                api_visibility="undocumented",
                concurrency_limit=self.concurrency_limit,
                show_progress=self.show_progress,
            )
        )

    def _setup_stop_events(
        self, event_triggers: list[Any], events_to_cancel: list[Any], after_success: Any
    ) -> None:
        option = self._ask_option()
        events_to_cancel = [*events_to_cancel, option]
        super()._setup_stop_events(event_triggers, events_to_cancel, after_success)
        option.then(
            lambda m: (m, m), [self.chatbot], [self.chatbot_state, self.chatbot_value], **_PAGE_ONLY
        )
        option.then(lambda: gr.update(interactive=True), None, [self.textbox], **_PAGE_ONLY)
        # Gradio ends a stopped answer as failed, so the failure hook below also runs after the
        # stop button, racing the `.then` that says it stopped (found in CI: under load the
        # restore landed last, and the note was gone). The stop is noted in the page itself,
        # at once and before any reply from the server: how many questions the chat held.
        stopped_at = gr.Number(-1, visible=False, elem_classes="nb-stopped-at")
        self.textbox.stop(None, [self.chatbot], [stopped_at], js=_COUNT_QUESTIONS, **_PAGE_ONLY)
        # Any other answer, or another conversation (Clear), forgets the stop: the count of a
        # new conversation can come round to it again (found by a review).
        chatbot = type(self.chatbot)  # its listeners: the instance's option_select is set aside
        for trigger in (
            self.textbox.submit,
            partial(chatbot.retry, self.chatbot),
            partial(chatbot.undo, self.chatbot),
            partial(chatbot.clear, self.chatbot),
            partial(chatbot.example_select, self.chatbot),
            partial(chatbot.option_select, self.chatbot),
        ):
            trigger(None, None, [stopped_at], js="() => -1", **_PAGE_ONLY)
        for event in events_to_cancel:
            # After an answer ends, and after the stop button: a stopped answer's note would
            # spin on ("Reading 2 passages…"), so it says it stopped.
            event.then(
                self._after_answer,
                [self.chatbot, stopped_at],
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
                _after_failure,
                [self.saved_input, self.chatbot_state, self.chatbot, stopped_at, self.textbox],
                [self.textbox, self.chatbot],
                api_visibility="undocumented",
                queue=False,
            )

    def _after_answer(self, messages: list[Message], stopped_at: float | None) -> tuple[Any, Any]:
        """After an answer ended, stopped or failed (Gradio runs this after each): the input's
        placeholder back; a stopped answer's note settled (`stopped_at` as in `_after_failure`;
        a failed one is `_after_failure`'s); and, where votes are kept, the thumbs marked as the
        log holds them. Gradio marks a reply by its place, which a retry, an undo or Clear gives
        to another answer (found by a review): the next answer's end puts the marks right."""
        settled_now = stopped_notes(messages) if _stopped(stopped_at, messages) else None
        chat = gr.update() if settled_now is None else gr.update(value=settled_now)
        if self._votes is not None:
            chat["feedback_value"] = self._votes(settled_now or messages)
        return gr.update(placeholder=INPUT_PLACEHOLDER), chat


class _NoChain:
    """An event listener that registers nothing, and whose chain registers nothing."""

    def __call__(self, *args: Any, **kwargs: Any) -> _NoChain:
        return self

    def then(self, *args: Any, **kwargs: Any) -> _NoChain:
        return self


def _stopped(stopped_at: float | None, messages: list[Message]) -> bool:
    """Whether the answer that just ended was stopped: the stop button wrote, in the page, how
    many questions the chat held (`stopped_at`), and it holds that many still."""
    return stopped_at is not None and stopped_at == questions_asked(messages)


def _after_failure(
    question: str,
    before: list[Message],
    now: list[Message],
    stopped_at: float | None,
    typed: str | None = None,
) -> tuple[Any, Any]:
    """The input and the conversation after an answer that Gradio ended as failed.

    A stopped answer ends that way too (`stopped_at` is the number of questions the chat held
    when the stop button was pressed): `_ChatInterface._after_answer` settles it, and this one
    changes nothing. After a failure, what was shown of a begun answer stays (found by a review: a
    stopped answer's question and partial answer were wiped); otherwise the question goes back
    to the input and the conversation back to before it."""
    if _stopped(stopped_at, now):
        return gr.skip(), gr.skip()
    if answer_begun(now):
        return gr.update(interactive=True, submit_btn=True, stop_btn=False), settled(now)
    ready = gr.update(interactive=True, submit_btn=True, stop_btn=False)
    if not (typed or "").strip():  # a suggestion's failure keeps a draft typed before its click
        ready["value"] = question
    return ready, settled(before)


def _text_only(chatbot: gr.Chatbot) -> gr.Chatbot:
    """`chatbot`, refusing any message sent back by a page that is not text.

    The page sends the conversation back with each event (undo, retry, a vote), and Gradio
    reads a message naming a file or another component (`{"type": "component", "component":
    "file", "value": {"path": ...}}`) by opening that server path: whether a file exists, a
    copy in its cache. No page of ours sends one, so one is refused before anything is read.

    Set on Gradio's Chatbot class, once, for every chatbot of the process (the chat's and the
    widget's): after an event updates a chatbot (its vote marks), Gradio reads that session's
    later events with a new chatbot built from its settings, which a method set on the instance
    does not reach (found by a review). A subclass would make Gradio write a .pyi file beside
    this module.
    """
    if not getattr(gr.Chatbot, "_newsbot_text_only", False):
        read = gr.Chatbot._preprocess_content

        def text_content(self: gr.Chatbot, message: Any) -> Any:
            if not isinstance(message, TextMessage):
                raise gr.Error("The chat holds text messages only.")
            return read(self, message)

        gr.Chatbot._preprocess_content = text_content  # type: ignore[method-assign,assignment]
        gr.Chatbot._newsbot_text_only = True  # type: ignore[attr-defined]
    return chatbot


def chat_interface(
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
    votes = None
    if recorder is not None and recorder.keeps_feedback:
        votes = partial(shown_votes, recorder=recorder)
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
        votes=votes,
    )
    if recorder is not None and recorder.keeps_feedback:
        feedback_controls(chatbot, recorder)
    # Carries the Markdown from the server to the browser's clipboard.
    markdown = gr.Textbox(visible=False, elem_id="nb-copy-text")
    copy.click(conversation_markdown, [chatbot], [markdown], **_PAGE_ONLY).success(
        None, [markdown], None, js=COPY_TO_CLIPBOARD, **_PAGE_ONLY
    )
    keep_conversation(blocks, chat, KEEP_KEYS[compact], votes)
