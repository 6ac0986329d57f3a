"""The golden corpus on disk: where its files are, how a case's passages are stored and read back.

`cases.jsonl` holds one recorded case a line (see `record.py` for how they are made). A passage of
our own sample articles is stored whole; a passage of the shared news data (the RealTimeQA mini
corpus, the seed article) is stored as a reference only (`shared`, `article_id`, `chunk_index`,
`char_start`/`char_end` and the sha256 of its text), because the shared data must not be copied
into the project. `load_passages` reads those texts back from the shared folder at run time
(`NEWSBOT_SHARED_DIR`, default `../shared` beside the repo, as in `tests/conftest.py`) through the
product's own loaders, so the offsets point into exactly the text the ingest pipeline chunked.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from vectorstore.records import Passage

GOLDEN = Path(__file__).resolve().parent
REPO = GOLDEN.parents[1]
CASES = GOLDEN / "cases.jsonl"
META = GOLDEN / "meta.json"
FLOORS = GOLDEN / "floors.json"
HELDOUT_FOLLOWUPS = GOLDEN / "heldout_followups.jsonl"
# Read when this module is imported, like tests/conftest.py: the tests' autouse fixture clears
# NEWSBOT_* variables before each test runs.
SHARED = Path(os.environ.get("NEWSBOT_SHARED_DIR", REPO.parent / "shared"))
MINI_DIR = SHARED / "bench" / "realtimeqa-2022-mini"
SEED_DIR = SHARED / "corpus" / "seed"
# The shared inputs a passage reference may name, as the recorder ingested them.
SHARED_SOURCES = {"realtimeqa-2022-mini": MINI_DIR / "corpus.jsonl.gz", "seed": SEED_DIR}
_REF_FIELDS = ("title", "url", "text")
_ID_FIRST = re.compile(r'\{"id": "([^"\\]+)"')


def text_hash(text: str) -> str:
    """A short fingerprint of a passage's text, to notice shared data that changed."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def passage_record(passage: Passage, shared: str | None) -> dict[str, Any]:
    """A passage as the fixture stores it: whole, or (from shared data) as a reference."""
    record = {
        "chunk_id": passage.chunk_id,
        "article_id": passage.article_id,
        "chunk_index": passage.chunk_index,
        "char_start": passage.char_start,
        "char_end": passage.char_end,
        "source": passage.source,
        "published": passage.published,
        "score": round(passage.score, 4),
    }
    if shared is None:
        return {**record, "title": passage.title, "url": passage.url, "text": passage.text}
    return {**record, "shared": shared, "sha256": text_hash(passage.text)}


def load_cases(path: Path = CASES) -> list[dict[str, Any]]:
    """The recorded cases, one JSON object a line (the first of any id recorded twice)."""
    if not path.is_file():
        return []
    cases: dict[str, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            case = json.loads(line)
            cases.setdefault(case["id"], case)
    return list(cases.values())


def shared_refs(cases: Iterable[dict[str, Any]]) -> dict[str, set[str]]:
    """The article ids each shared input must provide for these cases."""
    needed: dict[str, set[str]] = {}
    for case in cases:
        for p in case["passages"]:
            if "shared" in p:
                needed.setdefault(p["shared"], set()).add(p["article_id"])
    return needed


def read_shared_articles(needed: dict[str, set[str]]) -> dict[str, Any]:
    """The shared articles (`ingest.article.Article`) by id, loaded by the product's loaders.

    Of the mini corpus only the needed lines are handed to the JSONL loader (through a temp file),
    which keeps the golden test fast.

    Raises:
        FileNotFoundError: a shared input is missing.
    """
    from ingest.article import Article
    from ingest.sources import expand_sources, read_sources

    articles: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        inputs = []
        for name, ids in sorted(needed.items()):
            source = SHARED_SOURCES[name]
            if not source.exists():
                raise FileNotFoundError(source)
            if source.name.endswith(".jsonl.gz"):
                part = Path(tmp) / f"{name}.jsonl"
                with gzip.open(source, "rt", encoding="utf-8") as lines:
                    part.write_text(
                        "".join(line for line in lines if _record_id(line) in ids),
                        encoding="utf-8",
                    )
                source = part
            inputs.append(str(source))
        if not inputs:
            return articles
        sources, _ = expand_sources(inputs)
        # Known by content, as recorded: an id from the file's path would differ per machine.
        items = read_sources(sources, max_bytes=200_000_000, http_timeout=1.0, key_by_file=False)
        for item in items:
            if isinstance(item, Article):
                articles[item.article_id] = item
    return articles


def _record_id(line: str) -> Any:
    """The `id` of a JSONL record; read off the line's start when it is there (no full parse)."""
    match = _ID_FIRST.match(line)
    return match.group(1) if match else json.loads(line).get("id")


def load_passages(records: Sequence[dict[str, Any]], articles: dict[str, Any]) -> list[Passage]:
    """A case's passages, with the text of shared ones read from `articles`.

    Raises:
        LookupError: a referenced article is missing, or its text no longer matches the recording.
    """
    passages = []
    for p in records:
        fields = {k: v for k, v in p.items() if k not in ("shared", "sha256")}
        if "shared" in p:
            article = articles.get(p["article_id"])
            if article is None:
                raise LookupError(f"article {p['article_id']} not found in shared {p['shared']}")
            text = article.text[p["char_start"] : p["char_end"]]
            if text_hash(text) != p["sha256"]:
                raise LookupError(f"chunk {p['chunk_id']} of shared {p['shared']} has changed")
            fields.update(title=article.title, url=article.url, text=text)
        missing = [name for name in _REF_FIELDS if name not in fields]
        if missing:
            raise LookupError(f"passage {p.get('chunk_id')} lacks {missing}")
        passages.append(Passage(**fields))
    return passages
