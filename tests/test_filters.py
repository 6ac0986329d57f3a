"""Issue 13, filters: a date range and sources, from the store's search up to the JSON API, the
CLI and the widget's URL.

Real Chroma on tmp_path with the real embedder; the chat model is scripted (what it says does not
matter here: the tests read which passages were retrieved).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from bot.answer.assistant import Assistant
from bot.answer.question import MAX_SOURCES, Question, make_filter
from bot.web import build_app
from bot.web.server import serving_in_thread
from newsbot.errors import InputError
from prompts import load_prompts
from tests.fixtures_llm import assistant_options
from tests.fixtures_store import HYBRID, open_news_store
from tests.web_events import gradio_event
from vectorstore.embeddings import LocalMiniLMEmbeddings
from vectorstore.records import ArticleMeta, ChunkText, Passage, SearchFilter
from vectorstore.search import Searcher
from vectorstore.store import NewsStore

pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")

# One story, five articles: every search for it retrieves all of them unless filtered.
ARTICLES = {
    "reuters-may1": ("Reuters", "2025-05-01", "Port workers in Halvern began a strike over pay."),
    "ap-may10": ("AP", "2025-05-10", "The Halvern port strike entered its second week."),
    "reuters-undated": ("REUTERS", None, "Halvern port strike talks are planned, unions say."),
    "example-may20": ("Example News", "2025-05-20", "The Halvern port strike ended with a deal."),
    "ap-undated": ("AP", None, "Ships waited outside Halvern during the port strike."),
}
QUESTION = "What happened with the Halvern port strike?"


def put(store: NewsStore) -> None:
    items = []
    for article_id, (source, published, text) in ARTICLES.items():
        meta = ArticleMeta(article_id, article_id, "", source, published, article_id)
        items.append((meta, [ChunkText(0, text, 0, len(text), 12)]))
    store.put_articles(items)


def open_store(data_dir: Path, embedder: LocalMiniLMEmbeddings) -> NewsStore:
    # No recency prior: these tests count the candidates a filter asks Chroma for.
    return open_news_store(data_dir, embedder, ranking=HYBRID)


@pytest.fixture
def store(tmp_path: Path, embedder: LocalMiniLMEmbeddings) -> NewsStore:
    news = open_store(tmp_path / "store", embedder)
    put(news)
    return news


def ids(passages: list[Passage]) -> set[str]:
    return {p.article_id for p in passages}


def scripted_model() -> GenericFakeChatModel:
    """A chat model whose every answer is the same cited sentence."""
    return GenericFakeChatModel(messages=itertools.repeat(AIMessage("The strike went on [1].")))


# --- the store's search -------------------------------------------------------------------------


def test_search_without_filter_finds_every_article(store: NewsStore) -> None:
    assert ids(store.search(QUESTION, k=10)) == set(ARTICLES)
    assert ids(store.search(QUESTION, k=10, filters=SearchFilter())) == set(ARTICLES)


def test_date_range_keeps_dated_articles_inside_it_and_leaves_undated_out(
    store: NewsStore,
) -> None:
    since = SearchFilter(since=date(2025, 5, 5))
    until = SearchFilter(until=date(2025, 5, 10))
    both = SearchFilter(since=date(2025, 5, 2), until=date(2025, 5, 19))
    assert ids(store.search(QUESTION, 10, filters=since)) == {"ap-may10", "example-may20"}
    assert ids(store.search(QUESTION, 10, filters=until)) == {"reuters-may1", "ap-may10"}
    assert ids(store.search(QUESTION, 10, filters=both)) == {"ap-may10"}
    # Inclusive at both ends.
    day = SearchFilter(since=date(2025, 5, 10), until=date(2025, 5, 10))
    assert ids(store.search(QUESTION, 10, filters=day)) == {"ap-may10"}


def test_sources_match_whatever_the_case_and_keep_undated_articles(store: NewsStore) -> None:
    reuters = store.search(QUESTION, 10, filters=SearchFilter(sources=("reuters",)))
    assert ids(reuters) == {"reuters-may1", "reuters-undated"}  # "Reuters" and "REUTERS"
    several = store.search(QUESTION, 10, filters=SearchFilter(sources=("ap", "EXAMPLE news")))
    assert ids(several) == {"ap-may10", "ap-undated", "example-may20"}
    assert store.search(QUESTION, 10, filters=SearchFilter(sources=("Nowhere Times",))) == []


def test_sources_and_dates_combine(store: NewsStore) -> None:
    dated_ap = SearchFilter(since=date(2025, 1, 1), sources=("AP",))
    assert ids(store.search(QUESTION, 10, filters=dated_ap)) == {"ap-may10"}


def test_until_and_as_of_take_the_earlier_day(store: NewsStore) -> None:
    as_of = date(2025, 5, 15)
    # as of alone keeps undated articles (as before filters)...
    assert ids(store.search(QUESTION, 10, published_before=as_of)) == set(ARTICLES) - {
        "example-may20"
    }
    # ...a date range leaves them out, and ends on the earlier of until and as of.
    late_until = SearchFilter(since=date(2025, 5, 5), until=date(2025, 5, 30))
    assert ids(store.search(QUESTION, 10, as_of, late_until)) == {"ap-may10"}
    early_until = SearchFilter(until=date(2025, 5, 5))
    assert ids(store.search(QUESTION, 10, as_of, early_until)) == {"reuters-may1"}
    # as of after every article: no date clause is sent, the range still holds.
    assert ids(store.search(QUESTION, 10, date(2030, 1, 1), SearchFilter(since=as_of))) == {
        "example-may20"
    }


def test_a_store_opened_again_filters_the_same(
    store: NewsStore, tmp_path: Path, embedder: LocalMiniLMEmbeddings
) -> None:
    """Filters need nothing written at ingest: a collection stored earlier (here: opened again by
    a new client and registry) filters on what it holds."""
    again = open_store(tmp_path / "store", embedder)
    found = again.search(QUESTION, 10, filters=make_filter("2025-05-01", None, ["Reuters"]))
    assert ids(found) == {"reuters-may1"}


def test_a_rare_filter_searches_among_the_registrys_passing_chunks(
    store: NewsStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A filter is first tried on the nearest OVERSAMPLE * k chunks; when fewer than k of them
    pass, Chroma searches among the ids of the chunks the registry says pass (never with its
    slow `where`). Both give the same passages."""
    texts = [f"Recipe {i}: bake the bread for {20 + i} minutes in a hot oven." for i in range(40)]
    filler = ArticleMeta("filler", "Recipes", "", "Filler Daily", "2024-01-01", "filler")
    store.put_articles([(filler, [ChunkText(i, t, 0, len(t), 12) for i, t in enumerate(texts)])])
    calls: list[Any] = []
    nearest = Searcher._nearest

    def spy(self: Searcher, vector: list[float], n: int, where: Any = None, ids: Any = None) -> Any:
        calls.append((n, where, sorted(ids) if ids else None))
        return nearest(self, vector, n, where, ids)

    monkeypatch.setattr(Searcher, "_nearest", spy)
    rare = SearchFilter(since=date(2025, 5, 5))  # 2 of the 45 chunks
    assert ids(store.search(QUESTION, 3, filters=rare)) == {"ap-may10", "example-may20"}
    assert calls == [(30, None, None), (3, None, ["ap-may10:0", "example-may20:0"])]
    calls.clear()
    common = SearchFilter(sources=("filler daily",))  # 40 of the 45
    assert ids(store.search("How long does the bread bake?", 3, filters=common)) == {"filler"}
    assert calls == [(30, None, None)]


