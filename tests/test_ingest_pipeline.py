"""The ingest pipeline end to end: real Chroma on tmp_path, the real ONNX embedder, real articles.

The embedder is wrapped only to count (and, for the crash test, to fail) calls; every vector is
real.
"""

from __future__ import annotations

import gzip
import inspect
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from langchain_core.embeddings import Embeddings

from ingest.article import Article
from ingest.chunking import chunk_text
from ingest.pipeline import IngestReport, ingest
from ingest.sources import expand_sources, read_sources
from ingest.tokens import load_encoding
from newsbot.cli import cli
from tests.conftest import MINI_DIR, SEED_DIR
from tests.fixtures_store import open_news_store
from vectorstore.embeddings import LocalMiniLMEmbeddings
from vectorstore.retention import Pins
from vectorstore.store import NewsStore


class CountingEmbeddings(Embeddings):
    """The real embedder, counting the texts it embeds; raises on call `fail_on_call` if set."""

    def __init__(self, inner: LocalMiniLMEmbeddings, fail_on_call: int | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.calls = 0
        self.texts = 0
        self.sizes: list[int] = []  # texts per call, to check that batches stay bounded
        self.fail_on_call = fail_on_call

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise KeyboardInterrupt("simulated crash in the middle of an ingest")
        self.texts += len(texts)
        self.sizes.append(len(texts))
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


@pytest.fixture(scope="module")
def real_embedder() -> LocalMiniLMEmbeddings:
    embedder = LocalMiniLMEmbeddings(batch_size=32)
    embedder.load()
    return embedder


@pytest.fixture(scope="module")
def mini_slice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20 real articles of the mini corpus (those under 4,000 characters, in corpus order)."""
    out = tmp_path_factory.mktemp("slice") / "slice.jsonl.gz"
    kept = []
    with gzip.open(MINI_DIR / "corpus.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            if len(json.loads(line)["text"]) < 4000:
                kept.append(line)
            if len(kept) == 20:
                break
    out.write_bytes(gzip.compress("".join(kept).encode("utf-8")))
    return out


def open_store(data_dir: Path, embeddings: Embeddings) -> NewsStore:
    return open_news_store(data_dir, embeddings)


def run(sources: list[Any], store: NewsStore, data_dir: Path, **options: Any) -> IngestReport:
    return ingest(
        [str(s) for s in sources], store, tiktoken_cache_dir=data_dir / "tiktoken", **options
    )


def expected_chunks(sources: list[Path], data_dir: Path) -> dict[str, int]:
    """Chunk counts per article, computed independently of the store (with ingest's defaults)."""
    defaults = inspect.signature(ingest).parameters
    size, overlap = defaults["chunk_tokens"].default, defaults["overlap"].default
    encoding = load_encoding(data_dir / "tiktoken")
    expanded, _ = expand_sources([str(s) for s in sources])
    counts = {}
    for item in read_sources(expanded, max_bytes=10**8, http_timeout=1):
        if isinstance(item, Article):
            counts[item.article_id] = len(chunk_text(item.text, encoding, size, overlap))
    return counts


def stored_chunks(store: NewsStore, article_id: str | None = None) -> dict[str, dict[str, Any]]:
    collection = store.client.get_collection("news")
    where: Any = {"article_id": article_id} if article_id else None
    got = collection.get(where=where, include=["metadatas", "documents"])
    metas = got["metadatas"] or []
    docs = got["documents"] or []
    return {
        cid: {**meta, "text": doc} for cid, meta, doc in zip(got["ids"], metas, docs, strict=True)
    }


def all_articles(sources: list[Path]) -> Iterator[Article]:
    expanded, _ = expand_sources([str(s) for s in sources])
    for item in read_sources(expanded, max_bytes=10**8, http_timeout=1):
        if isinstance(item, Article):
            yield item


def test_seed_and_mini_slice_then_reingest_is_a_noop(
    tmp_path: Path, real_embedder: LocalMiniLMEmbeddings, mini_slice: Path
) -> None:
    data_dir = tmp_path / "data"
    sources = [SEED_DIR, mini_slice]
    embeddings = CountingEmbeddings(real_embedder)
    store = open_store(data_dir, embeddings)
    ticks: list[tuple[int, int, int]] = []
    report = run(sources, store, data_dir, progress=lambda *t: ticks.append(t))

    expected = expected_chunks(sources, data_dir)
    assert len(expected) == 21
    assert (report.new, report.updated, report.unchanged, report.failed) == (21, 0, 0, 0)
    assert report.chunks == sum(expected.values()) == embeddings.texts
    assert report.tokens > report.chunks * 20
    assert store.stats()["articles"] == 21
    assert store.stats()["chunks"] == report.chunks
    assert ticks == sorted(ticks)
    assert ticks[-1] == (21, report.chunks, report.tokens)

    # Each stored chunk is an exact slice of its article and carries the article's metadata.
    texts = {a.article_id: a for a in all_articles(sources)}
    chunks = stored_chunks(store)
    assert len(chunks) == report.chunks
    for cid, chunk in chunks.items():
        article = texts[chunk["article_id"]]
        assert cid == f"{article.article_id}:{chunk['chunk_index']}"
        assert article.text[chunk["char_start"] : chunk["char_end"]] == chunk["text"]
        assert chunk["title"] == article.title
        assert chunk["published"] == (article.published or "")

    [best, *_] = store.search("What did Pakistan and the US agree on about fake visas?", 3)
    assert "Naqvi" in best.text

    # A second run embeds nothing and reports everything unchanged.
    again = run(sources, store, data_dir)
    assert (again.new, again.updated, again.unchanged, again.chunks) == (0, 0, 21, 0)
    assert embeddings.texts == report.chunks  # not one more text embedded
    assert store.stats()["chunks"] == report.chunks


def test_edited_article_replaces_its_chunks_and_delete_works(
    tmp_path: Path, real_embedder: LocalMiniLMEmbeddings
) -> None:
    data_dir = tmp_path / "data"
    store = open_store(data_dir, CountingEmbeddings(real_embedder))
    [seed] = sorted(SEED_DIR.glob("*.txt"))
    paragraphs = seed.read_text(encoding="utf-8").split("\n")
    long_text = "\n\n".join(paragraphs * 3)  # three times the seed: several chunks
    feed = tmp_path / "desk.jsonl"
    record = {"id": "desk-1", "title": "Migration talks", "url": "https://desk.example/a1"}
    feed.write_text(json.dumps({**record, "text": long_text}) + "\n", encoding="utf-8")

    first = run([feed], store, data_dir)
    assert first.new == 1
    assert first.chunks >= 3
    assert len(stored_chunks(store, "desk-1")) == first.chunks

    feed.write_text(json.dumps({**record, "text": paragraphs[0]}) + "\n", encoding="utf-8")
    edited = run([feed], store, data_dir)
    assert (edited.new, edited.updated, edited.unchanged) == (0, 1, 0)
    assert edited.chunks == 1
    remaining = stored_chunks(store, "desk-1")
    assert list(remaining) == ["desk-1:0"]  # the old tail is gone: no orphans
    assert remaining["desk-1:0"]["text"] == paragraphs[0]
    assert store.stats()["chunks"] == 1

    assert store.delete_article("desk-1")
    assert stored_chunks(store) == {}
    assert store.stats()["articles"] == 0
    again = run([feed], store, data_dir)
    assert again.new == 1
    assert store.delete_url("https://desk.example/a1/") == ["desk-1"]
    assert store.stats()["chunks"] == 0


def test_an_edited_file_without_id_or_url_replaces_its_article(
    tmp_path: Path, real_embedder: LocalMiniLMEmbeddings
) -> None:
    """A note file names no id and no url: it is known by its path, so editing it replaces the
    article instead of adding a second one beside the old text."""
    data_dir = tmp_path / "data"
    store = open_store(data_dir, real_embedder)
    note = tmp_path / "lighthouse.md"
    body = "Forty volunteers relit the old Marrow Point lighthouse on Saturday."
    note.write_text(f"# Lighthouse relit\n\n{body}\n", encoding="utf-8")
    assert run([note], store, data_dir).new == 1
    assert run([note], store, data_dir).unchanged == 1

    note.write_text(f"# Lighthouse relit\n\n{body.replace('Forty', 'Fifty-two')}\n", "utf-8")
    edited = run([note], store, data_dir)
    assert (edited.new, edited.updated, edited.unchanged) == (0, 1, 0)
    texts = [chunk["text"] for chunk in stored_chunks(store).values()]
    assert len(texts) == 1
    assert texts[0].startswith("Fifty-two volunteers")
    assert store.stats()["articles"] == 1

    # Uploads (the Library) live at temporary paths: they stay known by their content.
    copy = tmp_path / "upload-2" / "lighthouse.md"
    copy.parent.mkdir()
    copy.write_bytes(note.read_bytes())
    assert run([copy], store, data_dir, key_by_file=False).new == 1
    assert run([note, copy], store, data_dir, key_by_file=False).unchanged == 1

    # Front matter given a url later: the file's article is now known by it, still once.
    note.write_text(
        f"---\nurl: https://example.org/lighthouse\n---\n# Lighthouse relit\n\n{body}\n", "utf-8"
    )
    with_url = run([note], store, data_dir)
    assert (with_url.new, with_url.updated, with_url.unchanged) == (0, 1, 0)
    assert store.stats()["articles"] == 2  # and the upload
    assert run([note], store, data_dir).unchanged == 1


def test_a_file_keeps_one_article_whatever_id_url_or_name_it_takes(
    tmp_path: Path, real_embedder: LocalMiniLMEmbeddings
) -> None:
    """Found by a review: a front-matter `url:` or `id:` dropped again, or a renamed file,
    left the earlier version stored beside the new one. The store now remembers which file
    each article came from and retires the file's earlier version."""
    data_dir = tmp_path / "data"
    store = open_store(data_dir, real_embedder)
    note = tmp_path / "ferry.md"
    body = "# Ferry back\n\nThe Merrow ferry sailed again on Monday after a month of repairs.\n"

    def stored() -> set[str]:
        return {chunk["article_id"] for chunk in stored_chunks(store).values()}

    for front in ("url: https://example.org/ferry", "", "id: ferry-2026", ""):
        note.write_text(f"---\n{front}\n---\n{body}" if front else body, "utf-8")
        report = run([note], store, data_dir)
        assert report.failed == 0
        assert len(stored()) == 1, front
        assert store.stats()["articles"] == 1, front
    assert run([note], store, data_dir).unchanged == 1

    pins = Pins(store.registry.database, store.registry.collection)
    pins.pin(next(iter(stored())))
    moved = tmp_path / "boats" / "ferry-back.md"
    moved.parent.mkdir()
    note.rename(moved)
    renamed = run([moved], store, data_dir)
    assert (renamed.new, renamed.updated) == (0, 1)
    assert store.stats()["articles"] == 1
    assert pins.pinned() == stored()  # found by a review: a pin stayed on the old id
    assert run([moved], store, data_dir).unchanged == 1

    # A copy beside the file is a second file, and two files that name one url share it:
    # neither retires the other's article.
    copy = tmp_path / "ferry-copy.md"
    copy.write_bytes(moved.read_bytes())
    assert run([copy], store, data_dir).new == 1
    assert store.stats()["articles"] == 2
    for path in (moved, copy):
        path.write_text(f"---\nurl: https://example.org/ferry\n---\n{body}", "utf-8")
    run([moved, copy], store, data_dir)
    copy.write_text(body, "utf-8")  # the copy drops the url: the other file still names it
    run([copy], store, data_dir)
    assert store.stats()["articles"] == 2
    assert run([moved, copy], store, data_dir).unchanged == 2


def test_a_file_retires_only_the_version_it_wrote_itself(
    tmp_path: Path, real_embedder: LocalMiniLMEmbeddings
) -> None:
    """Found by a review of the rule above: a file that dropped its `url:` deleted the article
    a dump (or a feed) had stored under that url since, and a file saved over with another
    page deleted the first page's article."""
    data_dir = tmp_path / "data"
    store = open_store(data_dir, real_embedder)
    note = tmp_path / "ferry.md"
    body = "# Ferry back\n\nThe Merrow ferry sailed again on Monday after a month of repairs.\n"
    note.write_text(f"---\nurl: https://example.org/ferry\n---\n{body}", "utf-8")
    assert run([note], store, data_dir).new == 1
    dump = tmp_path / "dump.jsonl"
    record = {"url": "https://example.org/ferry", "title": "Ferry back", "text": "The wire's " * 9}
    dump.write_text(json.dumps(record) + "\n", "utf-8")
    assert run([dump], store, data_dir).updated == 1  # the dump's version of the story now
    note.write_text(body, "utf-8")
    assert run([note], store, data_dir).new == 1
    assert store.stats()["articles"] == 2  # the dump's story stays
    assert run([note, dump], store, data_dir).unchanged == 2

    page = tmp_path / "page.md"  # one file name, saved over with another story
    page.write_text(f"---\nurl: https://example.org/bridge\n---\n# Bridge shut\n\n{'Shut. ' * 9}\n")
    run([page], store, data_dir)
    page.write_text(f"---\nurl: https://example.org/quay\n---\n# Quay opens\n\n{'Open. ' * 9}\n")
    run([page], store, data_dir)
    assert store.stats()["articles"] == 4

    renamed = tmp_path / "ferry-2.md"  # renamed there and back again: one article throughout
    for source, target in ((note, renamed), (renamed, note)):
        source.rename(target)
        assert run([target], store, data_dir).updated == 1
        assert store.stats()["articles"] == 4


def test_one_page_keeps_one_article_across_the_ids_its_file_names(
    tmp_path: Path, real_embedder: LocalMiniLMEmbeddings
) -> None:
    """Found by a second review: an `id:` added beside a `url:` (or dropped), or http turned
    into https, kept both versions; so did two files that both dropped one url, and a file
    renamed over one that had been deleted."""
    data_dir = tmp_path / "data"
    store = open_store(data_dir, real_embedder)
    note = tmp_path / "ferry.md"
    body = "# Ferry back\n\nThe Merrow ferry sailed again on Monday after a month of repairs.\n"
    for front in (
        "url: http://example.org/ferry",
        "url: https://example.org/ferry",
        "url: https://example.org/ferry\nid: ferry-1",
        "url: https://example.org/ferry",
    ):
        note.write_text(f"---\n{front}\n---\n{body}", "utf-8")
        run([note], store, data_dir)
        assert store.stats()["articles"] == 1, front

    other = tmp_path / "ferry-b.md"  # both name the url, then both drop it
    other.write_text(note.read_text("utf-8"), "utf-8")
    run([note, other], store, data_dir)
    note.write_text(body, "utf-8")
    other.write_text(body.replace("Monday", "Tuesday"), "utf-8")
    run([note, other], store, data_dir)
    assert store.stats()["articles"] == 2
    assert not store.registry.find_by_url("https://example.org/ferry")

    other.unlink()  # deleted from the folder (its article stays), then the note takes its name
    note.rename(other)
    assert run([other], store, data_dir).updated == 1
    assert store.stats()["articles"] == 1


def test_a_file_stored_by_its_content_before_is_taken_over_not_doubled(
    tmp_path: Path, real_embedder: LocalMiniLMEmbeddings
) -> None:
    """Stores made before files were known by path hold such articles under a content id: the
    next ingest of the file replaces that article instead of adding the file's beside it."""
    data_dir = tmp_path / "data"
    store = open_store(data_dir, real_embedder)
    note = tmp_path / "harbour.txt"
    note.write_text("Harbour budget\n\nThe council approved two new piers.\n", "utf-8")
    before = run([note], store, data_dir, key_by_file=False)  # as older versions stored it
    assert before.new == 1
    [old_id] = {chunk["article_id"] for chunk in stored_chunks(store).values()}

    taken_over = run([note], store, data_dir)
    assert (taken_over.new, taken_over.updated) == (0, 1)
    ids = {chunk["article_id"] for chunk in stored_chunks(store).values()}
    assert len(ids) == 1
    assert ids != {old_id}
    assert store.stats()["articles"] == 1
    assert run([note], store, data_dir).unchanged == 1


def test_a_crash_mid_batch_is_completed_by_the_next_run(
    tmp_path: Path, real_embedder: LocalMiniLMEmbeddings, mini_slice: Path
) -> None:
    data_dir = tmp_path / "data"
    small = tmp_path / "twelve.jsonl"
    with gzip.open(mini_slice, "rt", encoding="utf-8") as handle:
        small.write_text("".join(handle.readlines()[:12]), encoding="utf-8")
    expected = expected_chunks([small], data_dir)

    crashing = CountingEmbeddings(real_embedder, fail_on_call=3)
    store = open_store(data_dir, crashing)
    with pytest.raises(KeyboardInterrupt):
        run([small], store, data_dir, batch_chunks=4)
    assert 0 < store.stats()["chunks"] < sum(expected.values())
    assert store.stats()["pending"] >= 1

    store = open_store(data_dir, CountingEmbeddings(real_embedder))
    report = run([small], store, data_dir, batch_chunks=4)
    assert report.new + report.unchanged == 12
    assert report.unchanged >= 1  # the groups written before the crash are not redone
    chunks = stored_chunks(store)
    assert len(chunks) == sum(expected.values())  # exactly: no duplicates, nothing missing
    assert {cid.rsplit(":", 1)[0] for cid in chunks} == set(expected)
    assert store.stats()["pending"] == 0
    assert store.stats()["articles"] == 12


def test_duplicates_in_one_run_and_bad_inputs_beside_good_ones(
    tmp_path: Path, real_embedder: LocalMiniLMEmbeddings
) -> None:
    data_dir = tmp_path / "data"
    store = open_store(data_dir, CountingEmbeddings(real_embedder))
    folder = tmp_path / "inbox"
    folder.mkdir()
    lines = [
        {"id": "dup", "title": "First version", "text": "The first version of the story."},
        {"id": "other", "title": "Other", "text": "Another story entirely."},
        {"id": "dup", "title": "Second version", "text": "The corrected second version."},
    ]
    (folder / "a.jsonl").write_text(
        "\n".join(json.dumps(x) for x in lines) + '\n{"id": "cut", "text": "trunc', encoding="utf-8"
    )
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.html").write_bytes(b"\x00\x01\x02")
    report = run([folder], store, data_dir)

    assert (report.new, report.unchanged) == (2, 0)
    assert report.chunks == 2
    assert sorted(Path(p.origin.split(":")[0]).name for p in report.failures) == [
        "a.jsonl",
        "binary.html",
        "empty.txt",
    ]
    assert any(p.origin.endswith("a.jsonl:4") for p in report.failures)
    [repeat] = [w for w in report.warnings if "comes again" in w.reason]
    assert repeat.origin.endswith("a.jsonl:1")
    assert repeat.reason.endswith("a.jsonl:3; that later one is stored")
    [chunk] = stored_chunks(store, "dup").values()
    assert chunk["text"] == "The corrected second version."  # the last one wins
    assert report.to_dict()["failed"] == 3


def test_a_correction_far_down_a_dump_is_stored_once_and_a_rerun_finds_it_unchanged(
    tmp_path: Path, real_embedder: LocalMiniLMEmbeddings
) -> None:
    """The same id on line 1 and on line 72, beyond the first batch of articles checked against
    the store: the run counted it unchanged and then wrote it, and every re-run wrote both
    versions again. Only the last version is read now, in JSON Lines and in a JSON list."""
    data_dir = tmp_path / "data"
    store = open_store(data_dir, real_embedder)
    records = [{"id": f"story-{n}", "text": f"Story number {n} of the dump."} for n in range(70)]
    records[0] = {"id": "dup", "text": "The first version."}
    records.append({"id": "dup", "text": "The corrected version."})
    dump = tmp_path / "dump.jsonl"
    dump.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    listed = tmp_path / "dump.json"
    listed.write_text(json.dumps([{**r, "id": f"l-{r['id']}"} for r in records]), "utf-8")

    first = run([dump, listed], store, data_dir, batch_articles=16)
    assert (first.new, first.updated, first.unchanged) == (140, 0, 0)
    assert sorted(w.origin.rsplit("/", 1)[1] for w in first.warnings) == [
        "dump.json[0]",
        "dump.jsonl:1",
    ]
    for article_id in ("dup", "l-dup"):
        [chunk] = stored_chunks(store, article_id).values()
        assert chunk["text"] == "The corrected version."
    again = run([dump, listed], store, data_dir, batch_articles=16)
    assert (again.new, again.updated, again.unchanged, again.chunks) == (0, 0, 140, 0)

    # Across two files the last one read wins, and is counted as what it did to the store.
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"id": "dup", "text": "A third version."}), encoding="utf-8")
    both = run([dump, other], store, data_dir, batch_articles=16)
    assert (both.new, both.updated, both.unchanged) == (0, 1, 69)
    [chunk] = stored_chunks(store, "dup").values()
    assert chunk["text"] == "A third version."


