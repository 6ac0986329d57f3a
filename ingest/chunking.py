"""Token-aware chunking with exact character offsets.

The text is cut into small spans first: sentences (a paragraph's end is remembered as a preferred
cut), and token windows for runs of text with no sentence end that are longer than a chunk. Spans
are packed greedily into chunks of at most `chunk_tokens` tokens, cutting at the last paragraph end
when one lies in the second half of the chunk; the next chunk starts with the trailing spans of the
previous one that fit in `overlap` tokens. Every chunk is an exact slice: `text[char_start:char_end]
== chunk.text`.
"""

from __future__ import annotations

from dataclasses import dataclass

import tiktoken

from vectorstore.records import ChunkText
from vectorstore.sentences import sentence_spans

# The chunk size and overlap when the caller gives none: the defaults of Settings.chunk_tokens
# and chunk_overlap (tests/test_ingest_pipeline.py checks they agree), which say why 200.
CHUNK_TOKENS = 200
CHUNK_OVERLAP = 30


@dataclass(frozen=True)
class _Span:
    start: int
    end: int  # includes the whitespace that follows, up to the next span's start
    tokens: int
    paragraph_end: bool


def _windows(
    text: str, start: int, end: int, size: int, encoding: tiktoken.Encoding
) -> list[_Span]:
    """Token windows of at most `size` tokens over text[start:end], at character boundaries."""
    tokens = encoding.encode_ordinary(text[start:end])
    _, offsets = encoding.decode_with_offsets(tokens)
    spans: list[_Span] = []
    first = 0
    while first < len(tokens):
        last = min(first + size, len(tokens))
        a = start + offsets[first]
        b = end if last == len(tokens) else start + offsets[last]
        if b > a:
            spans.append(_Span(a, b, last - first, paragraph_end=False))
        first = last
    return spans


def _spans(text: str, encoding: tiktoken.Encoding, chunk_tokens: int, overlap: int) -> list[_Span]:
    """The sentences (`vectorstore.sentences`, a line break ends one), each with the whitespace
    after it so they cover the text exactly; windows of `_windows` for one longer than a chunk."""
    spans: list[_Span] = []
    window = max(1, min(overlap, chunk_tokens // 2) or chunk_tokens // 4)
    sentences = sentence_spans(text, lines=True)
    starts = [0, *(start for start, _ in sentences[1:])]
    ends = [*starts[1:], len(text)]
    for (_, end), start, following in zip(sentences, starts, ends, strict=False):
        n = len(encoding.encode_ordinary(text[start:following]))
        paragraph_end = "\n" in text[end:following] or following == len(text)
        if n <= chunk_tokens:
            spans.append(_Span(start, following, n, paragraph_end))
            continue
        pieces = _windows(text, start, following, window, encoding)
        spans.extend(pieces[:-1])
        tail = pieces[-1]
        spans.append(_Span(tail.start, tail.end, tail.tokens, paragraph_end))
    return spans


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def chunk_text(
    text: str,
    encoding: tiktoken.Encoding,
    chunk_tokens: int = CHUNK_TOKENS,
    overlap: int = CHUNK_OVERLAP,
) -> list[ChunkText]:
    """Cut `text` into chunks of at most `chunk_tokens` tokens, `overlap` tokens shared.

    Args:
        text: the article text (chunk offsets point into it).
        encoding: a tiktoken encoding (see `ingest.tokens.load_encoding`).
        chunk_tokens: most tokens in a chunk.
        overlap: most tokens a chunk repeats from the end of the previous one (whole sentences).

    Raises:
        ValueError: `chunk_tokens` < 1 or `overlap` not smaller than `chunk_tokens`.
    """
    if chunk_tokens < 1 or not 0 <= overlap < chunk_tokens:
        raise ValueError(f"need 0 <= overlap ({overlap}) < chunk_tokens ({chunk_tokens})")
    spans = _spans(text, encoding, chunk_tokens, overlap)
    chunks: list[ChunkText] = []
    first = 0
    while first < len(spans):
        last, total = first, 0  # chunk is spans[first:last]
        while last < len(spans) and total + spans[last].tokens <= chunk_tokens:
            total += spans[last].tokens
            last += 1
        last = max(last, first + 1)
        if last < len(spans):  # prefer to end at a paragraph in the chunk's second half
            half, running = total // 2, 0
            best = None
            for i in range(first, last):
                running += spans[i].tokens
                if spans[i].paragraph_end and running >= half:
                    best = i + 1
            last = best or last
        start, end = _strip(text, spans[first].start, spans[last - 1].end)
        n_tokens = len(encoding.encode_ordinary(text[start:end]))
        while n_tokens > chunk_tokens and last - first > 1:  # token merges across spans
            last -= 1
            start, end = _strip(text, spans[first].start, spans[last - 1].end)
            n_tokens = len(encoding.encode_ordinary(text[start:end]))
        if end > start:
            chunks.append(ChunkText(len(chunks), text[start:end], start, end, n_tokens))
        if last >= len(spans):
            break
        following, shared = last, 0
        while following - 1 > first and shared + spans[following - 1].tokens <= overlap:
            following -= 1
            shared += spans[following].tokens
        first = following
    return chunks
