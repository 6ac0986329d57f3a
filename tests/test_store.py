"""NewsStore on a real embedded Chroma in tmp_path with the real ONNX embedder: writes, replacement,
crash recovery, deletes, date filtering, and the registry beside it."""

from __future__ import annotations

import gc
import socket
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from langchain_core.embeddings import Embeddings

from newsbot.errors import StoreError
from tests.fd_guard import open_fds
from tests.fixtures_store import open_news_store
from vectorstore.chunks import epoch_day
from vectorstore.client import make_chroma_client
from vectorstore.embeddings import LocalMiniLMEmbeddings
from vectorstore.records import ArticleMeta, ChunkText
from vectorstore.registry import ArticleRegistry, normalize_url
from vectorstore.sharing import close_client
from vectorstore.store import NewsStore

OpenStore = Callable[..., NewsStore]

VISAS = [
    "Pakistan and the United States agreed to share data on people smuggling routes.",
    "Both governments promised to dismantle networks that sell fake visas to migrants.",
    "Officials will meet again in Washington in the autumn to review progress.",
    "The talks were described as constructive by the foreign ministry.",
]
RATES = [
    "The central bank raised its main interest rate by half a percentage point.",
    "Inflation reached its highest level in four decades last month.",
]
FLOODS = ["Heavy monsoon rain flooded villages in the south, and thousands were evacuated."]


@pytest.fixture
def open_store(tmp_path: Path, embedder: LocalMiniLMEmbeddings) -> OpenStore:
    """Open (again) the store in tmp_path; every call builds a fresh client and registry."""

    def _open(embeddings: Embeddings = embedder, collection: str = "news", **kw: Any) -> NewsStore:
        return open_news_store(tmp_path / "data", embeddings, collection, **kw)

    return _open


def meta(article_id: str, version: str = "1", **fields: Any) -> ArticleMeta:
    base = ArticleMeta(
        article_id=article_id,
        title=f"Title of {article_id}",
        url=f"https://news.example.com/{article_id}",
        source="Example News",
        published="2022-06-12",
        content_hash=f"{article_id}-v{version}",
    )
    return replace(base, **fields)


def chunks(texts: list[str]) -> list[ChunkText]:
    out, pos = [], 0
    for i, text in enumerate(texts):
        out.append(
            ChunkText(index=i, text=text, char_start=pos, char_end=pos + len(text), tokens=20)
        )
        pos += len(text) + 1
    return out


def chunk_ids(store: NewsStore, article_id: str | None = None) -> list[str]:
    where = {"article_id": article_id} if article_id else None
    return sorted(store._collection.get(where=where, include=[])["ids"])  # type: ignore[arg-type]


def test_put_then_search_finds_the_right_passage(open_store: OpenStore) -> None:
    store = open_store()
    written = store.put_articles(
        [
            (meta("visas"), chunks(VISAS)),
            (meta("rates"), chunks(RATES)),
            (meta("floods"), chunks(FLOODS)),
        ]
    )
    assert written == 7
    hits = store.search("fake visa networks", k=3)
    assert len(hits) == 3
    best = hits[0]
    assert (best.article_id, best.chunk_index, best.chunk_id) == ("visas", 1, "visas:1")
    assert best.text == VISAS[1]
    assert (best.char_start, best.char_end) == (
        len(VISAS[0]) + 1,
        len(VISAS[0]) + 1 + len(VISAS[1]),
    )
    assert (best.title, best.url, best.source, best.published) == (
        "Title of visas",
        "https://news.example.com/visas",
        "Example News",
        "2022-06-12",
    )
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert 0.3 < best.score <= 1.0
    assert store.search("interest rates and inflation", k=1)[0].article_id == "rates"
    assert store.search("anything", k=0) == []


def test_chunk_metadata_follows_the_architecture(open_store: OpenStore) -> None:
    store = open_store()
    store.put_articles([(meta("undated", published=None, url=""), chunks(FLOODS))])
    got = store._collection.get(ids=["undated:0"], include=["metadatas"])
    assert got["metadatas"] == [
        {
            "article_id": "undated",
            "title": "Title of undated",
            "url": "",
            "source": "Example News",
            "published": "",
            "published_ts": -1,
            "chunk_index": 0,
            "char_start": 0,
            "char_end": len(FLOODS[0]),
            "content_hash": "undated-v1",
        }
    ]
    assert store.search("monsoon", k=1)[0].published is None


