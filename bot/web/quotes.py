"""Which sentences of a cited passage an answer leans on, for marking them under the answer.

For each answer sentence that cites source n, the sentence of passage n sharing the most content
words with it is marked; when no passage sentence shares at least `MIN_SHARED` words (the answer
paraphrases, or the passage is one long sentence), the whole passage is marked: better too much
than a wrong sentence. Pure functions of text; the markup is built in `bot.web.render`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.answer.grounding.draft import split_draft
from bot.answer.grounding.markers import MARKER, marker_numbers
from bot.answer.grounding.words import content_words, plain

MIN_SHARED = 2
"""Fewest content words an answer sentence and a passage sentence share to mark that one."""

# A sentence ends at . ! ? (and a closing quote) before a space and an opening capital, digit,
# quote or bracket: the same rule as the answer check's, kept simple for article prose.
_SENTENCE_END = re.compile(
    r"(?:(?<=[.!?])|(?<=[.!?][\"\u201d\u2019')]))\s+(?=[\"\u201c\u2018(\[A-Z0-9])"
)


def passage_sentences(passage: str) -> list[str]:
    """The passage split into sentences; joined with single spaces they give the passage back."""
    text = " ".join(passage.split())
    return [part for part in _SENTENCE_END.split(text) if part]


def citing_sentences(answer: str, n: int) -> list[str]:
    """The answer's sentences whose markers name source `n`."""
    found = []
    for sentence in split_draft(answer):
        numbers = {k for m in MARKER.finditer(sentence.text) for k in marker_numbers(m[1])}
        if n in numbers:
            found.append(sentence.text)
    return found


def marked_sentences(sentences: Sequence[str], citing: Sequence[str]) -> set[int]:
    """Indexes of the passage sentences to mark; every index when unsure (see the module doc)."""
    if not sentences:
        return set()
    words = [content_words(s) for s in sentences]
    marked: set[int] = set()
    for claim in citing:
        wanted = content_words(plain(claim))
        shared = [len(wanted & w) for w in words]
        best = max(shared)
        if best < MIN_SHARED:
            return set(range(len(sentences)))
        marked.add(shared.index(best))
    return marked or set(range(len(sentences)))
