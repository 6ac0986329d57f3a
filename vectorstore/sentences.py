"""Sentences of news prose and of the model's answers: the one rule every part splits text by.

The chunker cuts at these sentences, the compact context scores them, the answer check reads the
draft and the passages as them, and a source's quoted span under an answer is one of them. A
sentence ends after . ! ? (and any closing quotes or brackets) or a citation
marker ("... [1] Next"), where whitespace is followed by what opens a sentence: a capital, a
digit, an opening quote or bracket. A title's full stop ("Dr. Ilse Varga", "the U.S. Treasury")
and "No. 5" end no sentence. A line break ends one only when the caller says so (a draft's
lines, an article's paragraphs; the compact context reads "CNN —\n\nThe ..." as one lead).
Pure functions of text.
"""

from __future__ import annotations

import itertools
import re

_LINE = re.compile(r"[^\n]+")
_END = re.compile(r"(?:[.!?][\"'\u201d\u2019)\]]*|\])\s+(?=[\"\u201c\u2018(A-Z0-9])")
# A full stop after a title or an initial ("Dr. Ilse Varga", "the U.S. Treasury") ends no sentence.
_TITLE_AT_END = re.compile(
    r"(?:\b(?:Dr|Mr|Mrs|Ms|Prof|Gen|Gov|Sen|Rep|Rev|Lt|Col|Capt|Sgt|Mt|vs)|\b[A-Z])\.$"
)
# "No. 5": the full stop of "No." ends no sentence when a number follows.
_NUMBER_ABBREVIATION = re.compile(r"\bNo\.$")


def sentence_spans(text: str, lines: bool = False) -> list[tuple[int, int]]:
    """`(start, end)` of each sentence of `text`, without the whitespace around it; with
    `lines`, a line break ends a sentence too.

    >>> sentences("Dr. Varga came. No. 5 won. Then")
    ['Dr. Varga came.', 'No. 5 won.', 'Then']
    """
    ranges = [m.span() for m in _LINE.finditer(text)] if lines else [(0, len(text))]
    return [span for start, end in ranges for span in _spans(text, start, end)]


def _spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    cuts = [start, *(match.end() for match in _END.finditer(text, start, end)), end]
    spans: list[tuple[int, int]] = []
    for begin, stop in itertools.pairwise(cuts):
        piece = text[begin:stop]
        begin += len(piece) - len(piece.lstrip())
        stop = begin + len(piece.strip())
        if stop <= begin:
            continue
        before = text[spans[-1][0] : spans[-1][1]] if spans else ""
        if before and (
            _TITLE_AT_END.search(before)
            or (_NUMBER_ABBREVIATION.search(before) and text[begin].isdigit())
        ):
            spans[-1] = (spans[-1][0], stop)
        else:
            spans.append((begin, stop))
    return spans


def sentences(text: str, lines: bool = False) -> list[str]:
    """The sentences of `text` (see `sentence_spans`)."""
    return [text[start:end] for start, end in sentence_spans(text, lines)]