def test_replacing_with_fewer_chunks_leaves_no_orphans(open_store: OpenStore) -> None:
    store = open_store()
    store.put_articles([(meta("visas"), chunks(VISAS)), (meta("rates"), chunks(RATES))])
    store.put_articles(
        [(meta("visas", version="2"), chunks(["A shorter rewrite.", "Two chunks."]))]
    )
    assert chunk_ids(store, "visas") == ["visas:0", "visas:1"]
    assert chunk_ids(store, "rates") == ["rates:0", "rates:1"]
    assert store.search("rewrite", k=1)[0].text == "A shorter rewrite."
    row = store.registry.get("visas")
    assert row is not None
    assert (row.n_chunks, row.content_hash) == (2, "visas-v2")
    assert store.stats()["chunks"] == 4


def test_unchanged_articles_are_detected(open_store: OpenStore) -> None:
    store = open_store()
    store.put_articles([(meta("visas"), chunks(VISAS)), (meta("rates"), chunks(RATES))])
    incoming = [meta("visas"), meta("rates", version="2"), meta("new")]
    assert store.unchanged_ids(incoming) == {"visas"}
    assert open_store().unchanged_ids(incoming) == {"visas"}  # survives a reopen


def test_delete_by_id_and_by_url(open_store: OpenStore) -> None:
    store = open_store()
    store.put_articles(
        [
            (meta("visas", url="https://www.Example.com/world/visas/"), chunks(VISAS)),
            (meta("rates"), chunks(RATES)),
        ]
    )
    assert store.delete_url("http://example.com/world/visas") == ["visas"]
    assert chunk_ids(store, "visas") == []
    assert store.registry.get("visas") is None
    assert store.delete_article("rates")
    assert not store.delete_article("rates")
    assert store.delete_url("https://nowhere.example.com/") == []
    assert store.stats()["articles"] == store.stats()["chunks"] == 0


def test_search_before_a_date_keeps_undated_articles(open_store: OpenStore) -> None:
    store = open_store()
    store.put_articles(
        [
            (
                meta("january", published="2022-01-10"),
                chunks(["Rain fell on the city in January."]),
            ),
            (
                meta("june", published="2022-06-10T08:30:00Z"),
                chunks(["Rain fell on the city in June."]),
            ),
            (meta("undated", published=None), chunks(["Rain fell on the city."])),
        ]
    )

    def ids(before: date | None) -> set[str]:
        return {p.article_id for p in store.search("rain in the city", 5, before)}

    assert ids(None) == {"january", "june", "undated"}
    assert ids(date(2022, 3, 1)) == {"january", "undated"}
    assert ids(date(2022, 6, 10)) == {"january", "june", "undated"}  # the day itself counts
    assert ids(date(2021, 1, 1)) == {"undated"}
    assert ids(date(2030, 1, 1)) == {"january", "june", "undated"}
    assert epoch_day("2022-06-10T08:30:00Z") == epoch_day("2022-06-10") == 19153
    assert epoch_day("not a date") == epoch_day(None) == -1


