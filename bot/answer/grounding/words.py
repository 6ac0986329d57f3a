"""The word measures the answer check is built on: content words, support, names, coverage.

All are lexical: they compare the words of a sentence with the words of the passages, after a
light stemming ("agreed" meets "agreeing"). They are pure functions of text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.answer.grounding.lexicon import (
    NOT_A_NAME_AT_START,
    NOT_A_NOUN_PHRASE,
    NOT_A_SUBJECT,
    REFERRING,
    STOPWORDS,
    SUBJECT_END,
)
from bot.answer.grounding.markers import MARKER

_WORD = re.compile(r"[a-z0-9]+")
_NAME_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9'-]*|[0-9]+")
_POSSESSIVE = re.compile(r"'s?$")
# What a question says it is about: the words after "about", "regarding" or "concerning", up to
# the end of the clause.
_SUBJECT = re.compile(r"\b(?:about|regarding|concerning)\s+([^?!,;:]+)", re.IGNORECASE)
# Subject and passage stems that share their first letters count as one word: at least this many,
# and all but three of the shorter one ("modernise" meets "modernisation").
_SHARED_PREFIX = 4


def plain(text: str) -> str:
    """Text without citation markers, with curly apostrophes made straight."""
    return MARKER.sub(" ", text).replace("\u2019", "'")


def stem(word: str) -> str:
    """A light stem: one plural or tense suffix off, and a final "e" ("agreed" → "agre")."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 4 else word


_REFERRING_STEMS = frozenset(map(stem, REFERRING))


def content_words(text: str) -> set[str]:
    """Stems of the words of three or more letters (or any number) that are not stopwords."""
    words = set()
    for word in _WORD.findall(text.lower().replace("\u2019", "'")):
        if word in STOPWORDS or (len(word) < 3 and not word.isdigit()):
            continue
        words.add(stem(word))
    return words


def support(sentence: str, passage: str, question: str = "") -> float:
    """Share of the sentence's content words that occur in the passage (0 when it has none).

    Words of the `question` are left out: a sentence that only restates the question is not
    supported by a passage that merely shares the question's words.
    """
    words = content_words(plain(sentence)) - content_words(question)
    if not words:
        return 0.0
    return len(words & content_words(passage)) / len(words)


def names_and_numbers(sentence: str) -> set[str]:
    """The capitalised words and the numbers in `sentence`, lower-cased and without "'s":
    "Dr. Ilse Varga's 40 cm [1]" → {"dr", "ilse", "varga", "40"}. A function word that is
    capitalised only because it starts the sentence ("They", "However, ...") is not a name."""
    text = plain(sentence)
    words = _NAME_TOKEN.findall(text)
    if words and (
        words[0].lower() in NOT_A_NAME_AT_START or text.lstrip(' "“(').startswith(words[0] + ",")
    ):
        words = words[1:]
    return {
        _POSSESSIVE.sub("", word).lower()
        for word in words
        if (word[0].isupper() and len(word) > 1) or word[0].isdigit()
    }


def known_names(vocabulary: str) -> set[str]:
    """Every word of `vocabulary` as `names_and_numbers` would spell it, to look names up in."""
    return {_POSSESSIVE.sub("", word).lower() for word in _NAME_TOKEN.findall(plain(vocabulary))}


def question_coverage(question: str, seen: set[str]) -> float:
    """Share of the question's content words among the `seen` content words (1 when none);
    words that refer back into the conversation ("the second one") are not counted."""
    asked = content_words(question) - _REFERRING_STEMS
    if not asked:
        return 1.0
    return len(asked & seen) / len(asked)


def asked_subject(question: str) -> set[str]:
    """Content words (stemmed) of what the question says it is about: "What did they agree about
    trade tariffs?" → {"trad", "tariff"}; words that refer back are left out."""
    subject: set[str] = set()
    for match in _SUBJECT.finditer(question):
        if NOT_A_SUBJECT.match(match[1]):
            continue
        words = match[1].split()
        end = next(
            (i for i, word in enumerate(words) if i and word.lower() in SUBJECT_END), len(words)
        )
        phrase = " ".join(words[:end])
        if words and words[0].lower() in NOT_A_NOUN_PHRASE:
            phrase = ""
        subject |= content_words(phrase)
    return subject - _REFERRING_STEMS


def subject_coverage(question: str, passages: Iterable[str]) -> float:
    """Share of the question's `asked_subject` words that occur in the passages (1 when none)."""
    subject = asked_subject(question)
    if not subject:
        return 1.0
    seen = set().union(*map(content_words, passages))
    found = {word for word in subject if any(_same_word(word, other) for other in seen)}
    return len(found) / len(subject)


def _same_word(a: str, b: str) -> bool:
    """Stems of one word: equal, or sharing a long enough start ("china" and "chines" for
    Chinese). Errs towards a match: a miss refuses a fair follow-up."""
    if a == b:
        return True
    shorter = min(len(a), len(b))
    shared = next((i for i in range(shorter) if a[i] != b[i]), shorter)
    return shared >= max(_SHARED_PREFIX, shorter - 3)
