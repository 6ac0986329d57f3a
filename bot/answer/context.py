"""The compact context: from the retrieved chunks, the paragraphs that bear on the question.

The local model reads the prompt at a fixed cost a token on two cores, so every passage token
shown costs time before the first word. `compact_passages` splits the retrieved chunks into
sentences, scores each by the question's content words it holds (weighted by how rare each
word is among the candidate sentences, so "Pakistan" counts more than "said") plus a small
share of its chunk's retrieval rank, and takes the best first, each with the rest of its
paragraph: a news paragraph is one unit of meaning, and the answer is often the sentence that
does not repeat the question's words ("They settled on three areas. The first is migration
control..."). A paragraph too long to be one unit (a page with no breaks) brings only the
sentence that follows. The best article's lead sentence comes first when its first chunk was
retrieved (at any rank): a news lead says who did what, often in other words than the
question's. Copies are dropped (syndicated articles repeat sentences, and neighbouring chunks
overlap). Each article's kept sentences become one passage, in text order, with its exact span
in the article, so citations point at the very sentences the model read.
The budget, the paragraph size and the leads were compared on realtimeqa-2022-mini and
realtimeqa-2024-h1 by the share of questions whose answer text the context keeps, without the
model (`benchmarks/context.py`; BENCHMARKS.md, "What the model reads").
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

from bot.answer.grounding.words import content_words
from vectorstore.records import Passage
from vectorstore.sentences import sentence_spans

CHARS_PER_TOKEN: Final = 4  # English news prose in the model's tokenizer, near enough for a budget
GAP: Final = " … "  # between sentences of one article that are not next to each other
RANK_SHARE: Final = 0.5  # the chunk's rank prior, against a sentence's word score
DUPLICATE_OVERLAP: Final = 0.8  # content-word overlap at which two sentences are one
PARAGRAPH_TOKENS: Final = 150  # a longer paragraph is no unit: its sentence brings one follower
LEADS: Final = 1  # the first sentence of the best articles (when their first chunk was found)


@dataclass(frozen=True)
class _Sentence:
    passage: int  # index into the retrieved passages
    start: int  # offsets in the passage's text
    end: int
    text: str
    words: frozenset[str]
    paragraph: int  # the paragraph of the passage it is in (counted by line breaks)


def _sentences(passages: Sequence[Passage]) -> list[_Sentence]:
    found: list[_Sentence] = []
    for n, passage in enumerate(passages):
        for start, end in sentence_spans(passage.text):
            text = " ".join(passage.text[start:end].split())
            paragraph = passage.text.count("\n", 0, start)
            found.append(_Sentence(n, start, end, text, frozenset(content_words(text)), paragraph))
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
    passages: Sequence[Passage],
    question: str,
    budget_tokens: int,
    paragraph_tokens: int = PARAGRAPH_TOKENS,
    leads: int = LEADS,
) -> list[Passage]:
    """The best paragraphs of `passages` (in rank order) within `budget_tokens`, one passage
    per article in the order of its best chunk (see the module docstring)."""
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

    paragraphs: dict[tuple[int, int], list[int]] = {}
    for index, sentence in enumerate(sentences):
        paragraphs.setdefault((sentence.passage, sentence.paragraph), []).append(index)
    budget = budget_tokens * CHARS_PER_TOKEN
    chosen: list[int] = []
    used = 0
    by_rank = sorted(range(len(passages)), key=lambda n: passages[n].rank or n + 1)
    best_articles = list(dict.fromkeys(passages[n].article_id for n in by_rank))[:leads]
    for index, sentence in enumerate(sentences):  # the lead says who did what, where
        passage = passages[sentence.passage]
        lead = passage.chunk_index == 0 and sentence.start == 0
        if lead and passage.article_id in best_articles:
            chosen.append(index)
            used += len(sentence.text)
    ranked = sorted(range(total), key=lambda i: -score(sentences[i]))
    for index in ranked:  # the best first
        if index in chosen:
            continue
        unit = paragraphs[sentences[index].passage, sentences[index].paragraph]
        if sum(len(sentences[i].text) for i in unit) > paragraph_tokens * CHARS_PER_TOKEN:
            unit = [i for i in (index, index + 1) if i in unit]
        kept = [sentences[i] for i in chosen]
        new = [i for i in unit if i not in chosen and not _is_copy(sentences[i], kept)]
        cost = sum(len(sentences[i].text) for i in new)
        if used + cost > budget:  # no room for the unit: the sentence alone (the best always)
            alone = len(sentences[index].text)
            fits = used + alone <= budget or index == ranked[0]
            new = [index] if index in new and fits else []
            cost = alone if new else 0
        chosen += new
        used += cost
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
