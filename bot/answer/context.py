"""The compact context: from the retrieved chunks, only the sentences that bear on the question.

The local model reads about 40-70 prompt tokens a second on two cores, so every passage token
shown costs time before the first word. `compact_passages` splits the retrieved chunks into
sentences, scores each by the question's content words it holds (weighted by how rare each
word is among the candidate sentences, so "Pakistan" counts more than "said") plus a small
share of its chunk's retrieval rank, drops copies (syndicated articles repeat sentences, and
neighbouring chunks overlap), and keeps the best sentences within a token budget, each with the
sentence that follows it when room is left (answers often sit one sentence after the words of
the question). Each article's kept sentences become one passage, in text order, with its exact
span in the article, so citations point at the very sentences the model read.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

from bot.answer.grounding.lexicon import NUMBER_ABBREVIATION, TITLE_AT_END
from bot.answer.grounding.words import content_words
from vectorstore.records import Passage

CHARS_PER_TOKEN: Final = 4  # English news prose in the model's tokenizer, near enough for a budget
GAP: Final = " … "  # between sentences of one article that are not next to each other
RANK_SHARE: Final = 0.5  # the chunk's rank prior, against a sentence's word score
DUPLICATE_OVERLAP: Final = 0.8  # content-word overlap at which two sentences are one

_SENTENCE_END: Final = re.compile(
    r"(?:(?<=[.!?])|(?<=[.!?][\"\u201d\u2019')]))\s+(?=[\"\u201c\u2018(\[A-Z0-9])"
)


@dataclass(frozen=True)
class _Sentence:
    passage: int  # index into the retrieved passages
    start: int  # offsets in the passage's text
    end: int
    text: str
    words: frozenset[str]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """`(start, end)` of each sentence of `text`; a title's full stop ("Dr. Ilse Varga") and
    "No. 5" end no sentence."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text.rstrip())))
    merged: list[tuple[int, int]] = []
    for begin, end in spans:
        previous = text[merged[-1][0] : merged[-1][1]] if merged else ""
        if merged and (
            TITLE_AT_END.search(previous)
            or (NUMBER_ABBREVIATION.search(previous) and text[begin : begin + 1].isdigit())
        ):
            merged[-1] = (merged[-1][0], end)
        elif end > begin:
            merged.append((begin, end))
    return merged


def _sentences(passages: Sequence[Passage]) -> list[_Sentence]:
    found: list[_Sentence] = []
    for n, passage in enumerate(passages):
        for start, end in sentence_spans(passage.text):
            text = " ".join(passage.text[start:end].split())
            found.append(_Sentence(n, start, end, text, frozenset(content_words(text))))
    return found


def _is_copy(sentence: _Sentence, kept: Sequence[_Sentence]) -> bool:
    """True when `sentence` says what a kept one says (the same words, or contained in it)."""
    for other in kept:
        if sentence.text in other.text or other.text in sentence.text:
            return True
        small = min(len(sentence.words), len(other.words))
        if small and len(sentence.words & other.words) / small >= DUPLICATE_OVERLAP:
            return True
    return False


def compact_passages(
    passages: Sequence[Passage], question: str, budget_tokens: int
) -> list[Passage]:
    """The best sentences of `passages` (in rank order) within `budget_tokens`, one passage per
    article in the order of its best chunk (see the module docstring)."""
    sentences = _sentences(passages)
    if not sentences:
        return list(passages)
    asked = content_words(question)
    df = Counter(word for s in sentences for word in s.words & asked)
    total = len(sentences)

    def score(s: _Sentence) -> float:
        words = sum(math.log(1 + total / df[w]) for w in s.words & asked)
        rank = passages[s.passage].rank or s.passage + 1
        return words / math.sqrt(1 + len(s.words)) + RANK_SHARE / rank

    budget = budget_tokens * CHARS_PER_TOKEN
    ranked = sorted(range(total), key=lambda i: -score(sentences[i]))
    chosen: list[int] = []
    used = 0
    for index in ranked:  # the best sentences first
        sentence = sentences[index]
        if used + len(sentence.text) > budget and chosen:
            continue
        if _is_copy(sentence, [sentences[i] for i in chosen]):
            continue
        chosen.append(index)
        used += len(sentence.text)
    for index in list(chosen):  # then the sentence after each, while room is left
        after = index + 1
        if (
            after < total
            and after not in chosen
            and sentences[after].passage == sentences[index].passage
        ):
            follower = sentences[after]
            if used + len(follower.text) <= budget and not _is_copy(
                follower, [sentences[i] for i in chosen]
            ):
                chosen.append(after)
                used += len(follower.text)
    return _by_article(passages, [sentences[i] for i in sorted(chosen)])


def _by_article(passages: Sequence[Passage], kept: Sequence[_Sentence]) -> list[Passage]:
    """One passage per article: its kept sentences in text order, spanning them exactly."""
    groups: dict[str, list[_Sentence]] = {}
    for sentence in sorted(kept, key=lambda s: (s.passage, s.start)):
        groups.setdefault(passages[sentence.passage].article_id, []).append(sentence)
    compact: list[Passage] = []
    for group in groups.values():
        group.sort(key=lambda s: (passages[s.passage].chunk_index, s.start))
        first, last = passages[group[0].passage], passages[group[-1].passage]
        parts: list[str] = []
        for i, sentence in enumerate(group):
            if i:
                before = group[i - 1]
                next_to = (
                    before.passage == sentence.passage
                    and not passages[sentence.passage].text[before.end : sentence.start].strip()
                )
                parts.append(" " if next_to else GAP)
            parts.append(sentence.text)
        compact.append(
            replace(
                first,
                text="".join(parts),
                char_start=first.char_start + group[0].start,
                char_end=last.char_start + group[-1].end,
                rank=min(passages[s.passage].rank or s.passage + 1 for s in group),
                score=max(passages[s.passage].score for s in group),
            )
        )
    return sorted(compact, key=lambda p: p.rank)
