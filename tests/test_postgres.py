"""The shared database: the article registry and the ingest lock in PostgreSQL behave as in the
SQLite file, against a real PostgreSQL server on a loopback port (the keyword index and the store
on it are tested in test_hybrid.py; whole deployments in test_scale_out.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsbot.errors import StoreError
from scripts.services import NEWSBOT, free_port
from tests.conftest import REPO
from tests.test_store import meta, tracking_parameters_hide_no_article
from vectorstore.article_files import ArticleFiles
from vectorstore.database import Database, open_database
from vectorstore.postgres import AdvisoryLock, redact
from vectorstore.registry import ArticleRegistry


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = request.getfixturevalue("database_url") if request.param == "postgresql" else None
    db = open_database(tmp_path, url=url)
    yield db
    db.close()


def test_registry_rows_are_alike_in_both_engines(database: Database) -> None:
    registry = ArticleRegistry(database, "news")
    metas = [meta(f"a{i}") for i in range(2500)]  # beyond SQLite's parameters per statement
    registry.mark_pending([(m, 3) for m in metas])
    registry.mark_done([(m, 1) for m in metas[:1000]])
    state = registry.state_of([m.article_id for m in metas] + ["missing"])
    assert len(state) == 2500
    assert state["a0"] == ("a0-v1", "done")
    assert state["a2499"] == ("a2499-v1", "pending")
    assert (registry.count(), registry.chunk_count(), len(registry.pending())) == (1000, 1000, 1500)
    # A new write keeps the larger chunk count until it is done (the old tail is still stored).
    registry.mark_pending([(meta("a0", version="2"), 0)])
    assert registry.get("a0") is not None
    assert registry.get("a0").n_chunks == 1  # type: ignore[union-attr]
    registry.mark_done([(meta("a0", version="2"), 0)])

    other = ArticleRegistry(database, "other")
    assert other.count() == 0
    assert other.state_of(["a0"]) == {}

    registry.mark_pending([(meta("x", title="Floods in 50% of VILLAGES_north, Café"), 2)])
    registry.mark_done([(meta("x", title="Floods in 50% of VILLAGES_north, Café"), 2)])
    # Case-insensitive (beyond ASCII too), and % and _ are taken literally.
    assert [r.article_id for r in registry.list_articles(query="villages_n")] == ["x"]
    assert [r.article_id for r in registry.list_articles(query="CAFÉ")] == ["x"]
    assert [r.article_id for r in registry.list_articles(query="50%")] == ["x"]
    assert registry.list_articles(query="50_ ") == []
    assert registry.find_by_url("HTTPS://www.news.example.com/x/") == ["x"]
    tracking_parameters_hide_no_article(registry)
    assert registry.delete("tracked")
    assert registry.delete("x")
    assert not registry.delete("x")
    assert registry.clear() == 2500
    assert other.count() == 0


HOLDER = """
import sys, time
sys.path.insert(0, sys.argv[1])
from vectorstore.postgres import AdvisoryLock
with AdvisoryLock.at(sys.argv[2], "news.ingest").hold(purpose="ingest"):
    print("held", flush=True)
    time.sleep(600)
