"""Answer ids, readers' votes and the question log (issue 28), in SQLite and in PostgreSQL.

The API runs against the scripted assistant of test_web_api (what is stored does not depend on the
model); the log is the real `DatabaseQuestionLog` over the real database of each engine (the
`database` fixture of test_postgres). Two processes writing to one database stand for two replicas.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from bot.web import build_app
from bot.web.answer_log import MAX_COMMENT_CHARS, LoggedAnswer
from newsbot.errors import ConfigError
from newsbot.login_records import DatabaseLoginRecords
from newsbot.question_log import DAY, DatabaseQuestionLog
from tests.conftest import REPO
from tests.test_postgres import database
from tests.test_web_api import (
    ScriptedAssistant,
    client_for,
    make_store,
    parse_sse,
    store_library,
)
from vectorstore.database import Database, open_database

__all__ = ["database"]

pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")


def logged_app(question_log: DatabaseQuestionLog | None, **options: Any) -> Any:
    return client_for(build_app(ScriptedAssistant(), question_log=question_log, **options))


def test_an_answer_and_its_vote_are_kept_with_question_sources_and_timings(
    database: Database,
) -> None:
    question_log = DatabaseQuestionLog(database)
    client = logged_app(question_log)

    body = client.post("/api/ask", json={"question": "What did they agree on?"}).json()
    answer_id = body["answer_id"]
    assert len(answer_id) == 32
    vote = {"answer_id": answer_id, "vote": "down", "comment": "  The date is wrong.  "}
    assert client.post("/api/feedback", json=vote).json() == {"stored": True}

    [row] = question_log.answers_since(0)
    assert row.answer_id == answer_id
    assert row.door == "api"
    assert row.question == "What did they agree on?"
    assert row.answer == body["answer"]
    assert row.grounded is True
    assert row.refused_by is None
    assert row.sources == [
        {
            "n": 1,
            "article_id": "a1",
            "title": "Talks in Islamabad",
            "url": "https://example.com/talks",
            "source": "Example News",
            "published": "2025-05-10",
        }
    ]
    assert row.timings == body["timings"]
    assert (row.vote, row.comment) == ("down", "The date is wrong.")

    # A second vote replaces the first; the stream's result carries an id of its own.
    again = {"answer_id": answer_id, "vote": "up"}
    assert client.post("/api/feedback", json=again).status_code == 200
    events = parse_sse(client.post("/api/ask/stream", json={"question": "And then?"}).text)
    streamed = events[-1][1]["answer_id"]
    assert streamed != answer_id
    rows = {row.answer_id: row for row in question_log.answers_since(0)}
    assert (rows[answer_id].vote, rows[answer_id].comment) == ("up", None)
    assert rows[streamed].door == "stream"
    assert rows[streamed].question == "And then?"


def test_bad_votes_are_refused_with_a_clear_message(database: Database) -> None:
    question_log = DatabaseQuestionLog(database)
    client = logged_app(question_log)
    answer_id = client.post("/api/ask", json={"question": "Q?"}).json()["answer_id"]

    unknown = client.post("/api/feedback", json={"answer_id": "0" * 32, "vote": "down"})
    assert unknown.status_code == 404
    assert "No answer" in unknown.json()["detail"]
    for body, complaint in [
        ({"answer_id": answer_id, "vote": "meh"}, "'up' or 'down'"),
        ({"answer_id": "../etc", "vote": "up"}, "pattern"),
        ({"answer_id": answer_id, "vote": "down", "comment": "x" * 501}, "at most 500"),
        ({"answer_id": answer_id, "vote": "up", "ip": "1.2.3.4"}, "Extra inputs"),
    ]:
        reply = client.post("/api/feedback", json=body)
        assert reply.status_code == 422, body
        assert complaint in str(reply.json()["detail"])
    assert [row.vote for row in question_log.answers_since(0)] == [None]
    assert MAX_COMMENT_CHARS == 500


def test_with_the_log_off_asking_and_voting_store_nothing(tmp_path: Path) -> None:
    database = open_database(tmp_path)
    client = logged_app(None, login_records=DatabaseLoginRecords(database))

    answer_id = client.post("/api/ask", json={"question": "Q?"}).json()["answer_id"]
    reply = client.post(
        "/api/feedback", json={"answer_id": answer_id, "vote": "down", "comment": "wrong"}
    )

    assert reply.status_code == 403
    assert "NEWSBOT_LOG_QUESTIONS" in reply.json()["detail"]
    tables = database.rows("SELECT name FROM sqlite_master WHERE type = 'table'")
    assert "question_log" not in {name for (name,) in tables}
    database.close()


@pytest.mark.slow  # builds the whole web app twice, as `newsbot serve` does
def test_serve_keeps_the_log_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsbot.settings import get_settings
    from newsbot.web_entry import build_web_app

    ask = {"answer_id": "0" * 32, "vote": "up"}
    off = client_for(build_web_app(get_settings()))
    assert off.post("/api/feedback", json=ask).status_code == 403

    monkeypatch.setenv("NEWSBOT_LOG_QUESTIONS", "true")
    monkeypatch.setenv("NEWSBOT_LOG_RETENTION_DAYS", "7")
    on = client_for(build_web_app(get_settings()))
    assert on.post("/api/feedback", json=ask).status_code == 404  # the log is there: no such id
    monkeypatch.setenv("NEWSBOT_LOG_RETENTION_DAYS", "0")
    with pytest.raises(ConfigError, match="NEWSBOT_LOG_RETENTION_DAYS"):
        get_settings()


def entry(answer_id: str, at: float, question: str = "Q?") -> LoggedAnswer:
    return LoggedAnswer(answer_id, at, "api", question, "A.", False, "no_passages")


def test_rows_past_the_retention_are_deleted(database: Database) -> None:
    now = [1_000 * DAY]
    question_log = DatabaseQuestionLog(database, retention_days=30, clock=lambda: now[0])
    question_log.record(entry("old", now[0] - 31 * DAY))
    question_log.record(entry("recent", now[0] - 29 * DAY))
    question_log.flush()
    assert question_log.count() == 2
    assert [row.answer_id for row in question_log.answers_since(0)] == ["recent"]
    assert question_log.add_feedback("old", "down", None) == "missing"  # never read or voted on

    assert question_log.purge() == 1
    assert question_log.count() == 1
    now[0] += 2 * DAY  # "recent" is now 31 days old: opening the log again deletes it
    assert DatabaseQuestionLog(database, retention_days=30, clock=lambda: now[0]).count() == 0


_REPLICA = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from bot.web.answer_log import LoggedAnswer
    from newsbot.question_log import DatabaseQuestionLog
    from vectorstore.database import open_database

    folder, url, name = sys.argv[1], sys.argv[2] or None, sys.argv[3]
    log = DatabaseQuestionLog(open_database(Path(folder), url=url))
    for i in range(40):
        log.record(LoggedAnswer(f"{name}-{i}", 1e10, "api", f"question {i}", "A.", True, None))
    log.flush()
    """
)


