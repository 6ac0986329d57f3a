"""The web app's JSON API, security headers, safe rendering and Gradio API.

Pure logic (validation, auth, CORS, escaping, SSE framing) runs against a small scripted assistant;
the end-to-end cases answer the seed question with the real store, embedder and local model,
through `/api/ask` and through `gradio_client` on a real uvicorn server.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

import fastapi
import httpx
import pytest
from fastapi.testclient import TestClient

from bot.answer.events import AnswerDone, AnswerEvent, Searched, SourceCited, TextDelta, collect
from bot.answer.question import Question
from bot.answer.result import AnswerResult, Source
from bot.web import build_app
from bot.web.chat import answer_messages, history_turns, make_chat_fn
from bot.web.render import answer_markdown, article_path, is_web_url, sources_html
from bot.web.security import parse_auth
from bot.web.server import serving_in_thread
from newsbot.errors import ConfigError, ModelError
from tests.conftest import SEED_DIR
from vectorstore.records import ArticleRow, RelatedArticle, StoredArticle

SEED_QUESTION = "What did Pakistan and the US agree on?"
FOREIGN = "http://news.example.org"

# Gradio's queue statistics use pandas options and keywords that pandas 3 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")


# --- a scripted assistant, for the logic that does not depend on the model ---------------------


class ScriptedAssistant:
    """Streams a fixed answer built from the question; records what it was asked."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.fail = fail
        self.reading = threading.Event()  # cleared: it stops after the search, as a slow model
        self.reading.set()
        self.writing = threading.Event()  # cleared: it stops after the answer's first word
        self.writing.set()
        self.calls: list[Question] = []
        self.related: list[RelatedArticle] = []  # more on the story: offered as questions

    def _result(self, question: str, as_of: date | None) -> AnswerResult:
        source = Source(
            n=1,
            article_id="a1",
            title="Talks in Islamabad",
            url="https://example.com/talks",
            source="Example News",
            published="2025-05-10",
            passage="Both sides agreed to joint operations.",
            char_start=0,
            char_end=38,
            score=0.8,
        )
        answer = f"About {question}: joint operations [1]."
        day = (as_of or date(2025, 5, 12)).isoformat()
        return AnswerResult(answer, [source], True, question, question, day, related=self.related)

    def stream(self, question: Question) -> Iterator[AnswerEvent]:
        self.calls.append(question)
        if self.fail is not None:
            raise self.fail
        result = self._result(question.text, question.as_of)
        yield Searched(passages=2, articles=1, question=question.text)
        self.reading.wait(30)
        yield SourceCited(result.sources[0])
        words = result.answer.split(" ")
        for i, word in enumerate(words):
            yield TextDelta(word if i == 0 else " " + word)
            if i == 0:
                self.writing.wait(30)
        yield AnswerDone(result)

    def ask(self, question: Question) -> AnswerResult:
        return collect(self.stream(question))


@pytest.fixture
def scripted() -> ScriptedAssistant:
    return ScriptedAssistant()


def client_for(app: fastapi.FastAPI) -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1:7860")


# --- /api/ask and /api/ask/stream ---------------------------------------------------------------


def test_health_answers_with_the_key_when_one_is_set() -> None:
    client = client_for(build_app(ScriptedAssistant(), api_key="s3cret"))
    assert client.get("/api/health").status_code == 401
    reply = client.get("/api/health", headers={"Authorization": "Bearer s3cret"})
    assert reply.json() == {"status": "ok"}


@pytest.fixture(scope="module")
def routes_app() -> tuple[TestClient, ScriptedAssistant]:
    """One app for the tests of which route answers what: they change nothing in it."""
    scripted = ScriptedAssistant()
    return client_for(build_app(scripted, catalog=OneArticleShelf())), scripted