"""


@pytest.mark.server
def test_which_file_an_article_came_from_is_alike_in_both_engines(
    database: Database, tmp_path: Path
) -> None:
    registry = ArticleRegistry(database, "news")
    files = ArticleFiles(database, "news")
    registry.mark_pending([(meta("a"), 1), (meta("b"), 1)])
    registry.mark_done([(meta("a"), 1), (meta("b"), 1)])
    paths = [str(tmp_path / f"{n}.md") for n in range(1200)]  # beyond SQLite's parameters
    files.record([(paths[0], "a", "a-v1"), (paths[1], "a", "a-v1"), (paths[2], "c", "c-v1")])
    files.record([(paths[1], "b", "b-v0")])  # the file's article changed
    assert files.of_paths(paths) == {
        paths[0]: (paths[0], "a", "a-v1"),
        paths[1]: (paths[1], "b", "b-v0"),
        paths[2]: (paths[2], "c", "c-v1"),
    }
    assert sorted(files.of_articles(["a", "b", "x"])) == [
        (paths[0], "a", "a-v1"),
        (paths[1], "b", "b-v0"),
    ]
    # Only the versions the registry still holds: "b" is at v1 now, "c" not stored.
    assert files.still_stored(["a-v1", "b-v0", "c-v1"]) == [(paths[0], "a", "a-v1")]
    files.forget([paths[0]])
    assert files.still_stored(["a-v1"]) == []
    assert ArticleFiles(database, "other").of_paths(paths) == {}


def test_the_ingest_lock_spans_processes_and_dies_with_its_holder(database_url: str) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(REPO), database_url], stdout=subprocess.PIPE, text=True
    ) as holder:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        got = threading.Event()

        def take() -> None:
            with AdvisoryLock.at(database_url, "news.ingest").hold(purpose="ingest"):
                got.set()

        waiter = threading.Thread(target=take)
        waiter.start()
        assert not got.wait(1.5), "the lock was taken while another process held it"
        holder.send_signal(signal.SIGKILL)  # as a crashed ingest worker
        holder.wait()
        assert got.wait(10), "the server did not release a dead process's lock"
        waiter.join()
    # Re-entrant for its thread, and free again afterwards.
    lock = AdvisoryLock.at(database_url, "news.ingest")
    with lock.hold(), lock.hold():
        pass
    with lock.hold():
        pass


def test_an_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    url = f"postgresql://newsbot:s3cret@127.0.0.1:{free_port()}/newsbot"
    with pytest.raises(
        StoreError, match=r"Cannot reach the database at .*NEWSBOT_DATABASE_URL"
    ) as e:
        open_database(tmp_path, url=url)
    assert "s3cret" not in str(e.value)
    assert redact(url) == url.replace("s3cret", "***")


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://db/newsbot", "must be a PostgreSQL URL"),
        ("postgresql://db/newsbot", "set NEWSBOT_CHROMA_HOST too"),
        # The port is picked when the test runs: a parameter must be the same in every xdist worker.
        ("postgresql://newsbot:pw@127.0.0.1:{free_port}/newsbot", "Cannot reach the database"),
    ],
)
def test_the_cli_names_a_bad_database_url(url: str, says: str) -> None:
    url = url.replace("{free_port}", str(free_port()))
    started = time.monotonic()
    result = subprocess.run(
        [*NEWSBOT, "stats"],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "NEWSBOT_DATABASE_URL": url,
            "NEWSBOT_CHROMA_HOST": "127.0.0.1" if "pw@" in url else "",
        },
    )
    assert result.returncode != 0
    assert says in result.stderr
    assert "Traceback" not in result.stderr
    assert ":pw@" not in result.stderr
    assert time.monotonic() - started < 30


def test_sign_ins_and_failures_are_shared_through_the_database(database: Database) -> None:
    from bot.web.auth import Sessions, Throttle
    from newsbot.login_records import DatabaseLoginRecords

    # Two replicas: each with its own records object over the same database.
    replica_a = Sessions(records=DatabaseLoginRecords(database))
    replica_b = Sessions(records=DatabaseLoginRecords(database))
    token = replica_a.create()
    assert replica_b.valid(token)
    assert not replica_b.valid(token + "x")
    replica_b.end(token)
    assert not replica_a.valid(token)
    # The stored key is a hash: the rows never hold a usable token.
    assert token not in str(database.rows("SELECT session_key FROM web_sessions"))

    throttle_a = Throttle(3, "login", replica_a.records)
    throttle_b = Throttle(3, "login", replica_b.records)
    for throttle in (throttle_a, throttle_b, throttle_a):
        assert throttle.retry_after("10.0.0.7") == 0
        throttle.failed("10.0.0.7")
    assert throttle_b.retry_after("10.0.0.7") > 0
    assert throttle_b.retry_after("10.0.0.8") == 0
    assert Throttle(3, "header", replica_b.records).retry_after("10.0.0.7") == 0


def test_a_database_user_who_cannot_create_tables_is_told_so(database_url: str) -> None:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute("CREATE ROLE reader LOGIN")
    reader_url = database_url.replace("//newsbot@", "//reader@")
    database = open_database(Path("."), url=reader_url)
    try:
        with pytest.raises(StoreError, match="needs the right to create tables"):
            ArticleRegistry(database, "news")
    finally:
        database.close()
