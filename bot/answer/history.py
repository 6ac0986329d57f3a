"""Chat history in the OpenAI/Gradio "messages" format: the recent turns a follow-up is read
with, and how the model sees them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final, Literal, TypedDict

from bot.answer.grounding import strip_markers
from bot.answer.grounding.lexicon import CALENDAR_AND_I, CHAT_OPENERS
from bot.answer.grounding.words import content_words, known_names, names_and_numbers

RECENT_TURNS: Final = 6
"""Messages of history a follow-up is read with at most (three questions and their answers)."""

# Where a reader's next sentence starts: after "!" or "?", or after a full stop that ends a
# word of three lower-case letters or more (not "Dr.", "Mrs." or "U.S.").
_SENTENCE_BREAK = re.compile(r"(?<=[!?])\s+|(?<=[a-z]{3}\.)\s+")
OWN_SUBJECT_WORDS: Final = 4
"""Content words from which a follow-up counts as naming its own subject (`names_own_subject`).
Chosen on the tuning halves (BENCHMARKS.md, "Follow-ups and changes of topic")."""


class ChatTurn(TypedDict):
    """One message of a conversation: `{"role": "user" | "assistant", "content": str}`."""

    role: Literal["user", "assistant"]
    content: str


def recent_turns(history: Sequence[ChatTurn], max_chars: int) -> list[ChatTurn]:
    """The latest RECENT_TURNS messages, or fewer whose contents fit `max_chars` together,
    oldest first: a long conversation cannot overflow the model's context.

    The newest turn is kept even alone when it is longer, cut to its last `max_chars`
    characters, so a follow-up always has its context.
    """
    kept: list[ChatTurn] = []
    used = 0
    for turn in reversed(history[-RECENT_TURNS:]):
        size = len(turn["content"])
        if used + size > max_chars:
            if not kept:
                kept.append({"role": turn["role"], "content": turn["content"][-max_chars:]})
            break
        kept.append(turn)
        used += size
    kept.reverse()
    return kept


def format_history(history: Sequence[ChatTurn]) -> str:
    """The messages as plain "User: ..." / "Assistant: ..." lines.

    Citation markers are left out: the condense prompt has no passages for them to name.
    """
    lines = []
    for turn in history:
        speaker = "User" if turn["role"] == "user" else "Assistant"
        lines.append(f"{speaker}: {strip_markers(turn['content'])}")
    return "\n".join(lines)


def with_earlier_question(question: str, history: Sequence[ChatTurn]) -> str:
    """A follow-up with the user's previous question, for searching and for the model:
    "Who represented the US? (after: What did Pakistan and the US agree on?)".

    The earlier question carries the subject a short follow-up leaves out ("they", "it",
    "what about..."), without a model call to rewrite it; "after" is a stopword of the keyword
    search and of the answer check, so it adds nothing but the earlier words.
    """
    earlier = [turn["content"] for turn in history if turn["role"] == "user"]
    if not earlier or not earlier[-1].strip():
        return question
    return f"{question} (after: {' '.join(earlier[-1].split())})"


def names_own_subject(question: str, history: Sequence[ChatTurn]) -> bool:
    """Whether a follow-up may be a new question rather than one about the story so far, so
    that it is searched on its own as well as beside the earlier question.

    It is when it names someone or something the conversation has not ("Who is Elena Marsh?"
    after a strike), or when it has OWN_SUBJECT_WORDS content words or more, as a question that
    says what it is about does. A follow-up that leans on the conversation ("What about the
    schools?", "Who chairs the panel?") has one or two, and its own words alone would find
    other stories.
    """
    told = known_names(" ".join(turn["content"] for turn in history))
    named: set[str] = set()
    for sentence in _SENTENCE_BREAK.split(question):
        words = sentence.split()
        if words and _plain_word(words[0]) in CHAT_OPENERS:  # capitalised only as a first word
            sentence = " ".join(words[1:])
        named |= names_and_numbers(sentence)
    new_name = any(
        not word.isdigit() and word not in told and word not in CALENDAR_AND_I for word in named
    )
    return new_name or len(content_words(question)) >= OWN_SUBJECT_WORDS


def _plain_word(word: str) -> str:
    """`word` lower-cased without the punctuation around it ("Thanks!" → "thanks")."""
    return word.strip(".,;:!?\"'“”()").lower()
