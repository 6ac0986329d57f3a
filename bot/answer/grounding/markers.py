"""Citation markers: the `[n]` forms small models write, read and rewritten in one place.

`MARKER` accepts `[1]`, `[1, 2]`, `[1][2]`, `[1-3]`, `[Passage 2]`; `marker_numbers` reads the
numbers inside one; `Renumbering` rewrites them in order of first citation as an answer is
released, so the text's `[1]` is always the first source shown.
"""

from __future__ import annotations

import re

_NUMBER_LIST = r"\d+(?:\s*(?:,|;|-|\u2013|and|&)\s*\d+)*"
MARKER = re.compile(
    rf"\[\s*(?:(?:passages?|articles?|sources?|doc(?:ument)?s?)\s*)?({_NUMBER_LIST})\s*\]",
    re.IGNORECASE,
)
_RANGE = re.compile(r"(\d+)\s*[-\u2013]\s*(\d+)")
# "networks. [1]" → "networks [1].": the marker belongs to the sentence it ends.
_AFTER_STOP = re.compile(r"[ \t]*([.!?])[ \t]*((?:\[\d+\])+)(?=\s|$)")


def marker_numbers(group: str) -> list[int]:
    """The numbers in one marker's inside: "1, 2" → [1, 2]; "1-3" → [1, 2, 3] (in order)."""
    numbers: list[int] = []
    for part in re.split(r"\s*(?:,|;|and|&)\s*", group):
        span = _RANGE.fullmatch(part.strip())
        if span:
            low, high = int(span[1]), int(span[2])
            if low <= high and high - low < 50:
                numbers.extend(range(low, high + 1))
        elif part.strip().isdigit():
            numbers.append(int(part))
    return list(dict.fromkeys(numbers))


def cited_numbers(text: str) -> list[int]:
    """Every number the text's markers name, in order, repeats removed."""
    return list(
        dict.fromkeys(n for match in MARKER.finditer(text) for n in marker_numbers(match[1]))
    )


def _tidy(text: str) -> str:
    text = re.sub(r"(\[\d+\])(?:\s*\1)+", r"\1", text)  # "[1][1]" → "[1]"
    text = _AFTER_STOP.sub(r" \2\1", text)
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", text)  # a removed marker leaves " ."
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def keep_known_markers(text: str, n_passages: int) -> str:
    """Markers as `[a][b]`, keeping only numbers 1..n_passages; a marker naming none is removed."""

    def rewrite(match: re.Match[str]) -> str:
        valid = [n for n in marker_numbers(match[1]) if 1 <= n <= n_passages]
        return "".join(f"[{n}]" for n in valid)

    return _tidy(MARKER.sub(rewrite, text))


def strip_markers(text: str) -> str:
    """The text without any `[n]` markers."""
    return _tidy(MARKER.sub("", text))


def with_marker(sentence: str, n: int) -> str:
    """The sentence (without markers) with `[n]` before its closing punctuation."""
    body = strip_markers(sentence).rstrip()
    end = len(body.rstrip(".!?\"”'"))
    return f"{body[:end]} [{n}]{body[end:]}"


class Renumbering:
    """Passage numbers as given → numbers in order of first citation, across released text."""

    def __init__(self) -> None:
        self.order: dict[int, int] = {}

    def apply(self, text: str) -> tuple[str, list[int]]:
        """The text with its (valid, `[a][b]`-form) markers renumbered, and the passage numbers
        (as given, 1-based) it cites for the first time, in their new order."""
        new: list[int] = []

        def rewrite(match: re.Match[str]) -> str:
            out = ""
            for n in marker_numbers(match[1]):
                if n not in self.order:
                    self.order[n] = len(self.order) + 1
                    new.append(n)
                out += f"[{self.order[n]}]"
            return out

        return MARKER.sub(rewrite, text), new

    @property
    def cited(self) -> list[int]:
        """0-based passage indexes in citation order: `[n]` is passage `cited[n - 1]`."""
        return [n - 1 for n in self.order]