def test_an_api_path_asked_with_the_wrong_method_is_a_405_and_an_unknown_one_a_json_404(
    routes_app: tuple[TestClient, ScriptedAssistant],
) -> None:
    """Found by a review: `GET /api/ask` fell through to the chat page, an HTML 404."""
    client, _ = routes_app
    for method, path, allowed in [
        ("GET", "/api/ask", "POST"),
        ("PUT", "/api/ask/stream", "POST"),
        ("GET", "/api/feedback", "POST"),
        ("DELETE", "/api/health", "GET, HEAD"),
    ]:
        reply = client.request(method, path)
        assert reply.status_code == 405, (method, path)
        assert reply.headers["allow"] == allowed
        assert reply.json() == {"detail": f"Method Not Allowed: use {allowed}"}
    reply = client.post("/api/nothing/here", json={})
    assert (reply.status_code, reply.json()) == (404, {"detail": "Not Found"})
    # The routes themselves still answer, the docs page included, and HEAD wherever GET does
    # (found by a review: health checks by HEAD got 405 or the chat page's 404).
    assert client.get("/api/health").json() == {"status": "ok"}
    for path in ("/api/health", "/metrics", "/widget/gradio.js", "/api/docs"):
        assert client.head(path).status_code == 200, path
    assert client.get("/api/docs").status_code == 200
    assert client.post("/api/docs").headers["allow"] == "GET, HEAD"
    assert client.post("/api/ask", json={"question": "What happened?"}).status_code == 200


def test_gradios_one_reply_routes_for_the_chat_say_where_the_answer_streams(
    routes_app: tuple[TestClient, ScriptedAssistant],
) -> None:
    """Found by a review: /gradio_api/run/chat replied after 2 s with no answer and no error
    (a `run` call gets a generator's first update only)."""
    client, scripted = routes_app
    asked = len(scripted.calls)
    for path in (
        "/gradio_api/run/chat",
        "/gradio_api/api/chat",
        "/widget/gradio_api/run/chat",
        "/gradio_api/run/chat/",  # Gradio's routes take a trailing slash too (a review)
        "/widget/gradio_api/api/chat/",
    ):
        reply = client.post(path, json={"data": ["What happened?", []]})
        assert reply.status_code == 400, path
        assert "/gradio_api/call/chat" in reply.json()["detail"]
    # Named by its index through the route the page's own quick events use: told the same.
    dependencies = client.get("/config").json()["dependencies"]
    (chat,) = [n for n, d in enumerate(dependencies) if d.get("api_name") == "chat"]
    reply = client.post(
        "/gradio_api/run/predict", json={"data": ["What happened?", []], "fn_index": chat}
    )
    assert "/gradio_api/call/chat" in reply.json()["data"][0]
    assert len(scripted.calls) == asked, "nothing was asked"


def test_ask_returns_the_result_object_and_passes_history_and_date(
    scripted: ScriptedAssistant,
) -> None:
    client = client_for(build_app(scripted))
    history = [
        {"role": "user", "content": "Who met?"},
        {"role": "assistant", "content": "Naqvi and Baker [1]."},
    ]

    reply = client.post(
        "/api/ask", json={"question": "  What next? ", "history": history, "as_of": "2025-05-11"}
    )

    assert reply.status_code == 200
    body = reply.json()
    assert body["question"] == "What next?"
    assert body["as_of"] == "2025-05-11"
    assert body["sources"][0]["url"] == "https://example.com/talks"
    assert set(body) >= {"answer", "sources", "grounded", "standalone_question", "timings"}
    assert scripted.calls == [Question("What next?", history, date(2025, 5, 11))]


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({"question": "   "}, "question is empty"),
        ({}, "Field required"),
        ({"question": "x" * 2001}, "at most 2000 characters"),
        ({"question": "caf\udce9?"}, "unable to parse raw data as a unicode string"),
        ({"question": "ok", "history": [{"role": "user", "content": "\udce9"}]}, "unicode"),
        ({"question": "ok", "as_of": "yesterday"}, "valid date"),
        ({"question": "ok", "history": [{"role": "system", "content": "x"}]}, "'user' or"),
        ({"question": "ok", "k": 3}, "Extra inputs are not permitted"),
    ],
)
def test_bad_requests_are_422_with_a_clear_message(
    refusing: tuple[TestClient, ScriptedAssistant], body: dict[str, Any], complaint: str
) -> None:
    client, assistant = refusing
    # JSON as a browser may send it: a lone surrogate stays escaped (httpx would not encode it).
    reply = client.post(
        "/api/ask", content=json.dumps(body), headers={"content-type": "application/json"}
    )

    assert reply.status_code == 422
    assert complaint in json.dumps(reply.json())
    assert assistant.calls == []


@pytest.fixture(scope="module")
def refusing() -> tuple[TestClient, ScriptedAssistant]:
    """One app for the requests refused before the assistant is asked (it stays unasked)."""
    assistant = ScriptedAssistant()
    return client_for(build_app(assistant)), assistant


