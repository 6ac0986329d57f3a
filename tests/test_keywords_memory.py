"""Keyword ranking in memory: the database's BM25, kept current with another process's writes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from tests.fixtures_store import Opener
from tests.test_hybrid import FILLER, RARE, article
from vectorstore import keywords_memory
from vectorstore.filters import chunk_filter
from vectorstore.keywords import KeywordIndex, query_terms
from vectorstore.store import NewsStore

PRODUCT_DISABLE = keywords_memory.MemoryKeywords.disable
QUERIES = ["Zephyrine cargo", "harbour ships hours", "port season", "forged manifest inspectors"]


@pytest.fixture(autouse=True)
def memory_errors_fail_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """In the product an error in the copy hands ranking to the database for good; here it must
    fail the test, or the database's answers would pass for the copy's."""

    def fail(_: object, error: BaseException) -> None:
        raise error

    monkeypatch.setattr(keywords_memory.MemoryKeywords, "disable", fail)


def built(store: NewsStore) -> KeywordIndex:
    """The store's keyword index, its copy in memory built."""
    index = store.keywords
    assert index is not None
    assert index.memory is not None
    index.memory.build()
    return index


@pytest.mark.parametrize("open_store", ["sqlite"], indirect=True)
def test_edits_merged_into_the_arrays_rank_as_fts5_does(
    open_store: Opener, embedder: Embeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every catch-up compacts: the merged arrays and renumbered slots must rank as the rows do.
    monkeypatch.setattr(keywords_memory, "MIN_PENDING", 0)
    monkeypatch.setattr(keywords_memory, "MIN_DEAD", 0)
    store = open_store(embedder)
    store.put_articles([article("filler", "2024-05-01", *FILLER)])
    index = built(store)
    store.put_articles([article("rare", "2024-05-02", RARE)])
    store.put_articles([article("filler", "2024-05-01", *FILLER[3:], version="2")])
    index.search("harbour", 1)  # catches up: the rare article added, filler rewritten
    store.delete_article("rare")
    store.put_articles([article("late", "2024-05-04", "Ships waited at the harbour for hours.")])
    assert index.memory is not None
    for query in [*QUERIES, "ships waited harbour"]:
        memory = index.memory.search(query_terms(query), 20, None)  # no database fallback
        database = index.database_search(query, 20)
        assert memory is not None
        assert [cid for cid, _ in memory] == [cid for cid, _ in database]
        assert [round(s, 4) for _, s in memory] == [round(s, 4) for _, s in database]


@pytest.mark.parametrize("open_store", ["sqlite"], indirect=True)  # PostgreSQL: ts_rank
def test_memory_ranks_as_fts5_does(open_store: Opener, embedder: Embeddings) -> None:
    store = open_store(embedder)
    store.put_articles(
        [article("filler", "2024-05-01", *FILLER), article("rare", "2024-05-02", RARE)]
    )
    index = built(store)
    assert index.memory is not None
    for query in QUERIES:
        memory = index.memory.search(query_terms(query), 10, None)  # no database fallback
        database = index.database_search(query, 10)
        assert memory is not None
        assert [cid for cid, _ in memory] == [cid for cid, _ in database]
        assert [round(s, 4) for _, s in memory] == [round(s, 4) for _, s in database]


def test_a_filtered_search_keeps_exactly_what_the_filter_keeps(
    open_store: Opener,
    embedder: Embeddings,
) -> None:
    store = open_store(embedder)
    store.put_articles(
        [
            article("may", "2024-05-01", *FILLER[:6]),
            article("june", "2024-06-01", *FILLER[6:], RARE),
            article("undated", None, "Ships at the harbour waited for the tide."),
        ]
    )
    index = built(store)
    everything = [cid for cid, _ in index.search("harbour ships", 50)]
    june = chunk_filter(since=date(2024, 6, 1), until=None, dated_only=True, sources=[])
    as_of_may = chunk_filter(since=None, until=date(2024, 5, 31), dated_only=False, sources=[])
    wire = chunk_filter(since=None, until=None, dated_only=False, sources=["Wire"])
    other = chunk_filter(since=None, until=None, dated_only=False, sources=["Elsewhere"])
    for where, kept in (
        (june, ("june",)),
        (as_of_may, ("may", "undated")),  # "as of" keeps undated chunks
        (wire, ("may", "june", "undated")),
        (other, ()),
    ):
        expected = [cid for cid in everything if cid.split(":")[0] in kept][:4]
        assert [cid for cid, _ in index.search("harbour ships", 4, where)] == expected


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from tests.test_hybrid import article
    from vectorstore.client import make_chroma_client
    from vectorstore.database import open_database
    from vectorstore.embeddings import LocalMiniLMEmbeddings
    from vectorstore.keywords import keyword_index
    from vectorstore.registry import ArticleRegistry
    from vectorstore.store import NewsStore

    data_dir, url = Path(sys.argv[1]), sys.argv[2] or None
    registry = ArticleRegistry(open_database(data_dir, url=url), "news")
    embedder = LocalMiniLMEmbeddings(batch_size=8, threads=1)
    store = NewsStore(make_chroma_client(data_dir), "news", embedder, registry,
                      keywords=keyword_index(registry.database, "news", in_memory=False))
    for step in sys.stdin:  # one step a line; "done" once it is committed
        if step.strip() == "add":
            store.put_articles([article("new", "2024-05-03",
                                        "The Quillmore ferry resumed crossings after the storm.")])
        elif step.strip() == "edit":
            store.put_articles([article("rare", "2024-05-02", "The manifest was found in order.",
                                        version="2")])
        elif step.strip() == "delete":
            store.delete_article("new")
        print("done", flush=True)
    """
)


@pytest.mark.server
def test_writes_of_another_process_are_searched_at_once(
    open_store: Opener,
    embedder: Embeddings,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    store = open_store(embedder)
    store.put_articles(
        [article("filler", "2024-05-01", *FILLER), article("rare", "2024-05-02", RARE)]
    )
    index = built(store)
    url = (
        request.getfixturevalue("database_url") if store.registry.database.kind != "sqlite" else ""
    )

    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path), url],
        cwd=Path(__file__).parent.parent,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    request.addfinalizer(writer.kill)
    assert writer.stdin is not None
    assert writer.stdout is not None

    def other_process(step: str) -> None:
        writer.stdin.write(f"{step}\n")
        writer.stdin.flush()
        assert writer.stdout.readline() == "done\n"

    other_process("add")
    assert [cid for cid, _ in index.search("Quillmore ferry", 3)] == ["new:0"]
    other_process("edit")  # the rare word is gone with the old text
    assert index.search("Zephyrine", 3) == []
    assert [cid for cid, _ in index.search("manifest order", 1)] == ["rare:0"]
    other_process("delete")
    assert index.search("Quillmore ferry", 3) == []
    # Caught up from the journal, never rebuilt: the copy stayed in memory throughout.
    assert index.memory is not None
    assert index.memory.ready()
    assert store.search("Quillmore ferry crossings", 4)
    assert all(p.article_id != "new" for p in store.search("Quillmore ferry crossings", 4))
    writer.stdin.close()
    assert writer.wait(60) == 0
    writer.stdout.close()


def rare_article_store(open_store: Opener, embedder: Embeddings) -> NewsStore:
    """A store holding the one article with the rare word."""
    store = open_store(embedder)
    store.put_articles([article("rare", "2024-05-02", RARE)])
    return store


def test_a_rolled_back_write_changes_nothing(
    open_store: Opener, embedder: Embeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = built(rare_article_store(open_store, embedder))

    def dying(*_: object) -> None:
        raise KeyboardInterrupt("killed between the delete and the insert")

    monkeypatch.setattr(type(index), "_insert", dying)
    with pytest.raises(KeyboardInterrupt):
        index.replace(["rare"], [])
    monkeypatch.undo()
    assert [cid for cid, _ in index.search("Zephyrine", 3)] == ["rare:0"]
    assert index.memory is not None
    assert index.memory.ready()


def test_a_cleared_or_far_behind_copy_is_rebuilt_while_the_database_ranks(
    open_store: Opener, embedder: Embeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = rare_article_store(open_store, embedder)
    index = built(store)
    memory = index.memory
    assert memory is not None
    monkeypatch.setattr(keywords_memory, "MAX_CATCH_UP", 1)
    store.put_articles(
        [article("a", "2024-05-03", "Zephyrine sails again."), article("b", "2024-05-03", "Calm")]
    )
    # Two articles behind, one may be caught up: the database answers (both), a rebuild starts.
    assert {cid for cid, _ in index.search("Zephyrine", 3)} == {"rare:0", "a:0"}
    assert memory.wait(60)
    assert {cid for cid, _ in index.search("Zephyrine", 3)} == {"rare:0", "a:0"}
    index.clear()
    assert index.search("Zephyrine", 3) == []
    assert memory.wait(60)
    assert index.search("Zephyrine", 3) == []


def test_one_question_never_starts_a_build(open_store: Opener, embedder: Embeddings) -> None:
    index = rare_article_store(open_store, embedder).keywords
    assert index is not None
    assert index.memory is not None
    for _ in range(2):  # `newsbot ask` may search twice for one question (a filter, then wider)
        assert [cid for cid, _ in index.search("Zephyrine cargo", 3)] == ["rare:0"]
    assert not index.memory.wait(0)
    index.search("forged manifest", 3)  # a second question: a session, worth the build
    assert index.memory.wait(60)
    assert [cid for cid, _ in index.search("Zephyrine cargo", 3)] == ["rare:0"]


def test_an_error_in_the_copy_hands_ranking_to_the_database(
    open_store: Opener,
    embedder: Embeddings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(keywords_memory.MemoryKeywords, "disable", PRODUCT_DISABLE)
    index = built(rare_article_store(open_store, embedder))
    memory = index.memory
    assert memory is not None
    memory._postings.chunk_ids.clear()  # type: ignore[union-attr]  # a broken copy
    assert [cid for cid, _ in index.search("Zephyrine", 3)] == ["rare:0"]
    assert memory.failed is not None
    assert not memory.ready()
    assert "stays in the database" in caplog.text
    memory.start()  # never again in this process
    assert not memory.wait(1)
