"""More on this story: `NewsStore.related` over a real Chroma store and the bundled embedder, on
articles written for it (tests/related_stories.py)."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from bot.answer.assistant import Assistant, Question
from bot.answer.grounding import REFUSAL
from bot.answer.result import AnswerResult
from bot.terminal import run_chat
from bot.web import build_app
from bot.web.chat import answer_messages, history_turns
from bot.web.render import related_html
from prompts import load_prompts
from tests.fixtures_llm import assistant_options
from tests.fixtures_store import open_news_store
from tests.related_stories import ALL, BRIDGE, RECALL, STRIKE
from vectorstore.embeddings import LocalMiniLMEmbeddings
from vectorstore.records import ArticleMeta, ChunkText, RelatedArticle, SearchFilter
from vectorstore.store import NewsStore


def put_stories(store: NewsStore, stories: list[tuple[str, str, str, str | None, str]]) -> None:
    items = []
    for article_id, title, source, published, text in stories:
        chunks, start = [], 0
        for index, paragraph in enumerate(text.split("\n\n")):
            start = text.index(paragraph, start)
            chunks.append(ChunkText(index, paragraph, start, start + len(paragraph), 60))
        digest = hashlib.sha256(text.encode()).hexdigest()
        url = f"https://news.example/{article_id}" if article_id != "bridge-2" else ""
        items.append((ArticleMeta(article_id, title, url, source, published, digest), chunks))
    store.put_articles(items)


def open_store(path: Path, embedder: LocalMiniLMEmbeddings) -> NewsStore:
    return open_news_store(path, embedder)


@pytest.fixture(scope="module")
def store(
    tmp_path_factory: pytest.TempPathFactory, embedder: LocalMiniLMEmbeddings
) -> Iterator[NewsStore]:
    with closing(open_store(tmp_path_factory.mktemp("related"), embedder)) as opened:
        put_stories(opened, ALL)
        yield opened


def ids(found: list) -> list[str]:  # type: ignore[type-arg]
    return [article.article_id for article in found]


def test_a_story_s_other_articles_newest_first_without_the_cited(store: NewsStore) -> None:
    found = store.related(["bridge-1"], k=3)
    assert ids(found) == ["bridge-4", "bridge-3", "bridge-2"]
    assert found[0].title == BRIDGE[3][1]
    assert found[0].source == "Oss Valley News"
    assert found[0].published == "2026-05-09"
    assert found[0].url == "https://news.example/bridge-4"
    assert found[2].url == ""  # bridge-2 has none
    assert all(0.5 <= article.similarity <= 1.0 for article in found)


def test_other_stories_of_the_same_kind_are_not_shown(store: NewsStore) -> None:
    assert ids(store.related(["recall-2"], k=3)) == ["recall-3", "recall-1"]
    assert ids(store.related(["strike-1"], k=3)) == ["strike-2"]
    assert store.related(["tunnel"], k=3) == []  # beside the bridge story, not part of it
    assert store.related(["football"], k=3) == []


def test_several_cited_articles_and_k(store: NewsStore) -> None:
    assert ids(store.related(["bridge-1", "bridge-2"], k=3)) == ["bridge-4", "bridge-3"]
    assert len(store.related(["bridge-3"], k=1)) == 1
    assert store.related(["bridge-1"], k=0) == []
    assert store.related([], k=3) == []
    assert store.related(["no-such-article"], k=3) == []


def test_nothing_published_after_the_answer_date(store: NewsStore) -> None:
    found = store.related(["bridge-1"], k=3, as_of=date(2026, 3, 31))
    assert ids(found) == ["bridge-3", "bridge-2"]


def test_only_what_the_questions_filters_let_a_search_return(store: NewsStore) -> None:
    """Found by a review: asked `until` a day, the list showed the story's later articles."""
    until = SearchFilter(until=date(2026, 3, 10))
    assert ids(store.related(["bridge-1"], k=3, filters=until)) == ["bridge-2"]
    courier = SearchFilter(sources=("brackwater courier",))  # case ignored, as in a search
    assert ids(store.related(["bridge-1"], k=3, filters=courier)) == ["bridge-3"]
    since = SearchFilter(since=date(2026, 3, 4))
    assert ids(store.related(["bridge-1"], k=3, as_of=date(2026, 3, 31), filters=since)) == [
        "bridge-3",
        "bridge-2",
    ]
    assert store.related(["bridge-1"], k=3, filters=SearchFilter(sources=("Nobody",))) == []


def test_an_article_stored_twice_is_shown_once(
    tmp_path: Path, embedder: LocalMiniLMEmbeddings
) -> None:
    store = open_store(tmp_path, embedder)
    same_title = ("recall-1-copy", *RECALL[0][1:])
    same_text = ("recall-1-retitled", "Cereal maker pulls oat clusters", *RECALL[0][2:])
    put_stories(store, [*RECALL, same_title, same_text, *STRIKE])

    found = ids(store.related(["recall-2"], k=3))
    assert len(found) == 2
    assert found[0] == "recall-3"
    assert found[1] in ("recall-1", "recall-1-copy", "recall-1-retitled")
    assert ids(store.related(["recall-1"], k=3)) == ["recall-3", "recall-2"]  # not its copies