@pytest.mark.server  # two more processes
@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_two_replicas_count_into_one_log(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("database_url") if engine == "postgresql" else ""
    replicas = [
        subprocess.Popen(
            [sys.executable, "-c", _REPLICA, str(tmp_path), url, name],
            cwd=REPO,
            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        )
        for name in ("a", "b")
    ]
    assert [replica.wait(timeout=120) for replica in replicas] == [0, 0]

    shared = open_database(tmp_path, url=url or None)
    ids = {
        row.answer_id for row in DatabaseQuestionLog(shared, clock=lambda: 1e10).answers_since(0)
    }
    shared.close()
    assert len(ids) == 80
    assert {answer_id.split("-")[0] for answer_id in ids} == {"a", "b"}


def test_the_editors_csv_needs_the_credential_and_the_library(tmp_path: Path) -> None:
    store = make_store(tmp_path, [])
    question_log = DatabaseQuestionLog(store.registry.database)
    parts = {"question_log": question_log, "question_embedder": store.embeddings}
    client = client_for(
        build_app(ScriptedAssistant(), store_library(store, tmp_path), api_key="s3cret", **parts)
    )
    key = {"Authorization": "Bearer s3cret"}
    client.post("/api/ask", json={"question": "Who met?"}, headers=key)

    assert client.get("/library/questions.csv").status_code == 401
    reply = client.get("/library/questions.csv?days=1", headers=key)
    assert reply.status_code == 200
    assert "Who met?" in reply.text
    assert client.get("/library/questions.csv?days=30", headers=key).status_code == 422

    without_library = client_for(build_app(ScriptedAssistant(), **parts))
    assert "Who met?" not in without_library.get("/library/questions.csv").text


# --- review of issue 28: repeated votes, text a database refuses, a database that hangs ------


def feedback_counts(client: Any) -> dict[str, float]:
    from prometheus_client.parser import text_string_to_metric_families

    return {
        sample.labels["vote"]: sample.value
        for family in text_string_to_metric_families(client.get("/metrics").text)
        for sample in family.samples
        if sample.name == "newsbot_feedback_total"
    }


def test_the_last_vote_wins_and_is_counted_once(database: Database) -> None:
    question_log = DatabaseQuestionLog(database)
    client = logged_app(question_log)
    answer_id = client.post("/api/ask", json={"question": "Q?"}).json()["answer_id"]

    # The chat's way: the thumb, then its comment (the same vote again), then a second click.
    for comment in (None, "Wrong city.", None):
        vote = {"answer_id": answer_id, "vote": "down", "comment": comment}
        assert client.post("/api/feedback", json=vote).status_code == 200
    assert feedback_counts(client) == {"down": 1.0}
    assert client.post("/api/feedback", json={**vote, "vote": "up"}).status_code == 200
    assert feedback_counts(client) == {"down": 1.0, "up": 1.0}
    assert question_log.add_feedback(answer_id, "up", "Fine after all.") == "same"

    [row] = question_log.answers_since(0)
    assert (row.vote, row.comment) == ("up", "Fine after all.")
    # What a reloaded page marks (bot.web.feedback_ui.shown_votes): the answers with a vote.
    other = client.post("/api/ask", json={"question": "Q2?"}).json()["answer_id"]
    assert question_log.votes([answer_id, other, "f" * 32]) == {answer_id: "up"}
    assert question_log.withdraw_feedback(answer_id)
    assert question_log.votes([answer_id, other]) == {}


def test_text_a_database_cannot_hold_is_stored_replaced(database: Database) -> None:
    """A NUL (PostgreSQL refuses it) or a lone surrogate (no UTF-8 for it) in a question lost
    the row and every other reader's row written in its batch; in a comment, a 500."""
    question_log = DatabaseQuestionLog(database, clock=lambda: 1e10)
    for answer_id, question in [("nul", "Who\x00 met?"), ("half", "Who \ud83d met?")]:
        question_log.record(entry(answer_id, 1e10, question))
    question_log.record(entry("plain", 1e10, "Who met?"))
    question_log.flush()

    rows = {row.answer_id: row.question for row in question_log.answers_since(0)}
    assert rows == {"nul": "Who\ufffd met?", "half": "Who \ufffd met?", "plain": "Who met?"}
    question_log.add_feedback("nul", "down", "a\x00b")
    assert [r.comment for r in question_log.answers_since(0) if r.answer_id == "nul"] == [
        "a\ufffdb"
    ]

    client = logged_app(DatabaseQuestionLog(database))
    answer_id = client.post("/api/ask", json={"question": "Q?"}).json()["answer_id"]
    vote = {"answer_id": answer_id, "vote": "down", "comment": "bad\x00"}
    assert client.post("/api/feedback", json=vote).status_code == 200


_EXIT_WHILE_HUNG = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from bot.web.answer_log import LoggedAnswer
    from newsbot.question_log import DatabaseQuestionLog
    from vectorstore.database import open_database

    log = DatabaseQuestionLog(open_database(Path(sys.argv[1]), url=sys.argv[2]))
    print("ready", flush=True)
    sys.stdin.readline()  # the table is locked now
    log.record(LoggedAnswer("0" * 32, time.time(), "api", "Q?", "A.", True, None))
    """
)


@pytest.mark.server  # a second process
def test_a_hung_database_blocks_no_answer_no_vote_and_no_exit(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL holding the table (another session's lock): the answer path still only
    queues, dropping rows beyond the queue's size; a flush and the process's exit give up after
    FLUSH_SECONDS instead of waiting for ever."""

    import newsbot.question_log as question_log_module

    shared = open_database(tmp_path, url=database_url)
    monkeypatch.setattr(question_log_module, "MAX_QUEUED", 5)
    question_log = DatabaseQuestionLog(shared)
    replica = subprocess.Popen(
        [sys.executable, "-c", _EXIT_WHILE_HUNG, str(tmp_path), database_url],
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert replica.stdout is not None
        assert replica.stdin is not None
        assert replica.stdout.readline().strip() == "ready"
        hold_the_table_and_exit(database_url, question_log, replica)
    finally:
        if replica.poll() is None:
            replica.kill()
            replica.wait()
        for pipe in (replica.stdin, replica.stdout):
            if pipe is not None and not pipe.closed:
                pipe.close()
    assert question_log.flush()
    assert question_log.count() <= 6  # the rows beyond the queue were dropped, not waited for
    shared.close()


def hold_the_table_and_exit(
    database_url: str, question_log: DatabaseQuestionLog, replica: subprocess.Popen[str]
) -> None:
    """While another session locks the table: queue, flush, and let `replica` exit."""
    import time

    import psycopg

    import newsbot.question_log as question_log_module

    assert replica.stdin is not None
    with psycopg.connect(database_url) as holder:
        holder.execute("LOCK TABLE question_log IN ACCESS EXCLUSIVE MODE")
        started = time.perf_counter()
        for i in range(20):
            question_log.record(entry(f"{i:032x}", time.time()))
        assert time.perf_counter() - started < 0.5  # queued (or dropped), never waited for
        started = time.perf_counter()
        assert question_log.flush(timeout=1.0) is False
        assert time.perf_counter() - started < 3

        replica.stdin.write("go\n")
        replica.stdin.close()
        started = time.perf_counter()
        assert replica.wait(timeout=60) == 0
        assert time.perf_counter() - started < question_log_module.FLUSH_SECONDS + 10
        holder.rollback()


def test_signed_out_no_route_and_no_gradio_event_reaches_the_log(tmp_path: Path) -> None:
    """With a password set, a signed-out client (no header, a made-up session cookie) can
    neither read the editors' view, the CSV or /metrics nor vote, through the API or through
    the chat's, the widget's or the panel's Gradio events; signed in, the panel's event works."""
    import base64

    import httpx

    from bot.web.server import serving_in_thread
    from tests.web_events import gradio_event

    store = make_store(tmp_path, [])
    question_log = DatabaseQuestionLog(store.registry.database)
    app = build_app(
        ScriptedAssistant(),
        store_library(store, tmp_path),
        auth="editor:pw",
        question_log=question_log,
        question_embedder=store.embeddings,
    )
    basic = {"Authorization": "Basic " + base64.b64encode(b"editor:pw").decode()}
    events = {"": ("on_vote", "on_comment", "on_comment_1", "draw"), "/widget": ("on_vote",)}
    with serving_in_thread(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        asked = http.post("/api/ask", json={"question": "Who met?"}, headers=basic).json()
        answer_id = asked["answer_id"]
        history = [
            {"role": "user", "content": "Who met?"},
            {"role": "assistant", "content": "A.", "metadata": {"id": answer_id}},
        ]
        like = {"index": 1, "value": "A.", "liked": False}
        fns: dict[str, dict[str, int]] = {}
        for mount, names in events.items():
            config = http.get(f"{mount}/config", headers=basic).json()
            by_name = {d.get("api_name"): d["id"] for d in config["dependencies"]}
            fns[mount] = {name: by_name[name] for name in names}
        for cookie in ({}, {"newsbot_session": "made-up"}):
            http.cookies.clear()
            http.cookies.update(cookie)
            for mount, named in fns.items():
                assert http.get(f"{mount}/config").status_code == 401
                for name, fn in named.items():
                    join = {
                        "data": [history] if name == "on_vote" else [["x", "down"], "wrong"],
                        "fn_index": fn,
                        "session_hash": "s1",
                        "event_data": like if name == "on_vote" else None,
                    }
                    joined = http.post(f"{mount}/gradio_api/queue/join", json=join)
                    assert joined.status_code == 401, (mount, name)
                assert http.get(f"{mount}/gradio_api/queue/data?session_hash=s1").status_code == 401
            vote = {"answer_id": answer_id, "vote": "down", "comment": "wrong"}
            assert http.post("/api/feedback", json=vote).status_code == 401
            assert http.get("/metrics").status_code == 401
            assert http.get("/library/questions.csv?days=7").status_code == 401
            page = http.get("/library/questions.csv", headers={"Accept": "text/html"})
            assert page.status_code == 303
            assert page.headers["location"].startswith("/login?next=")
        http.cookies.clear()
        assert [row.vote for row in question_log.answers_since(0)] == [None]

        drawn = gradio_event(url, "draw", ["week"], **basic)
        assert "Who met?" in drawn["output"]["data"][0]


def test_without_the_library_nothing_serves_the_log(tmp_path: Path) -> None:
    """An open server on a network address leaves the Library out, and the editors' view with
    it: no CSV, no panel event on the page or the widget; the widget still votes (its readers
    are whom the log is for)."""
    store = make_store(tmp_path, [])
    question_log = DatabaseQuestionLog(store.registry.database)
    app = build_app(
        ScriptedAssistant(), question_log=question_log, question_embedder=store.embeddings
    )
    client = client_for(app)
    client.post("/api/ask", json={"question": "Who met?"})

    assert client.get("/library/questions.csv").status_code == 404
    # A page on another site cannot vote through a visitor's browser either.
    answer_id = client.post("/api/ask", json={"question": "Q?"}).json()["answer_id"]
    vote = {"answer_id": answer_id, "vote": "down"}
    evil = {"Origin": "https://evil.example"}
    assert client.post("/api/feedback", json=vote, headers=evil).status_code == 403
    assert all(row.vote is None for row in question_log.answers_since(0))
    for mount in ("", "/widget"):
        names = {d.get("api_name") for d in client.get(f"{mount}/config").json()["dependencies"]}
        assert "draw" not in names
        assert "on_vote" in names


def test_the_retention_holds_with_the_log_off(database: Database) -> None:
    """Turning the log off kept what it had stored for ever; now a server started with it off
    deletes what is past the retention, and creates no table where there was none."""
    import time

    from newsbot.question_log import open_question_log

    exists = (
        "SELECT to_regclass('question_log') IS NOT NULL"
        if database.kind == "postgresql"
        else "SELECT COUNT(*) > 0 FROM sqlite_master WHERE name = 'question_log'"
    )
    assert open_question_log(database, False, 30) is None
    assert not database.rows(exists)[0][0]

    now = time.time()
    question_log = open_question_log(database, True, 30)
    assert question_log is not None
    question_log.record(entry("old", now - 31 * DAY))
    question_log.record(entry("recent", now - DAY))
    assert question_log.flush()
    assert open_question_log(database, False, 30) is None
    assert database.rows("SELECT answer_id FROM question_log") == [("recent",)]


def test_a_vote_waiting_on_the_database_holds_up_no_other_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`newsbot serve`'s question log shared the one database connection that every request's
    credential check reads (the throttle's failures, the sessions): a vote waiting for another
    process's write (SQLite's busy wait, up to 10 s) held up every other request meanwhile."""
    import base64
    import sqlite3
    import threading
    import time

    import httpx

    from bot.web.server import serving_in_thread
    from newsbot.factories import build_registry
    from newsbot.settings import get_settings
    from newsbot.web_entry import build_web_app

    monkeypatch.setenv("NEWSBOT_AUTH", "editor:pw")
    monkeypatch.setenv("NEWSBOT_LOG_QUESTIONS", "true")
    settings = get_settings()
    basic = {"Authorization": "Basic " + base64.b64encode(b"editor:pw").decode()}
    vote = {"answer_id": "0" * 32, "vote": "down"}
    with serving_in_thread(build_web_app(settings)) as url:
        registry = build_registry(settings)
        other_process = sqlite3.connect(registry.database.path, isolation_level=None)
        registry.database.close()
        other_process.execute("BEGIN IMMEDIATE")  # another process writing for a while
        waiting = threading.Thread(
            target=lambda: httpx.post(f"{url}/api/feedback", json=vote, headers=basic, timeout=60)
        )
        waiting.start()
        time.sleep(1.0)  # the vote is in its transaction, waiting for the write lock
        started = time.perf_counter()
        health = httpx.get(f"{url}/api/health", headers=basic, timeout=60)
        took = time.perf_counter() - started
        other_process.execute("ROLLBACK")
        other_process.close()
        waiting.join(timeout=60)
    assert health.status_code == 200
    assert took < 3, f"a request waited {took:.1f} s for the vote's database connection"


def test_the_chats_doors_check_what_the_browser_says(database: Database) -> None:
    """The thumbs' Gradio event takes the answer id from the history the browser sends, and the
    vote from its event data: the recorder checks both as the API's body model does (a NUL in
    an id was a database error on PostgreSQL; any string was looked up)."""
    from bot.web.answer_log import AnswerRecorder

    question_log = DatabaseQuestionLog(database)
    recorder = AnswerRecorder(question_log)
    for answer_id, vote, complaint in [
        ("0" * 31 + "\x00", "down", "not an answer id"),
        ("' OR 1=1 --", "down", "not an answer id"),
        ("0" * 32, "sideways", "'up' or 'down'"),
    ]:
        with pytest.raises(ValueError, match=complaint):
            recorder.feedback(answer_id, vote, None)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="not an answer id"):
            recorder.withdraw(answer_id if "id" in complaint else "x")
    assert recorder.feedback("0" * 32, "up", None) is False  # well-formed, not in the log
