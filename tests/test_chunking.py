"""Chunking invariants over real articles, and the offline tiktoken setup."""

from __future__ import annotations

import gzip
import itertools
import json
import os
import random
from pathlib import Path

import pytest
import tiktoken
import tiktoken.load
import tiktoken.registry

from ingest.chunking import chunk_text
from ingest.cleaning import clean_text
from ingest.tokens import load_encoding, prepare_cache
from tests.conftest import EXAMPLES_DIR, MINI_DIR, SEED_DIR
from vectorstore.records import ChunkText


@pytest.fixture(scope="module")
def encoding(tmp_path_factory: pytest.TempPathFactory) -> tiktoken.Encoding:
    return load_encoding(tmp_path_factory.mktemp("tiktoken"))


@pytest.fixture(scope="module")
def real_texts() -> list[str]:
    """The seed article, the samples, and a spread of the mini corpus (short, long, noisy)."""
    texts = [clean_text(p.read_text(encoding="utf-8")) for p in sorted(SEED_DIR.glob("*.txt"))]
    texts += [clean_text(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES_DIR.glob("*.md"))]
    with gzip.open(MINI_DIR / "corpus.jsonl.gz", "rt", encoding="utf-8") as handle:
        corpus = [clean_text(json.loads(line)["text"]) for line in handle]
    corpus.sort(key=len)
    picks = corpus[:5] + corpus[-3:] + random.Random(7).sample(corpus[5:-3], 40)
    return texts + picks


def check_invariants(
    text: str, chunks: list[ChunkText], size: int, encoding: tiktoken.Encoding
) -> None:
    assert chunks, "a non-empty text has at least one chunk"
    assert [c.index for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert text[chunk.char_start : chunk.char_end] == chunk.text  # answers quote exact text
        assert chunk.text == chunk.text.strip()
        assert chunk.tokens == len(encoding.encode_ordinary(chunk.text))
        assert 0 < chunk.tokens <= size
    for before, after in itertools.pairwise(chunks):
        assert before.char_start < after.char_start  # progress
        assert after.char_start <= before.char_end + 2  # no gap beyond the whitespace between them
    # Every non-space character of the text is in some chunk.
    covered = [False] * len(text)
    for chunk in chunks:
        covered[chunk.char_start : chunk.char_end] = [True] * (chunk.char_end - chunk.char_start)
    assert all(c or text[i].isspace() for i, c in enumerate(covered))


@pytest.mark.parametrize(("size", "overlap"), [(300, 45), (128, 20), (64, 0), (500, 75)])
def test_invariants_on_real_articles(
    real_texts: list[str], encoding: tiktoken.Encoding, size: int, overlap: int
) -> None:
    for text in real_texts:
        check_invariants(text, chunk_text(text, encoding, size, overlap), size, encoding)


def test_short_article_is_one_chunk(encoding: tiktoken.Encoding) -> None:
    [chunk] = chunk_text("  One short article.\n\nTwo lines.  ", encoding)
    assert chunk.text == "One short article.\n\nTwo lines."
    assert (chunk.char_start, chunk.char_end) == (2, 32)


def test_chunks_prefer_paragraph_ends(encoding: tiktoken.Encoding) -> None:
    paragraph = " ".join(f"Sentence number {i} of the paragraph says something." for i in range(8))
    text = "\n\n".join(f"P{p}. {paragraph}" for p in range(6))
    chunks = chunk_text(text, encoding, 300, 45)
    assert len(chunks) > 1
    for chunk in chunks[:-1]:
        assert text[chunk.char_end :].startswith("\n\n")  # cut at a paragraph end


def test_overlap_repeats_whole_sentences(encoding: tiktoken.Encoding) -> None:
    text = " ".join(f"Fact {i} is stated here in a sentence." for i in range(200))
    chunks = chunk_text(text, encoding, 100, 30)
    for before, after in itertools.pairwise(chunks):
        shared = before.char_end - after.char_start
        assert shared > 0
        assert after.text.startswith("Fact ")
        assert len(encoding.encode_ordinary(text[after.char_start : before.char_end])) <= 30
    without = chunk_text(text, encoding, 100, 0)
    for before, after in itertools.pairwise(without):
        assert after.char_start >= before.char_end


def test_unbroken_text_falls_back_to_token_windows(encoding: tiktoken.Encoding) -> None:
    text = "x" * 20 + "".join(f"word{i}é" for i in range(3000))  # no sentence or paragraph end
    chunks = chunk_text(text, encoding, 200, 30)
    assert len(chunks) > 5
    check_invariants(text, chunks, 200, encoding)
    cjk = "東京の天気は晴れです" * 400  # multi-byte characters, no spaces
    check_invariants(cjk, chunk_text(cjk, encoding, 100, 10), 100, encoding)


def test_special_token_text_is_plain_text(encoding: tiktoken.Encoding) -> None:
    [chunk] = chunk_text("The string <|endoftext|> appears in this article.", encoding)
    assert "<|endoftext|>" in chunk.text


def test_bad_sizes(encoding: tiktoken.Encoding) -> None:
    with pytest.raises(ValueError, match="overlap"):
        chunk_text("text", encoding, 100, 100)
    assert chunk_text("", encoding) == []


def test_tiktoken_works_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(blobpath: str) -> bytes:
        raise AssertionError(f"tried to fetch {blobpath}")

    monkeypatch.setattr(tiktoken.load, "read_file", no_network)
    monkeypatch.delitem(tiktoken.registry.ENCODINGS, "cl100k_base", raising=False)
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    cache = tmp_path / "tiktoken"
    encoding = load_encoding(cache)
    assert encoding.decode(encoding.encode("Pakistan and the US")) == "Pakistan and the US"
    assert len(encoding.encode("hello world")) == 2
    assert (cache / "9b5ad71b2ce5302211f9c61530b329a4922fc6a4").is_file()
    assert "TIKTOKEN_CACHE_DIR" not in os.environ  # restored


def test_prepare_cache_repairs_a_corrupt_file(tmp_path: Path) -> None:
    target = prepare_cache(tmp_path)
    good = target.read_bytes()
    target.write_bytes(b"corrupt")
    assert prepare_cache(tmp_path).read_bytes() == good


def test_one_set_of_chunking_defaults() -> None:
    from ingest.chunking import CHUNK_OVERLAP, CHUNK_TOKENS
    from newsbot.settings import RetrievalSettings

    fields = RetrievalSettings.model_fields
    assert (fields["chunk_tokens"].default, fields["chunk_overlap"].default) == (
        CHUNK_TOKENS,
        CHUNK_OVERLAP,
    )