def test_an_oversized_article_is_refused_and_embedding_batches_stay_bounded(
    tmp_path: Path, real_embedder: LocalMiniLMEmbeddings, mini_slice: Path
) -> None:
    """Issue 12: a 50 MB one-line file ran for half an hour at 3 GB. One article over the limit is
    refused with its size and the setting to raise; the others are embedded in bounded batches."""
    data_dir = tmp_path / "data"
    counting = CountingEmbeddings(real_embedder)
    store = open_store(data_dir, counting)
    huge = tmp_path / "one-line.txt"
    huge.write_text("Headline " + "word " * 400_000, encoding="utf-8")  # 2 MB, no line break
    started = time.perf_counter()
    report = run([huge, mini_slice], store, data_dir, batch_chunks=16)

    [failure] = report.failures
    assert failure.origin == str(huge)
    assert failure.reason == (
        "the article text is 2,000,009 characters, over the 300,000-character limit per "
        "article: split it, or raise NEWSBOT_MAX_ARTICLE_CHARS"
    )
    assert report.new == 20
    assert time.perf_counter() - started < 300  # its 2,667 chunks were never embedded
    assert counting.sizes
    assert max(counting.sizes) <= 16  # every article of the slice has fewer than 16 chunks
    assert sum(counting.sizes) == report.chunks
    assert store.registry.state_of([a.article_id for a in all_articles([huge])]) == {}