def parse_sse(text: str) -> list[tuple[str, Any]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def test_stream_sends_deltas_then_the_result(scripted: ScriptedAssistant) -> None:
    reply = client_for(build_app(scripted)).post("/api/ask/stream", json={"question": "Q?"})

    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(reply.text)
    names = [name for name, _ in events]
    assert events[0] == ("searched", {"passages": 2, "articles": 1, "question": "Q?"})
    assert names[1] == "source", "a source comes before the text that cites it"
    assert names[-1] == "result"
    assert set(names[2:-1]) == {"delta"}
    deltas = "".join(data["text"] for name, data in events if name == "delta")
    assert deltas == events[-1][1]["answer"], "the deltas joined are the answer: none retracted"
    assert events[1][1] == events[-1][1]["sources"][0]


def test_the_api_page_loads_nothing_from_another_site(scripted: ScriptedAssistant) -> None:
    """Offline by default: /api/docs serves Swagger UI's files itself (FastAPI's page loads them
    from a CDN, and was blank without internet)."""
    client = client_for(build_app(scripted))
    page = client.get("/api/docs")
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page.text)
    assert assets, page.text
    assert all(url.startswith("/api/docs/assets/") for url in assets), assets
    for url in assets:
        assert client.get(url).status_code == 200, url
    assert "SwaggerUIBundle" in client.get("/api/docs/assets/swagger-ui-bundle.js").text
    assert client.get("/api/openapi.json").json()["paths"]["/api/ask"]
    # Only those files: the package's own demo page would load petstore.swagger.io (a review).
    for other in ("index.html", "swagger-initializer.js", "swagger-ui.js.map"):
        assert client.get(f"/api/docs/assets/{other}").status_code == 404, other


def test_model_errors_become_503_and_an_error_event_that_tell_readers_no_details(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The model server's reply (found by a review: a provider's "Incorrect API key provided:
    sk-proj-Ab12****") and setting names are for the operator's log, not for any reader."""
    detail = "The chat model server refused the request (HTTP 401: Incorrect API key sk-12)"
    client = client_for(build_app(ScriptedAssistant(fail=ModelError(detail))))
    told = "The chat model is not answering right now. Please try again later."

    reply = client.post("/api/ask", json={"question": "Q?"})
    assert reply.status_code == 503
    assert reply.json() == {"detail": told}

    events = parse_sse(client.post("/api/ask/stream", json={"question": "Q?"}).text)
    assert events == [("error", {"detail": told})]
    assert caplog.text.count("sk-12") == 2, "both failures are in the log, in full"


# --- API key, UI login, CORS, framing ---------------------------------------------------------


def test_api_key_is_required_when_set() -> None:
    client = client_for(build_app(ScriptedAssistant(), api_key="s3cret"))

    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}):
        reply = client.post("/api/ask", json={"question": "Q?"}, headers=headers)
        assert reply.status_code == 401
        assert "Authorization: Bearer" in reply.json()["detail"]
        assert reply.headers["www-authenticate"] == "Bearer"
    stream = client.post("/api/ask/stream", json={"question": "Q?"})
    assert stream.status_code == 401

    ok = client.post(
        "/api/ask", json={"question": "Q?"}, headers={"Authorization": "Bearer s3cret"}
    )
    assert ok.status_code == 200


def test_auth_setting_must_be_user_colon_password() -> None:
    assert parse_auth("a:b:c") == ("a", "b:c")
    assert parse_auth(None) is None
    for bad in ("nocolon", ":pw", "user:"):
        with pytest.raises(ConfigError, match="user:password"):
            parse_auth(bad)