# --- under an answer: the assistant, the API, the terminal, the web --------------------------

QUESTION = "How many vehicles a day crossed the Marrow Street bridge?"
GROUNDED = "The crossing was used by about 18,000 vehicles a day [1]."
ANSWER_DAY = date(2026, 3, 31)


def assistant_saying(store: NewsStore, text: str) -> Assistant:
    llm = GenericFakeChatModel(messages=itertools.repeat(AIMessage(content=text)))
    return Assistant(store, llm, load_prompts(), **assistant_options(k=3))


def test_a_grounded_answer_carries_more_on_its_story(store: NewsStore) -> None:
    result = assistant_saying(store, GROUNDED).ask(Question(QUESTION, as_of=ANSWER_DAY))

    assert result.grounded, result.refused_by
    assert [s.article_id for s in result.sources] == ["bridge-1"]
    # bridge-4 (May) is after the answer's date; the cited article is not repeated.
    assert ids(result.related) == ["bridge-3", "bridge-2"]
    assert "related_s" in result.timings
    assert result.to_dict()["related"][0] == {
        "article_id": "bridge-3",
        "title": BRIDGE[2][1],
        "url": "https://news.example/bridge-3",
        "source": "Brackwater Courier",
        "published": "2026-03-12",
        "similarity": result.related[0].similarity,
    }
    # The question's filters hold for the list too (the assistant passed only its date).
    courier = SearchFilter(sources=("Brackwater Courier",))
    filtered = assistant_saying(store, GROUNDED).ask(
        Question(QUESTION, as_of=ANSWER_DAY, filters=courier)
    )
    assert filtered.grounded, filtered.refused_by
    assert ids(filtered.related) == ["bridge-3"]


def test_a_refusal_has_no_more_on_the_story(store: NewsStore) -> None:
    result = assistant_saying(store, REFUSAL).ask(Question(QUESTION, as_of=ANSWER_DAY))

    assert not result.grounded
    assert result.related == []


def test_the_api_returns_related_in_the_result_and_the_stream(store: NewsStore) -> None:
    client = TestClient(
        build_app(assistant_saying(store, GROUNDED)), base_url="http://127.0.0.1:7860"
    )
    body = {"question": QUESTION, "as_of": ANSWER_DAY.isoformat()}

    reply = client.post("/api/ask", json=body).json()
    assert [a["article_id"] for a in reply["related"]] == ["bridge-3", "bridge-2"]

    stream = client.post("/api/ask/stream", json=body).text
    result = json.loads(stream.strip().split("\n\n")[-1].split("data: ", 1)[1])
    assert [a["title"] for a in result["related"]] == [BRIDGE[2][1], BRIDGE[1][1]]


def test_the_terminal_prints_more_on_the_story_under_the_sources(store: NewsStore) -> None:
    out = io.StringIO()
    run_chat(
        assistant_saying(store, GROUNDED),
        io.StringIO(QUESTION + "\n"),
        out,
        is_tty=False,
        as_of=ANSWER_DAY,
    )
    text = out.getvalue()
    assert text.index("Sources:") < text.index("More on this story:")
    below = text.split("More on this story:", 1)[1].strip().splitlines()
    assert below[:2] == [
        f"- {BRIDGE[2][1]} (Brackwater Courier, 2026-03-12) https://news.example/bridge-3",
        f"- {BRIDGE[1][1]} (Oss Valley News, 2026-03-05)",
    ]

    json_out = io.StringIO()
    run_chat(
        assistant_saying(store, GROUNDED),
        io.StringIO(QUESTION + "\n"),
        json_out,
        is_tty=False,
        json_mode=True,
        as_of=ANSWER_DAY,
    )
    related = json.loads(json_out.getvalue())["related"]
    assert [a["article_id"] for a in related] == ["bridge-3", "bridge-2"]


def test_the_web_shows_more_on_the_story_escaped() -> None:
    hostile = RelatedArticle(
        article_id="x",
        title='<img src=x onerror="alert(1)"> Bridge',
        url="javascript:alert(1)",
        source="<b>Site</b>",
        published="2026-03-12T08:00:00",
        similarity=0.7,
    )
    safe = replace(hostile, title="Ferry & bridge", url="https://news.example/a?b=1&c=2")
    block = related_html([hostile, safe])

    assert "<img" not in block
    assert "<b>" not in block
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; Bridge" in block
    assert 'href="javascript' not in block
    assert '<a href="https://news.example/a?b=1&amp;c=2"' in block
    assert "Ferry &amp; bridge" in block
    assert "2026-03-12" in block
    assert "08:00" not in block
    assert related_html([]) == ""

    result = AnswerResult(GROUNDED, [], True, QUESTION, QUESTION, "2026-03-31", related=[safe])
    messages = answer_messages(result)
    assert messages[-1]["metadata"] == {"title": "More on this story (1)"}
    assert messages[-1]["content"] == related_html([safe])
    # Not part of the conversation a follow-up is read with: only the answer is.
    assert history_turns(messages) == [{"role": "assistant", "content": GROUNDED}]