# --- reading a filter ---------------------------------------------------------------------------


def test_make_filter_reads_dates_relative_days_and_sources() -> None:
    today = date(2025, 5, 20)
    found = make_filter("7d", "2025-05-19", ["AP", " ap ", "", "Reuters"], today=today)
    assert found == SearchFilter(date(2025, 5, 13), date(2025, 5, 19), ("AP", "Reuters"))
    assert not make_filter(None, None, ["", "  "])


@pytest.mark.parametrize(
    ("since", "until", "sources", "message"),
    [
        ("2025-13-01", None, [], "since '2025-13-01' is not a date"),
        (None, "last week", [], "until 'last week' is not a date"),
        ("0001-01-01", None, [], "since 0001-01-01 is out of range: use a day from 1900"),
        ("99999d", None, [], r"since 17\d\d-\d\d-\d\d is out of range"),
        ("2025-06-01", "2025-05-01", [], "since 2025-06-01 is after until 2025-05-01"),
        (None, None, [f"s{i}" for i in range(MAX_SOURCES + 1)], "at most 20"),
        (None, None, ["x" * 300], "longer than 200 characters"),
    ],
)
def test_make_filter_says_what_is_wrong(
    since: str | None, until: str | None, sources: list[str], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        make_filter(since, until, sources)


# --- the assistant, the JSON API ----------------------------------------------------------------


def retrieved_ids(result: dict[str, Any]) -> set[str]:
    return {row["article_id"] for row in result["retrieved"]}


def api_over(store: NewsStore) -> TestClient:
    assistant = Assistant(store, scripted_model(), load_prompts(), **assistant_options(k=10))
    return TestClient(build_app(assistant), base_url="http://127.0.0.1:7860")


@pytest.fixture
def api(store: NewsStore) -> TestClient:
    return api_over(store)


@pytest.fixture(scope="module")
def refusing_api(
    tmp_path_factory: pytest.TempPathFactory, embedder: LocalMiniLMEmbeddings
) -> TestClient:
    """One app for the requests refused before any search: nothing they do changes it."""
    news = open_store(tmp_path_factory.mktemp("refusing") / "store", embedder)
    put(news)
    return api_over(news)


def test_api_ask_applies_since_until_and_sources(api: TestClient) -> None:
    body = {"question": QUESTION, "as_of": "2025-06-01"}
    everything = api.post("/api/ask", json=body)
    assert retrieved_ids(everything.json()) == set(ARTICLES)
    reply = api.post("/api/ask", json={**body, "since": "2025-05-02", "sources": ["ap"]})
    assert reply.status_code == 200, reply.text
    assert retrieved_ids(reply.json()) == {"ap-may10"}
    reply = api.post("/api/ask", json={**body, "until": "2025-05-10"})
    assert retrieved_ids(reply.json()) == {"reuters-may1", "ap-may10"}


def test_api_follow_up_keeps_the_filter(api: TestClient) -> None:
    history = [
        {"role": "user", "content": "Did the Halvern port strike start?"},
        {"role": "assistant", "content": "Port workers began a strike [1]."},
    ]
    body = {"question": "And then?", "history": history, "sources": ["Example News"]}
    reply = api.post("/api/ask", json=body)
    assert reply.status_code == 200, reply.text
    assert retrieved_ids(reply.json()) == {"example-may20"}


def test_api_stream_applies_the_filter(api: TestClient) -> None:
    body = {"question": QUESTION, "sources": ["REUTERS"]}
    with api.stream("POST", "/api/ask/stream", json=body) as reply:
        lines = [line for line in reply.iter_lines() if line.startswith("data:")]
    result = json.loads(lines[-1][5:])
    assert retrieved_ids(result) == {"reuters-may1", "reuters-undated"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"since": "2025-06-01", "until": "2025-05-01"}, "since 2025-06-01 is after until"),
        ({"since": "2025-13-01"}, "since"),
        ({"until": "9999-12-31"}, "until 9999-12-31 is out of range"),
        ({"as_of": "0001-01-01"}, "as of 0001-01-01 is out of range"),
        ({"sources": [f"s{i}" for i in range(MAX_SOURCES + 1)]}, "at most 20"),
        ({"sources": ["x" * 300]}, "longer than 200"),
    ],
)
def test_api_refuses_a_filter_it_cannot_use(
    refusing_api: TestClient, fields: dict[str, Any], message: str
) -> None:
    reply = refusing_api.post("/api/ask", json={"question": QUESTION, **fields})
    assert reply.status_code == 422
    assert message in json.dumps(reply.json())


