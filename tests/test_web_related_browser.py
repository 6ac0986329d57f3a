"""More on this story in the chat, as a reader sees it, and the questions to ask next made from
it: real store and embedder, real app and HTTP server, real Chromium, a scripted chat model
(tests/test_related.py covers the rest)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from playwright.sync_api import Browser

from bot.answer.assistant import Assistant
from bot.web import build_app
from bot.web.server import serving_in_thread
from bot.web.suggest import next_question
from prompts import load_prompts
from tests.fixtures_llm import assistant_options
from tests.related_stories import BRIDGE, OTHERS
from tests.test_related import GROUNDED, QUESTION, open_store, put_stories
from tests.test_web_browser import BOT_ANSWER, ask, assert_nothing_ran, browser, open_page
from vectorstore.embeddings import LocalMiniLMEmbeddings
from vectorstore.store import NewsStore

__all__ = ["browser"]  # the shared fixture of test_web_browser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning"),
]


def serving_chat(store: NewsStore, answer: str) -> Iterator[str]:
    """The chat app over `store`, served on loopback, with a model that always says `answer`."""
    llm = GenericFakeChatModel(messages=itertools.cycle([AIMessage(content=answer)]))
    app = build_app(Assistant(store, llm, load_prompts(), **assistant_options(k=3)))
    with serving_in_thread(app) as url:
        yield url


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    embedder = LocalMiniLMEmbeddings(batch_size=8, threads=2)
    store = open_store(tmp_path_factory.mktemp("related-ui"), embedder)
    put_stories(store, BRIDGE + OTHERS)
    yield from serving_chat(store, GROUNDED)


def test_the_chat_shows_more_on_the_story_under_the_sources(browser: Browser, app_url: str) -> None:
    page = open_page(browser, 1280, 800)
    page.goto(app_url + "/")
    ask(page.locator("#nb-input textarea"), QUESTION)

    related = page.locator(".nb-related")
    related.wait_for(timeout=60_000)
    assert "18,000 vehicles" in page.locator(BOT_ANSWER).first.inner_text()
    assert page.get_by_text("More on this story (3)").is_visible()
    # Under the sources, newest first, linked, with source and date.
    sources_top = page.locator(".nb-sources").bounding_box()
    related_top = related.bounding_box()
    assert sources_top is not None
    assert related_top is not None
    assert related_top["y"] > sources_top["y"]
    items = related.locator("li")
    assert [" ".join(items.nth(i).inner_text().split()) for i in range(3)] == [
        f"{BRIDGE[3][1]} Oss Valley News · 2026-05-09",
        f"{BRIDGE[2][1]} Brackwater Courier · 2026-03-12",
        f"{BRIDGE[1][1]} Oss Valley News · 2026-03-05",
    ]
    link = items.nth(0).locator("a")
    assert link.get_attribute("href") == "https://news.example/bridge-4"
    assert "noopener" in (link.get_attribute("rel") or "")
    assert "Harlow" not in related.inner_text()  # the tunnel: another story

    # Questions to ask next, from the related headlines (no model call); a click asks one.
    suggested = page.get_by_role("button", name=next_question(BRIDGE[3][1]))
    suggested.wait_for()
    for story in BRIDGE[1:3]:
        assert page.get_by_role("button", name=next_question(story[1])).count() == 1
    answers = page.locator(BOT_ANSWER).count()
    suggested.click()
    page.get_by_text(next_question(BRIDGE[3][1]), exact=True).first.wait_for(timeout=10_000)
    page.wait_for_function(
        "([selector, before]) => document.querySelectorAll(selector).length > before",
        arg=[BOT_ANSWER, answers],
        timeout=60_000,
    )
    user_texts = page.locator("[data-testid=user]").all_inner_texts()
    assert next_question(BRIDGE[3][1]) in [" ".join(text.split()) for text in user_texts]
    assert_nothing_ran(page)
    assert page.errors == []  # type: ignore[attr-defined]
    page.context.close()


STRIKE_QUESTION = "Why did Halvern's bus and tram drivers go on strike?"
STRIKE_ANSWER = "The drivers went on strike over pay and shift patterns [1]."
STRIKE_TITLES = (
    "Halvern bus and tram drivers strike for 48 hours over pay",
    "Halvern transit strike ends with a deal on pay and split shifts",
)


@pytest.fixture(scope="module")
def samples_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sample articles ingested as `newsbot ingest examples/articles` does, through the
    product's factories; a scripted model answers about the strike."""
    from ingest.pipeline import ingest
    from newsbot.factories import build_store
    from newsbot.settings import get_settings
    from tests.conftest import EXAMPLES_DIR

    settings = get_settings(data_dir=tmp_path_factory.mktemp("related-samples"))
    store = build_store(settings)
    ingest([str(EXAMPLES_DIR)], store, tiktoken_cache_dir=settings.storage.data_dir / "tiktoken")
    yield from serving_chat(store, STRIKE_ANSWER)


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_the_samples_strike_story_shows_its_other_article(
    browser: Browser, samples_url: str, width: int, height: int
) -> None:
    """The samples cover one story twice (the Halvern strike and its end): the answer cites one,
    "More on this story" offers the other and nothing of the other stories."""
    page = open_page(browser, width, height)
    page.goto(samples_url + "/")
    ask(page.locator("#nb-input textarea"), STRIKE_QUESTION)

    related = page.locator(".nb-related")
    related.wait_for(timeout=60_000)
    cited = page.locator(".nb-sources").first.inner_text()
    offered = related.inner_text()
    assert [title in cited for title in STRIKE_TITLES].count(True) == 1, cited
    other = next(title for title in STRIKE_TITLES if title not in cited)
    assert other in offered, offered
    for elsewhere in ("Pakistan", "kettle", "silo", "climate"):
        assert elsewhere.lower() not in offered.lower(), offered
    page.close()
