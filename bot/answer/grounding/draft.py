"""The model's draft read as sentences, once, as it streams: each with the whitespace before it
and the list marker that opens its line, so the checked answer keeps lists and line breaks.

`DraftReader.feed` returns the sentences that a delta completed: a sentence is complete when the
next one has begun (a full stop and a capital, or a line break) or, with `close`, at the end.
`split_draft` reads a whole text the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vectorstore.sentences import sentence_spans

_BULLET = re.compile(r"(?:[-*•]|\d{1,2}[.)])[ \t]+")


@dataclass(frozen=True)
class DraftSentence:
    """One sentence of the draft: `lead` is the whitespace before it ("" for the first), `bullet`
    a list marker that opens its line ("- ", "2. "), `text` the sentence itself."""

    lead: str
    bullet: str
    text: str


def _split_line(line: str) -> list[tuple[str, str]]:
    """A line (no line break) as (separator before, sentence) pairs (`vectorstore.sentences`);
    the last keeps the line's end, which may be the open start of the next sentence."""
    spans = sentence_spans(line)
    pieces = [(line[spans[i - 1][1] if i else 0 : a], line[a:b]) for i, (a, b) in enumerate(spans)]
    if pieces:
        pieces[-1] = (pieces[-1][0], line[spans[-1][0] :])
    return pieces


class DraftReader:
    """Reads a streamed draft into complete `DraftSentence`s."""

    def __init__(self) -> None:
        self._buffer = ""  # the open part of the draft; it starts a sentence
        self._lead = ""  # the whitespace before the open part
        self._line_start = True
        self._started = False

    def feed(self, delta: str) -> list[DraftSentence]:
        """Take the next piece of the draft; return the sentences it completed."""
        self._buffer += delta
        done: list[DraftSentence] = []
        while True:
            self._take_leading_space()
            end = self._buffer.find("\n")
            if end < 0:
                return done + self._take(self._buffer, complete=False)
            line, self._buffer = self._buffer[:end], self._buffer[end:]
            done += self._take(line, complete=True)

    def close(self) -> list[DraftSentence]:
        """The end of the draft: the sentences still open are complete."""
        self._take_leading_space()
        line, self._buffer = self._buffer, ""
        return self._take(line, complete=True)

    def _take_leading_space(self) -> None:
        stripped = self._buffer.lstrip()
        if len(stripped) < len(self._buffer):
            space = self._buffer[: len(self._buffer) - len(stripped)]
            self._lead += space
            self._line_start = self._line_start or "\n" in space
            self._buffer = stripped

    def _take(self, text: str, complete: bool) -> list[DraftSentence]:
        """The sentences of `text` (a whole line, or the open start of one). Unless `complete`,
        the last piece stays open in the buffer."""
        if not text:
            return []
        bullet = ""
        if self._line_start:
            match = _BULLET.match(text)
            if match and match.end() < len(text):
                bullet, text = match.group(), text[match.end() :]
            elif not complete and _BULLET.fullmatch(text + " "):
                return []  # "1." or "-" may still become a list marker
        pieces = _split_line(text.rstrip() if complete else text)
        if not complete:
            if len(pieces) < 2:
                return []
            *pieces, (rest_sep, rest) = pieces
            self._buffer = rest + self._buffer[len(text) + len(bullet) :]
        done = []
        for i, (sep, sentence) in enumerate(pieces):
            lead = (self._lead if i == 0 else sep) if self._started else ""
            done.append(DraftSentence(lead, bullet if i == 0 else "", sentence))
            self._started = True
        self._lead = "" if complete else rest_sep
        self._line_start = False
        return done


def split_draft(text: str) -> list[DraftSentence]:
    """A whole draft as sentences."""
    reader = DraftReader()
    return reader.feed(text) + reader.close()