# --- the CLI ------------------------------------------------------------------------------------


@pytest.fixture
def cli_store(clean_environ: Path, embedder: LocalMiniLMEmbeddings, monkeypatch: Any) -> Path:
    """The CLI's own data dir with the articles, and the scripted model instead of the local one."""
    put(open_store(clean_environ, embedder))
    monkeypatch.setattr("newsbot.factories.build_llm", lambda settings, *_: scripted_model())
    return clean_environ


def test_cli_ask_filters_by_source_and_date(cli_store: Path) -> None:
    from newsbot.cli import cli

    args = ["ask", "--json", "--source", "ap", "--since", "2025-05-02", QUESTION]
    run = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert run.exit_code == 0, run.output
    assert retrieved_ids(json.loads(run.stdout)) == {"ap-may10"}
    # Relative days count back from --as-of.
    args = ["ask", "--json", "--as-of", "2025-05-21", "--since", "2d", QUESTION]
    run = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert retrieved_ids(json.loads(run.stdout)) == {"example-may20"}


def test_a_since_after_the_as_of_day_is_refused_not_answered_with_nothing(
    cli_store: Path, refusing_api: TestClient
) -> None:
    """Found by a review: `--as-of 2025-01-01 --since 2025-06-01` answered "no stored article
    published since 2025-06-01 matches", though one did."""
    from newsbot.cli import cli

    told = "since 2025-06-01 is after the day the question is asked as of, 2025-01-01"
    with pytest.raises(InputError, match=told):
        Question("Q?", as_of=date(2025, 1, 1), filters=SearchFilter(since=date(2025, 6, 1)))
    args = ["ask", "--as-of", "2025-01-01", "--since", "2025-06-01", QUESTION]
    run = CliRunner().invoke(cli, args)
    assert run.exit_code != 0
    assert told.capitalize() in run.output
    assert "Traceback" not in run.output
    body = {"question": QUESTION, "as_of": "2025-01-01", "since": "2025-06-01"}
    reply = refusing_api.post("/api/ask", json=body)
    assert reply.status_code == 422  # as the API's other refused filters
    assert told in json.dumps(reply.json())