def test_the_article_limit_is_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    article = tmp_path / "long.md"
    article.write_text("# Long\n\n" + "A sentence of the long story. " * 100, encoding="utf-8")
    monkeypatch.setenv("NEWSBOT_MAX_ARTICLE_CHARS", "2000")
    result = CliRunner().invoke(cli, ["ingest", str(article)], catch_exceptions=False)
    assert result.exit_code == 2
    assert (
        f"failed {article}: the article text is 3,001 characters, over the 2,000-character limit"
    ) in result.stderr


def _feed(title: str, link: str, story: str) -> str:
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>'
        f'<item><guid isPermaLink="false">1</guid><title>{story}</title><link>{link}</link>'
        f"<description>{story}: the full report of the day, in a few words.</description>"
        "</item></channel></rss>"
    )


def test_two_feeds_that_number_their_entries_alike_keep_both_stories(
    tmp_path: Path, real_embedder: LocalMiniLMEmbeddings
) -> None:
    """Found by a review: a guid ("1") need only be unique within its feed; the second feed's
    entry overwrote the first feed's story, and re-ingesting the first swapped them back."""
    alpha = tmp_path / "alpha.xml"
    alpha.write_text(_feed("Alpha Gazette", "https://alpha.example/budget", "Budget"), "utf-8")
    beta = tmp_path / "beta.xml"
    beta.write_text(_feed("Beta Herald", "https://beta.example/cubs", "Tiger cubs"), "utf-8")
    data_dir = tmp_path / "data"
    store = open_store(data_dir, real_embedder)

    assert run([alpha], store, data_dir).new == 1
    report = run([beta], store, data_dir)
    assert (report.new, report.updated) == (1, 0)
    report = run([alpha, beta], store, data_dir)
    assert (report.new, report.updated, report.unchanged) == (0, 0, 2)
    assert sorted(row.title for row in store.list_articles()) == ["Budget", "Tiger cubs"]
    assert store.registry.get("1").url == "https://alpha.example/budget"  # the first keeps it

    # Both in one run, into an empty store: two stories as well.
    fresh = open_store(tmp_path / "fresh", real_embedder)
    assert run([beta, alpha], fresh, tmp_path / "fresh").new == 2