def test_configured_origins_may_call_the_api_and_frame_the_widget() -> None:
    app = build_app(ScriptedAssistant(), allowed_origins=[FOREIGN + "/"])
    client = client_for(app)

    allowed = client.post("/api/ask", json={"question": "Q?"}, headers={"Origin": FOREIGN})
    assert allowed.headers["access-control-allow-origin"] == FOREIGN
    preflight = client.options(
        "/api/ask",
        headers={
            "Origin": FOREIGN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == FOREIGN

    other = client.post("/api/ask", json={"question": "Q?"}, headers={"Origin": "http://evil.test"})
    assert "access-control-allow-origin" not in other.headers
    widget = client.get("/widget/", headers={"Origin": "http://evil.test"})
    assert "access-control-allow-origin" not in widget.headers
    assert widget.headers["content-security-policy"] == f"frame-ancestors 'self' {FOREIGN}"


def test_origins_must_be_bare_origins() -> None:
    with pytest.raises(ConfigError, match=r"https://example\.com"):
        build_app(ScriptedAssistant(), allowed_origins=["https://example.com/page"])


def test_widget_path_redirects_to_the_mount_with_its_query() -> None:
    reply = client_for(build_app(ScriptedAssistant())).get(
        "/widget?__theme=dark", follow_redirects=False
    )
    assert reply.status_code == 307
    assert reply.headers["location"] == "/widget/?__theme=dark"


# --- what the chat shows --------------------------------------------------------------------


def test_article_text_is_escaped_and_only_http_links_are_clickable() -> None:
    evil = Source(
        n=2,
        article_id="x",
        title='<img src=x onerror="alert(1)">Headline',
        url="javascript:alert(2)",
        source="<b>Site</b>",
        published=None,
        passage='Text <script>alert(3)</script>\n\n[click](javascript:alert(4)) "quoted"',
        char_start=0,
        char_end=10,
        score=0.5,
    )
    good = Source(3, "y", "Fine", 'https://e.com/?a=1&b="2"', "E", "2025-01-01", "p", 0, 1, 0.4)

    html_text = sources_html([evil, good])

    assert "<img" not in html_text
    assert "<script" not in html_text
    assert "<b>" not in html_text
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;Headline" in html_text
    assert 'href="javascript' not in html_text
    assert "javascript:alert(2)" in html_text  # shown as text
    assert 'href="https://e.com/?a=1&amp;b=&quot;2&quot;"' in html_text
    assert "\n" not in html_text  # one HTML block: Markdown cannot re-parse the passage
    assert sources_html([]) == ""


class OneArticleShelf:
    """A store holding one article, whose id (a JSON record's own) holds slashes."""

    ID = "2025/05/halvern-ferry"
    ROW = ArticleRow(ID, "Ferry restored", "", "Gazette", None, "h", 1, "2025-05-20")

    def stats(self) -> dict[str, int]:
        return {"articles": 1, "chunks": 1}

    def list_articles(
        self, limit: int = 20, offset: int = 0, query: str | None = None
    ) -> list[ArticleRow]:
        return [self.ROW][offset : offset + limit]

    def stored_article(self, article_id: str) -> StoredArticle | None:
        if article_id != self.ID:
            return None
        return StoredArticle(self.ROW, "The Halvern ferry service resumed on Tuesday.")


def test_an_article_whose_id_holds_a_slash_opens_from_its_link(
    routes_app: tuple[TestClient, ScriptedAssistant],
) -> None:
    """Found by a review: the link, article/2025%2F05%2Fhalvern-ferry, was a 404 (the server
    decodes %2F before it matches a route)."""
    client, _ = routes_app
    for prefix in ("", "/widget"):
        page = client.get(f"{prefix}/{article_path(OneArticleShelf.ID)}")
        assert page.status_code == 200, prefix
        assert "The Halvern ferry service resumed" in page.text
    assert client.get("/article/2025%2F05").status_code == 404


def test_answers_hold_no_html_and_no_links() -> None:
    text = answer_markdown(
        "See <script>x()</script> [a](javascript:go()) ![i](data:x) [ok](https://e.com) [1]\n"
        "[ref]: javascript:bad()"
    )

    assert "<script>" not in text
    assert "&lt;script&gt;" in text
    # Links and images in the model's text become their labels (issue 24: links in answers come
    # only from the sources), whatever their scheme; citation markers stay.
    assert text.startswith("See &lt;script&gt;x()&lt;/script&gt; a i ok [1]\n")
    assert "javascript" not in text
    assert "data:x" not in text
    assert "e.com" not in text
    assert "\\[ref\\]:" in text  # every bracket but a marker's is escaped
    assert is_web_url("HTTPS://x.org")
    assert not is_web_url("https://")
    assert not is_web_url("ftp://x")


def test_chat_history_drops_sources_blocks_and_unescapes_answers(
    scripted: ScriptedAssistant,
) -> None:
    first = answer_messages(scripted.ask(Question("Who met & where?")))
    assert first[1]["metadata"]["title"] == "Sources (1)"
    history = [
        {"role": "user", "content": [{"type": "text", "text": "Who met & where?"}]},
        *first,
    ]

    assert history_turns(history) == [
        {"role": "user", "content": "Who met & where?"},
        {"role": "assistant", "content": "About Who met & where?: joint operations [1]."},
    ]
    # A question left without an answer (stopped, or the page reloaded) is no context.
    unanswered = {"role": "user", "content": "Stopped one?"}
    stopped = {
        "role": "assistant",
        "content": "",
        "metadata": {"title": "Stopped", "status": "done"},
    }
    assert history_turns([unanswered, stopped, *history]) == history_turns(history)
    assert history_turns([*history, unanswered]) == history_turns(history)
    chat = make_chat_fn(scripted)
    outputs = list(chat("And then?", history))
    # Progress notes until the answer's first words (a titled message: never history).
    assert [note[0]["metadata"]["title"] for note in outputs[:2]] == [
        "Searching the articles…",
        "Reading 2 passages from 1 article…",
    ]
    assert history_turns(outputs[1]) == []
    assert isinstance(outputs[2], str)
    answer_id = outputs[-1][0]["metadata"]["id"]  # the feedback buttons name the answer by it
    assert outputs[-1] == answer_messages(scripted.ask(Question("And then?")), answer_id)
    assert scripted.calls[-2].history == history_turns(history)


# --- end to end: the real store, embedder and local model -------------------------------------


def make_store(data_dir: Path, inputs: Sequence[Path]) -> Any:
    """A real NewsStore on `data_dir` with `inputs` ingested by the real pipeline."""
    from ingest.pipeline import ingest
    from tests.fixtures_store import open_news_store
    from vectorstore.embeddings import LocalMiniLMEmbeddings

    store = open_news_store(data_dir, LocalMiniLMEmbeddings())
    if inputs:
        report = ingest([str(p) for p in inputs], store, tiktoken_cache_dir=data_dir / "tiktoken")
        assert report.failed == 0
        assert report.articles >= len(inputs)
    return store


def store_library(store: Any, data_dir: Path) -> Any:
    """The app's real Library adapter (newsbot.library) over `store`, with default settings."""
    from newsbot.library import StoreLibrary
    from newsbot.settings import get_settings

    return StoreLibrary(get_settings(data_dir=data_dir), store)


def test_library_views_escape_and_report_against_a_real_store(tmp_path: Path) -> None:
    from bot.web.library import delete_article, find_articles, ingest_sources, stats_markdown

    article = tmp_path / "a.md"
    article.write_text(
        "---\ntitle: <b>Bold</b> budget\nurl: javascript:alert(1)\n"
        "date: 2025-06-05T12:00:00Z\n---\nThe council approved the budget on Monday.\n",
        encoding="utf-8",
    )
    library = store_library(make_store(tmp_path / "data", []), tmp_path / "data")

    assert stats_markdown(library) == "**0 articles** · 0 chunks"
    assert ingest_sources(library, None, "ftp://x/feed") == (
        "**Not fetched:** only http(s) URLs can be fetched: ftp://x/feed"
    )
    assert ingest_sources(library, None, " ").startswith("**Nothing to ingest:**")
    missing = ingest_sources(library, [str(tmp_path / "nope.txt")], "")
    assert missing.startswith("**Could not ingest:** No articles found in ")  # the CLI's message
    # Text from outside (a name, a server's reason phrase) is shown as text, never Markdown.
    planted = "![p](https://evil.example/p.png) [sign in](https://evil.example)"
    shown = ingest_sources(library, [str(tmp_path / f"{planted}.txt")], "")
    assert r"!\[p\](https:/evil.example/p.png) \[sign in\](https:/evil.example)" in shown
    assert not re.search(r"(?<!\\)[\[\]]", shown), "every bracket is escaped"

    # A line that is no web address is named; the rest of the batch is still ingested.
    mixed = ingest_sources(library, [str(article)], "file:///etc/passwd")
    assert mixed.startswith("1 new, 0 updated, 0 unchanged")
    assert mixed.endswith("**Not fetched:** only http(s) URLs can be fetched: file:///etc/passwd")
    assert stats_markdown(library).startswith("**1 articles**")
    table, choices = find_articles(library, "budget")
    assert "&lt;b&gt;Bold&lt;/b&gt; budget" in table
    assert "<a " not in table
    assert "<td>2025-06-05</td>" in table
    assert find_articles(library, "no such words") == ("<p>No articles match.</p>", [])

    (label, article_id), *_ = choices
    assert label == "<b>Bold</b> budget — 2025-06-05"  # a Dropdown label: shown as text
    assert delete_article(library, None).startswith("**Nothing deleted:**")
    assert delete_article(library, article_id) == f"Deleted article {article_id}."
    assert delete_article(library, article_id).startswith("**Nothing deleted:**")
    assert stats_markdown(library) == "**0 articles** · 0 chunks"

    unclosed = tmp_path / "b.md"
    unclosed.write_text("---\ntitle: Ferry\n\nThe ferry ran late.\n", encoding="utf-8")
    report = ingest_sources(library, [str(unclosed), str(tmp_path / "nope.txt")], "")
    first, failed, warned = report.split("\n\n")  # a paragraph a line, not run together
    assert first.startswith("1 new, 0 updated, 0 unchanged, 1 failed")
    assert failed.startswith(f"failed {tmp_path / 'nope.txt'}: No articles found")
    assert warned.startswith(f"warning {unclosed}: its front matter has no closing")


def test_a_library_upload_that_fails_is_named_by_its_file_name(tmp_path: Path) -> None:
    """Found by a review: the report named Gradio's temporary folder on the server."""
    from bot.web.library import ingest_sources

    uploads = tmp_path / "gradio" / "4c47aa"
    uploads.mkdir(parents=True)
    (uploads / "bad_dump.jsonl").write_text("{not json\n", encoding="utf-8")
    library = store_library(make_store(tmp_path / "data", []), tmp_path / "data")
    shown = ingest_sources(
        library, [str(uploads / "bad_dump.jsonl")], "", upload_dir=tmp_path / "gradio"
    )
    assert "Nothing was ingested. bad_dump.jsonl:1: not valid JSON" in shown, shown
    assert "gradio" not in shown, shown


@pytest.fixture(scope="module")
def seed_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with closing(make_store(tmp_path_factory.mktemp("seed-store"), [SEED_DIR])) as store:
        yield store


@pytest.fixture(scope="module")
def real_assistant(seed_store: Any, local_llm: Any) -> Any:
    from bot.answer.assistant import Assistant
    from bot.llm.providers import make_chat_model
    from prompts import load_prompts
    from tests.fixtures_llm import assistant_options

    llm = make_chat_model("local", max_tokens=200, local_server_factory=lambda: local_llm)
    return Assistant(seed_store, llm, load_prompts(), **assistant_options(k=4))


def assert_seed_answer(answer: str, sources: list[dict[str, Any]]) -> None:
    assert any(word in answer.lower() for word in ("visa", "sop", "joint operation"))
    assert sources, "the answer cites the seed article"
    assert any("visa" in source["passage"].lower() for source in sources)


@pytest.mark.slow
def test_api_ask_answers_the_seed_question(real_assistant: Any) -> None:
    with serving_in_thread(build_app(real_assistant)) as url:
        reply = httpx.post(f"{url}/api/ask", json={"question": SEED_QUESTION}, timeout=300)

    assert reply.status_code == 200
    body = reply.json()
    assert body["grounded"] is True
    assert_seed_answer(body["answer"], body["sources"])
    assert body["timings"]["total_s"] > 0


@pytest.mark.slow
def test_api_stream_and_gradio_client_answer_the_seed_question(real_assistant: Any) -> None:
    from gradio_client import Client

    with serving_in_thread(build_app(real_assistant)) as url:
        with httpx.stream(
            "POST", f"{url}/api/ask/stream", json={"question": SEED_QUESTION}, timeout=300
        ) as reply:
            events = parse_sse(reply.read().decode())
        client = Client(url + "/", verbose=False)
        messages = client.predict(message=SEED_QUESTION, api_name="/chat")

    assert [name for name, _ in events].count("result") == 1
    assert len(events) > 3  # streamed in pieces
    result = events[-1][1]
    assert_seed_answer(result["answer"], result["sources"])

    # The chat endpoint returns the answer message and then the sources message.
    assert isinstance(messages, list)
    assert len(messages) == 2
    answer, sources = messages
    assert any(word in answer["content"].lower() for word in ("visa", "sop", "joint operation"))
    assert sources["metadata"]["title"].startswith("Sources")
    assert "visa" in sources["content"].lower()
    assert "<ol" in sources["content"]
