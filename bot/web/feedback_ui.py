"""The thumbs under each answer in the chat and the widget, and the optional comment after one.

Gradio's own Chatbot feedback (`feedback_options`, its `.like` event) draws the thumbs; a click
stores the vote at once (`AnswerRecorder.feedback`) and opens a one-line comment box under the
chat ("What was wrong?"), whose text is stored on the same answer when sent. Clicking the chosen
thumb again (Gradio then sends `liked=""`) withdraws the vote and its comment: what the page shows
unmarked is unmarked in the log too. The answer is named
by the `answer_id` its message carries (`bot.web.chat.answer_messages`). Offered only when the
deployment keeps a question log: otherwise there is nowhere to keep a vote.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import gradio as gr

from bot.web.answer_log import MAX_COMMENT_CHARS, AnswerRecorder, FeedbackOff, Vote
from newsbot.errors import NewsbotError

log = logging.getLogger(__name__)

FEEDBACK_OPTIONS = ("Like", "Dislike")
"""Gradio draws exactly these two as thumbs up and down."""
ASK_COMMENT: dict[Vote, str] = {
    "down": "What was wrong? (optional)",
    "up": "What helped? (optional)",
}
SHOWN_AS: dict[Vote, str] = {"up": "Like", "down": "Dislike"}
"""The thumb a kept vote marks (`FEEDBACK_OPTIONS`)."""
THANKS = "Thanks: your vote is saved."
WITHDRAWN = "Your vote is withdrawn."
NO_ANSWER = "Not saved: this reply holds no answer to vote on."


def _field(message: Any, name: str) -> Any:
    return message.get(name) if isinstance(message, Mapping) else getattr(message, name, None)


def _own_answer_id(message: Any) -> str | None:
    """The `answer_id` a message carries: its answer's text does (an id without a title)."""
    metadata = _field(message, "metadata") or {}
    if isinstance(metadata, Mapping) and metadata.get("id") and not metadata.get("title"):
        return str(metadata["id"])
    return None


def answer_id_at(history: Sequence[Any], index: int | Sequence[int]) -> str | None:
    """The `answer_id` of the answer a clicked message belongs to: the id on the message, or on
    an earlier one of the same reply (the thumbs sit under a reply's last message)."""
    at = index if isinstance(index, int) else index[0]
    for message in reversed(list(history)[: at + 1]):
        if _field(message, "role") == "user":
            break
        if answer_id := _own_answer_id(message):
            return answer_id
    return None


def shown_votes(messages: Sequence[Any], recorder: AnswerRecorder) -> list[str | None]:
    """The thumbs marked under `messages` as Gradio takes them (`Chatbot.feedback_value`): a
    reply's kept vote for each reply, which Gradio shows as one bubble (a run of assistant
    messages). A reloaded page shows the votes it gave, and a reader can take one back."""
    replies: list[str | None] = []  # the answer id of each reply
    previous = None
    for message in messages:
        role = _field(message, "role")
        if role == "assistant" and previous != "assistant":
            replies.append(None)
        if role == "assistant":
            replies[-1] = replies[-1] or _own_answer_id(message)
        previous = role
    votes = recorder.votes([answer_id for answer_id in replies if answer_id])
    return [SHOWN_AS[votes[i]] if i in votes else None for i in replies]


def _vote(liked: Any) -> Vote | Literal[""] | None:
    """The vote a click means: up, down, "" (the chosen thumb clicked again: withdrawn), or
    None (another option: nothing to store)."""
    if liked is True:
        return "up"
    if liked is False:
        return "down"
    return "" if liked == "" else None


def feedback_controls(chatbot: gr.Chatbot, recorder: AnswerRecorder) -> None:
    """The vote handler on `chatbot` and the comment row, in the Blocks being built."""
    picked = gr.State(None)  # (answer_id, vote) the comment goes with
    with gr.Row(visible=False, elem_classes="nb-feedback", equal_height=True) as row:
        comment = gr.Textbox(
            show_label=False,
            lines=1,
            max_lines=3,
            max_length=MAX_COMMENT_CHARS,
            scale=4,
            elem_id="nb-feedback-comment",
        )
        send = gr.Button("Send", scale=0, min_width=80, size="sm", elem_id="nb-feedback-send")
    note = gr.Markdown(elem_id="nb-feedback-note")

    def store(answer_id: str, vote: Vote | Literal[""], text: str | None) -> str | None:
        """None when stored (or withdrawn, for `""`); else what the reader is told."""
        try:
            stored = (
                recorder.feedback(answer_id, vote, text) if vote else recorder.withdraw(answer_id)
            )
            if stored:
                return None
            return "This answer is no longer in the log: nothing was saved."
        except (FeedbackOff, ValueError, NewsbotError) as exc:
            log.warning("feedback not stored: %s", exc)
            return f"Not saved: {exc}"

    def on_vote(history: list[Any], data: gr.LikeData) -> tuple[Any, ...]:
        vote = _vote(data.liked)
        answer_id = answer_id_at(history, data.index)
        if vote is None:
            return None, gr.update(visible=False), "", ""
        if answer_id is None:  # Gradio draws thumbs under every reply, a stopped one's too
            return None, gr.update(visible=False), "", NO_ANSWER
        problem = store(answer_id, vote, None)
        if problem or not vote:
            return None, gr.update(visible=False), "", problem or WITHDRAWN
        return (
            (answer_id, vote),
            gr.update(visible=True),
            gr.update(value="", placeholder=ASK_COMMENT[vote]),
            THANKS,
        )

    def on_comment(chosen: tuple[str, Vote] | None, text: str) -> tuple[Any, ...]:
        if not chosen or not text.strip():
            return chosen, gr.update(), gr.update(), ""
        answer_id, vote = chosen
        problem = store(answer_id, vote, text)
        return None, gr.update(visible=False), "", problem or "Thanks: your comment is saved."

    private: dict[str, Any] = {"api_visibility": "private"}
    chatbot.like(on_vote, [chatbot], [picked, row, comment, note], **private)
    for trigger in (send.click, comment.submit):
        trigger(on_comment, [picked, comment], [picked, row, comment, note], **private)
