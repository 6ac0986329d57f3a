"""Questions to ask next, offered under an answer at no cost in model time.

They are made from the headlines of the answer's related articles ("more on this story", found
from stored vectors with no model call), so they lead on to what else was reported about the
story. A refusal has no related articles, and gets none.
"""

from __future__ import annotations

import re
from typing import Final

from bot.answer.result import AnswerResult

MAX_SUGGESTIONS: Final = 3
TITLE_CHARS: Final = 120
"""Longest headline quoted in a suggestion; longer ones are cut at a word, with "…"."""
_SPACES = re.compile(r"\s+")


def _headline(title: str) -> str:
    flat = _SPACES.sub(" ", title).strip().strip('"“”')
    if len(flat) <= TITLE_CHARS:
        return flat
    return flat[: TITLE_CHARS - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def next_question(title: str) -> str:
    """The question offered for a related article's headline."""
    return f"Tell me more about “{_headline(title)}”"


def next_questions(result: AnswerResult) -> list[str]:
    """Up to MAX_SUGGESTIONS questions about the answer's related articles (none for a
    refusal), one per distinct headline, in the related articles' order (newest first)."""
    if not result.grounded or not result.sources:
        return []
    questions: list[str] = []
    seen: set[str] = set()
    for article in result.related:
        headline = _headline(article.title)
        if headline and headline.casefold() not in seen:
            seen.add(headline.casefold())
            questions.append(next_question(article.title))
    return questions[:MAX_SUGGESTIONS]