def test_a_date_after_every_article_searches_without_a_filter(
    open_store: OpenStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store()
    store.put_articles([(meta("june", published="2022-06-10"), chunks(["Rain fell in June."]))])
    allowlists: list[object] = []
    query = store._collection.query

    def recording_query(**kwargs: Any) -> Any:
        assert kwargs.get("where") is None  # Chroma's slow metadata filter is never asked
        allowlists.append(kwargs.get("ids"))
        return query(**kwargs)

    monkeypatch.setattr(store._collection, "query", recording_query)
    # A filtered search looks at the nearest OVERSAMPLE * k chunks first, then searches among
    # the registry's passing chunks when too few pass: with 1, the one chunk seen is not enough.
    monkeypatch.setattr("vectorstore.search.OVERSAMPLE", 1)
    assert [p.article_id for p in store.search("rain", 1, date(2022, 6, 10))] == ["june"]
    assert [p.article_id for p in store.search("rain", 1, date(2022, 6, 9))] == []
    assert allowlists == [None, None]  # the second: nothing passes, so no query is needed


class ExplodingEmbeddings(Embeddings):
    """The real embedder that dies after embedding part of a batch (a crash mid-write)."""

    name = "local/all-MiniLM-L6-v2-int8"
    dimension = 384

    def __init__(self, real: Embeddings) -> None:
        self.real = real

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.real.embed_documents(texts[: len(texts) // 2])
        raise KeyboardInterrupt("killed mid-batch")

    def embed_query(self, text: str) -> list[float]:
        return self.real.embed_query(text)


def test_a_crash_before_the_write_is_completed_by_the_next_put(
    open_store: OpenStore, embedder: LocalMiniLMEmbeddings
) -> None:
    open_store().put_articles([(meta("visas"), chunks(VISAS))])
    crashing = open_store(embeddings=ExplodingEmbeddings(embedder))
    batch = [(meta("visas", version="2"), chunks(VISAS[:2])), (meta("rates"), chunks(RATES))]
    with pytest.raises(KeyboardInterrupt):
        crashing.put_articles(batch)

    store = open_store()
    assert sorted(r.article_id for r in store.registry.pending()) == ["rates", "visas"]
    assert store.unchanged_ids([m for m, _ in batch]) == set()  # pending is never unchanged
    assert store.stats()["articles"] == 0
    store.put_articles(batch)
    assert chunk_ids(store) == ["rates:0", "rates:1", "visas:0", "visas:1"]
    assert store.registry.pending() == []
    assert store.unchanged_ids([m for m, _ in batch]) == {"visas", "rates"}


def test_a_crash_after_the_upsert_leaves_a_tail_the_next_put_removes(
    open_store: OpenStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_store().put_articles([(meta("visas"), chunks(VISAS))])
    crashing = open_store()

    def killed(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt("killed before the tail delete")

    monkeypatch.setattr(crashing._collection, "delete", killed)
    shorter = [(meta("visas", version="2"), chunks(["New first chunk.", "New second chunk."]))]
    with pytest.raises(KeyboardInterrupt):
        crashing.put_articles(shorter)
    store = open_store()
    assert chunk_ids(store) == ["visas:0", "visas:1", "visas:2", "visas:3"]  # the old tail
    # The next run brings yet another version, longer than the second but shorter than the first.
    store.put_articles([(meta("visas", version="3"), chunks(["One.", "Two.", "Three."]))])
    assert chunk_ids(store) == ["visas:0", "visas:1", "visas:2"]
    assert store.search("Three", 3)[0].text == "Three."


def tear_index(data: Path, torn: str = "index_metadata.pickle") -> Path:
    """Empty one file of the store's saved index in `data`, as Chroma leaves it when killed between
    creating the file and writing it; the index's folder."""
    (folder,) = [p for p in (data / "chroma").iterdir() if (p / torn).exists()]
    (folder / torn).write_bytes(b"")
    return folder


def stored_then_torn(open_store: OpenStore, data: Path) -> Path:
    """Store two articles (visas, rates) and close, then tear the index (`tear_index`)."""
    store = open_store()
    store.put_articles([(meta("visas"), chunks(VISAS)), (meta("rates"), chunks(RATES))])
    store.close()
    return tear_index(data)


@pytest.mark.parametrize("torn", ["index_metadata.pickle", "header.bin"])
def test_an_index_a_kill_left_unreadable_is_rebuilt_from_the_stored_chunks(
    open_store: OpenStore, tmp_path: Path, torn: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = open_store()
    store.put_articles([(meta("visas"), chunks(VISAS)), (meta("rates"), chunks(RATES))])
    before = [(hit.chunk_id, round(hit.score, 4)) for hit in store.search("fake visas", k=6)]
    store.close()
    folder = tear_index(tmp_path / "data", torn)

    with caplog.at_level("WARNING", logger="vectorstore.sharing"):
        store = open_store()
    assert "Rebuilt the vector index of collection 'news' from its 6 stored chunks" in caplog.text
    after = [(hit.chunk_id, round(hit.score, 4)) for hit in store.search("fake visas", k=6)]
    assert after == before
    assert store.stats()["articles"] == 2
    assert store.search("interest rates and inflation", k=1)[0].text == RATES[0]
    assert not any(p.name.endswith(".damaged") for p in folder.parent.iterdir())
    caplog.clear()
    store.close()
    open_store().close()  # opens as is from now on
    assert "vector index" not in caplog.text


def test_a_rebuild_stopped_midway_is_started_again_by_the_next_opening(
    open_store: OpenStore, tmp_path: Path, embedder: LocalMiniLMEmbeddings
) -> None:
    folder = stored_then_torn(open_store, tmp_path / "data")
    with pytest.raises(KeyboardInterrupt):
        open_store(embeddings=ExplodingEmbeddings(embedder))  # killed while embedding again

    store = open_store()
    assert store.search("fake visas", k=1)[0].text == VISAS[1]
    assert len(store.search("talks", k=6)) == 6
    assert sorted(p.name for p in folder.parent.iterdir() if p.is_dir()) == [
        folder.name,
        "newsbot-writes",
    ]


def test_two_stores_opening_an_unreadable_index_at_once_rebuild_it_once(
    open_store: OpenStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import threading

    stored_then_torn(open_store, tmp_path / "data")

    opened: list[NewsStore] = []
    with caplog.at_level("WARNING", logger="vectorstore.sharing"):
        threads = [threading.Thread(target=lambda: opened.append(open_store())) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(opened) == 2
    assert caplog.text.count("Rebuilt the vector index") == 1
    for each in opened:
        assert each.search("fake visas", k=1)[0].text == VISAS[1]
        each.close()


def test_writes_stay_within_chromas_batch_limit(
    open_store: OpenStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store()
    monkeypatch.setattr(store.client, "get_max_batch_size", lambda: 3)
    sizes: list[int] = []
    upsert = store._collection.upsert

    def recording_upsert(**kwargs: Any) -> None:
        sizes.append(len(kwargs["ids"]))
        upsert(**kwargs)

    monkeypatch.setattr(store._collection, "upsert", recording_upsert)
    assert store.put_articles([(meta("visas"), chunks(VISAS)), (meta("rates"), chunks(RATES))]) == 6
    assert sizes == [3, 3]
    assert len(chunk_ids(store)) == 6


def test_duplicate_ids_in_one_batch_keep_the_last(open_store: OpenStore) -> None:
    store = open_store()
    store.put_articles([(meta("a"), chunks(VISAS)), (meta("a", version="2"), chunks(RATES))])
    assert chunk_ids(store) == ["a:0", "a:1"]
    assert store.unchanged_ids([meta("a", version="2")]) == {"a"}


class OtherEmbeddings(Embeddings):
    def __init__(self, name: str, dimension: int) -> None:
        self.name, self.dimension = name, dimension

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[1.0] + [0.0] * (self.dimension - 1) for _ in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def test_another_embedder_is_refused(open_store: OpenStore) -> None:
    open_store().put_articles([(meta("visas"), chunks(VISAS))])
    with pytest.raises(StoreError, match=r"built with local/all-MiniLM-L6-v2-int8 \(dim 384\)"):
        open_store(embeddings=OtherEmbeddings("openai/text-embedding-3-small", 1536))
    with pytest.raises(StoreError, match="you configured other"):
        open_store(embeddings=OtherEmbeddings("other", 384))
    # Another collection is fine, and the first one is untouched.
    assert (
        open_store(embeddings=OtherEmbeddings("other", 8), collection="news-other").stats()[
            "dimension"
        ]
        == 8
    )
    assert open_store().stats()["chunks"] == 4


def test_a_collection_not_made_by_newsbot_is_refused(open_store: OpenStore, tmp_path: Path) -> None:
    client = make_chroma_client(tmp_path / "data")
    client.create_collection("foreign", embedding_function=None)
    with pytest.raises(StoreError, match="not created by newsbot"):
        open_store(collection="foreign")
    close_client(client)


def test_a_vanished_collection_resets_its_registry(open_store: OpenStore) -> None:
    store = open_store()
    store.put_articles([(meta("visas"), chunks(VISAS))])
    store.client.delete_collection("news")
    reopened = open_store()
    assert reopened.stats()["articles"] == 0
    assert reopened.unchanged_ids([meta("visas")]) == set()


def test_stats_and_listing(open_store: OpenStore) -> None:
    store = open_store()
    store.put_articles(
        [
            (meta("old", published="2021-01-01", title="Old rates story"), chunks(RATES)),
            (meta("new", published="2022-07-01", title="New visa deal"), chunks(VISAS)),
            (
                meta("undated", published=None, source="Wire_100%", title="Café flood"),
                chunks(FLOODS),
            ),
        ]
    )
    assert store.stats() == {
        "articles": 3,
        "chunks": 7,
        "pending": 0,
        "collection": "news",
        "embedder": "local/all-MiniLM-L6-v2-int8",
        "dimension": 384,
    }
    assert [r.article_id for r in store.list_articles()] == ["new", "old", "undated"]
    assert [r.article_id for r in store.list_articles(limit=1, offset=1)] == ["old"]
    assert [r.article_id for r in store.list_articles(query="RATES")] == ["old"]
    assert [r.article_id for r in store.list_articles(query="_100%")] == ["undated"]
    assert store.list_articles(query="1%") == []
    # Case is ignored beyond ASCII too (found by a review: SQLite's LIKE folds ASCII only).
    assert [r.article_id for r in store.list_articles(query="CAFÉ")] == ["undated"]
    row = store.list_articles(query="visa")[0]
    assert (row.n_chunks, row.published, row.content_hash) == (4, "2022-07-01", "new-v1")


def test_langchain_view_sees_the_same_chunks(open_store: OpenStore) -> None:
    store = open_store()
    store.put_articles([(meta("visas"), chunks(VISAS)), (meta("rates"), chunks(RATES))])
    ours = store.search("fake visas", k=2)
    theirs = store.langchain_vectorstore().similarity_search_with_relevance_scores(
        "fake visas", k=2
    )
    assert [doc.id for doc, _ in theirs] == [p.chunk_id for p in ours]
    assert [score for _, score in theirs] == pytest.approx([p.score for p in ours], abs=1e-5)
    assert theirs[0][0].metadata["article_id"] == "visas"
    assert store.stats()["chunks"] == 6  # the view did not create or change anything


def open_descriptors() -> int:
    gc.collect()  # what only a collection frees is not held
    return len(open_fds())


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts /proc/self/fd")
def test_closing_the_stores_of_a_folder_closes_every_file_they_opened(
    open_store: OpenStore,
) -> None:
    open_store().close()  # the process's own first-use descriptors (Chroma's runtime) stay
    before = open_descriptors()
    first, second = open_store(), open_store()
    first.put_articles([(meta("visas"), chunks(VISAS))])
    assert open_descriptors() > before
    first.close()
    first.close()  # a second close does nothing
    # The folder's other store still reads and writes.
    assert second.search("fake visa networks", k=1)[0].article_id == "visas"
    second.put_articles([(meta("rates"), chunks(RATES))])
    second.close()
    assert open_descriptors() <= before
    # Closed and opened again, the folder holds what was written.
    assert open_store().stats()["articles"] == 2


def test_registry_for_a_server_is_its_own_file(tmp_path: Path) -> None:
    embedded = ArticleRegistry.for_collection(tmp_path, "news")
    server = ArticleRegistry.for_collection(tmp_path, "news", "chroma.local", 8000)
    assert embedded.database.where == str(tmp_path / "registry.sqlite3")
    assert server.database.where == str(tmp_path / "registry-chroma.local-8000.sqlite3")


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://www.Example.com/a/b/", "https://example.com/a/b"),
        ("http://example.com/a/b#top", "https://example.com/a/b"),
        ("https://example.com:443/a?id=2", "https://example.com/a?id=2"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com/a?utm_medium=x&p=2&fbclid=y", "https://example.com/a?p=2"),
        ("  ", ""),
    ],
)
def test_url_normalisation(url: str, key: str) -> None:
    assert normalize_url(url) == key


def tracking_parameters_hide_no_article(registry: ArticleRegistry) -> None:
    """Found by a review: ingest knows `story?utm_source=x` as `story`, but `delete --url story`
    found nothing. The key leaves tracking parameters out, and rows stored with the old key
    (tracking parameters in it) are found too."""
    tracked = meta("tracked", url="https://news.example/story?utm_source=twitter&id=4")
    registry.mark_pending([(tracked, 1)])
    registry.mark_done([(tracked, 1)])
    assert registry.find_by_url("http://www.news.example/story?id=4") == ["tracked"]
    assert registry.find_by_url("https://news.example/story?id=5") == []
    with registry.database.transaction() as db:
        db.execute(
            "UPDATE articles SET url_key = ? WHERE collection = ? AND article_id = ?",
            (
                normalize_url(tracked.url).replace("?", "?utm_source=twitter&"),
                registry.collection,
                "tracked",
            ),
        )
    assert registry.find_by_url("https://news.example/story?id=4") == ["tracked"]


def test_tracking_parameters_hide_no_article(tmp_path: Path) -> None:
    tracking_parameters_hide_no_article(ArticleRegistry.for_collection(tmp_path, "news"))


def test_unreachable_chroma_server_says_how_to_start_it(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(
        StoreError, match=r"Cannot reach Chroma at 127.0.0.1:\d+.*chroma run --path"
    ):
        make_chroma_client(tmp_path, host="127.0.0.1", port=port)


KILLED_WRITER = """
import sys
import time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from tests.test_store import kill_test_batch
from vectorstore.client import make_chroma_client
from vectorstore.embeddings import LocalMiniLMEmbeddings
from vectorstore.registry import ArticleRegistry
from vectorstore.store import NewsStore


class Announcing(LocalMiniLMEmbeddings):
    def embed_documents(self, texts):
        vectors = super().embed_documents(texts)
        print("embedded", len(texts), flush=True)
        time.sleep(0.5)  # the parent kills us here: rows pending, nothing upserted yet
        return vectors


data = Path(sys.argv[2])
store = NewsStore(
    make_chroma_client(data), "news", Announcing(threads=1),
    ArticleRegistry.for_collection(data, "news"),
)
store.put_articles(kill_test_batch(1, 0, 12))
print("v1", flush=True)
for start in range(0, 12, 4):
    store.put_articles(kill_test_batch(2, start, start + 4))
    print("v2", start, flush=True)
"""


def kill_test_batch(
    version: int, start: int, stop: int
) -> list[tuple[ArticleMeta, list[ChunkText]]]:
    """Articles for the kill -9 test: version 1 has 4 chunks each, version 2 has 1 to 3."""
    batch = []
    for i in range(start, stop):
        n = 4 if version == 1 else 1 + i % 3
        texts = [
            f"Version {version} of report {i}, part {j}: rain, markets and talks." for j in range(n)
        ]
        batch.append((meta(f"r{i}", version=str(version)), chunks(texts)))
    return batch


@pytest.mark.server
def test_a_write_killed_with_sigkill_is_completed_by_the_next_run(
    open_store: OpenStore, tmp_path: Path
) -> None:
    import signal
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[1]
    with subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(repo), str(tmp_path / "data")],
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        lines = [child.stdout.readline().strip() for _ in range(5)]
        child.send_signal(signal.SIGKILL)  # while the second version-2 batch is being written
        child.wait()
    assert lines == ["embedded 48", "v1", "embedded 7", "v2 0", "embedded 8"]

    store = open_store()
    assert [r.article_id for r in store.registry.pending()] == ["r4", "r5", "r6", "r7"]
    assert len(chunk_ids(store)) == 7 + 8 * 4  # version 2 of r0-r3, version 1 of the others
    everything = kill_test_batch(2, 0, 12)
    todo = [(m, c) for m, c in everything if m.article_id not in store.unchanged_ids([m])]
    assert len(todo) == 8
    store.put_articles(todo)
    expected = sorted(f"{m.article_id}:{c.index}" for m, cs in everything for c in cs)
    assert chunk_ids(store) == expected
    assert store.registry.pending() == []
    assert store.stats()["articles"] == 12
    assert store.unchanged_ids([m for m, _ in everything]) == {m.article_id for m, _ in everything}