def test_an_unknown_source_lists_the_stored_ones_without_a_blank_name(
    cli_store: Path, embedder: LocalMiniLMEmbeddings
) -> None:
    """Found by a review: an article with no source showed as an empty name in the list."""
    from newsbot.cli import cli

    meta = ArticleMeta("nameless", "nameless", "", "", "2025-05-03", "nameless")
    open_store(cli_store, embedder).put_articles([(meta, [ChunkText(0, "Text.", 0, 5, 2)])])
    run = CliRunner().invoke(cli, ["ask", "--source", "Nowhere", QUESTION])
    assert run.exit_code == 2
    assert "stored sources: AP, Example News, REUTERS, Reuters\n" in run.output, run.output
    assert ": ," not in run.output


def test_cli_chat_keeps_the_filter_for_follow_ups(cli_store: Path) -> None:
    from newsbot.cli import cli

    questions = f"{QUESTION}\nAnd then?\n"
    run = CliRunner().invoke(
        cli, ["chat", "--json", "--source", "Reuters"], input=questions, catch_exceptions=False
    )
    assert run.exit_code == 0, run.output
    results = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(results) == 2
    assert all(retrieved_ids(r) == {"reuters-may1", "reuters-undated"} for r in results)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2025-13-01"], "Invalid value for --since: '2025-13-01' is not a date"),
        (["--until", "yesterday"], "Invalid value for --until: 'yesterday' is not a date"),
        (["--as-of", "9999-12-31"], "'--as-of': 9999-12-31 is out of range: use a day from"),
        (["--as-of", "1900-01-05", "--since", "7d"], "--since: 1899-12-29 is out of range"),
        (["--since", "2025-06-01", "--until", "2025-05-01"], "since 2025-06-01 is after until"),
    ],
)
def test_cli_bad_filter_is_a_usage_error(args: list[str], message: str) -> None:
    from newsbot.cli import cli

    for command in (["ask", *args, QUESTION], ["chat", *args]):
        run = CliRunner().invoke(cli, command, input="")
        assert run.exit_code == 2
        errors = [line for line in run.stderr.splitlines() if line.startswith("Error")]
        assert errors == [errors[0]]
        assert message in errors[0]
        assert "Traceback" not in run.output


# --- the chat page and the widget: filters from the page's URL ---------------------------------


class Recording:
    """The real store, remembering what each search returned."""

    def __init__(self, store: NewsStore) -> None:
        self.store = store
        self.found: list[set[str]] = []

    def search(
        self,
        query: str,
        k: int,
        published_before: date | None = None,
        filters: SearchFilter | None = None,
    ) -> list[Passage]:
        passages = self.store.search(query, k, published_before, filters)
        self.found.append(ids(passages))
        return passages


@pytest.fixture(scope="module")
def serving(
    tmp_path_factory: pytest.TempPathFactory, embedder: LocalMiniLMEmbeddings
) -> Iterator[tuple[str, Recording]]:
    """One server for the widget tests: they only search, and each starts with no searches."""
    news = open_store(tmp_path_factory.mktemp("served") / "store", embedder)
    put(news)
    recording = Recording(news)
    app = build_app(
        Assistant(recording, scripted_model(), load_prompts(), **assistant_options(k=10))
    )
    with serving_in_thread(app) as url:
        yield url, recording


@pytest.fixture
def served(serving: tuple[str, Recording]) -> tuple[str, Recording]:
    serving[1].found.clear()
    return serving


def test_widget_url_parameters_filter_the_chat_and_its_follow_ups(
    served: tuple[str, Recording],
) -> None:
    url, recording = served
    query = "since=2025-05-02&source=ap&source=Example%20News"
    done = gradio_event(f"{url}/widget", "chat", [QUESTION, []], page_query=query)
    assert done["success"], done
    assert recording.found[-1] == {"ap-may10", "example-may20"}
    history = [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": "The strike went on [1]."},
    ]
    done = gradio_event(f"{url}/widget", "chat", ["And then?", history], page_query=query)
    assert done["success"], done
    assert recording.found[-1] == {"ap-may10", "example-may20"}
    # The full chat page reads them too; without parameters nothing is filtered.
    gradio_event(url, "chat", [QUESTION, []], page_query="until=2025-05-01")
    assert recording.found[-1] == {"reuters-may1"}
    gradio_event(url, "chat", [QUESTION, []])
    assert recording.found[-1] == set(ARTICLES)


def test_widget_url_with_a_bad_filter_says_so(served: tuple[str, Recording]) -> None:
    url, recording = served
    done = gradio_event(f"{url}/widget", "chat", [QUESTION, []], page_query="since=2025-13-01")
    assert not done["success"]
    assert "page's URL" in json.dumps(done)
    assert "is not a date" in json.dumps(done)
    assert recording.found == []


def test_relative_days_in_a_widget_url_count_from_today(served: tuple[str, Recording]) -> None:
    url, recording = served
    days = (date.today() - date(2025, 5, 10)).days
    gradio_event(f"{url}/widget", "chat", [QUESTION, []], page_query=f"since={days}d&until={days}d")
    assert recording.found[-1] == {"ap-may10"}
