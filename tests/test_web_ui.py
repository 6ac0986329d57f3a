"""The chat page, the widget and the embed page as a reader sees them, at 1280x800 and 390x844.

Real store and embedder, real app and HTTP server, real Chromium; the chat model is scripted
(langchain-core's GenericFakeChatModel) because these tests are about what the page shows: the
header and what the library holds, example chips that ask, citations that lead to their marked
source, a placeholder that stays, a Library table that fits a phone, a widget that fills the
screen, and no horizontal scrolling. One of the two articles is hostile (markup in its title and
text) and has no url, date or source. Few page loads per size, to keep the browser suite quick.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from playwright.sync_api import Browser, Page

from bot.answer.assistant import Assistant
from bot.answer.result import AnswerResult, Source
from bot.web import build_app
from bot.web.chat import answer_messages, history_turns
from bot.web.chat_box import INPUT_PLACEHOLDER
from bot.web.knowledge import KnowledgeHint, knowledge_line, read_knowledge
from bot.web.render import result_markdown, result_sources_html, sources_html
from bot.web.server import serving_in_thread
from ingest.pipeline import ingest
from prompts import load_prompts
from tests.fixtures_llm import assistant_options
from tests.test_web_api import make_store, store_library
from tests.test_web_browser import (
    BOT_ANSWER,
    assert_nothing_ran,
    browser,
    host_url,
    open_page,
)

__all__ = ["browser", "host_url"]  # shared fixtures of test_web_browser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning"),
]

FERRY = (
    "---\ntitle: Island ferry adds an early crossing\nsource: Bay Courier\n"
    "date: 2025-05-10\nurl: https://example.org/ferry\n---\n"
    "The island ferry will add an early crossing at six in the morning from June, the operator "
    "said on Friday. Commuters had asked for it for two years. "
    "The new crossing costs the same as the others, and the last ferry still leaves at ten."
)
FERRY_CITED = (
    "The island ferry will add an early crossing at six in the morning from June, the operator "
    "said on Friday."
)
# A text file: its text is stored as written, tags and all (JSON text with tags is read as HTML).
HOSTILE = (
    "---\ntitle: <img src=x onerror=\"window.__xss='title'\">Harbour council approves pier budget\n"
    "---\nThe harbour council approved a budget of four million for two new piers on Monday. "
    '<script>window.__xss="text"</script> Work on the piers starts in June.\n'
)
QUESTION = "When does the new ferry crossing leave?"
ANSWER = (
    "The island ferry will add an early crossing at six in the morning from June [1]. "
    "The harbour council approved a budget of four million for two new piers [2]."
)
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory, host_url: str) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("ui")
    ferry = data_dir / "ferry.md"
    ferry.write_text(FERRY, encoding="utf-8")
    hostile = data_dir / "hostile.txt"
    hostile.write_text(HOSTILE, encoding="utf-8")
    store = make_store(data_dir, [ferry, hostile])
    llm = GenericFakeChatModel(messages=itertools.cycle([AIMessage(content=ANSWER)]))
    app = build_app(
        Assistant(store, llm, load_prompts(), **assistant_options(k=3)),
        store_library(store, data_dir),
        examples=[QUESTION, "What did the harbour council approve?"],
        allowed_origins=[host_url],
        catalog=store,  # as `newsbot serve` passes it: the header, and stored articles' pages
    )
    with serving_in_thread(app) as url:
        yield url


@pytest.fixture(params=list(SIZES), ids=list(SIZES))
def sized_page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    page = open_page(browser, *SIZES[request.param])
    yield page
    page.context.close()


def overflow(page: Page) -> list[int]:
    """[scrollWidth, innerWidth] of the page: the first must not exceed the second."""
    widths: list[int] = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    return widths


CONTRAST = """(el) => {
    const rgb = (s) => s.match(/[\\d.]+/g).map(Number);
    const lum = ([r, g, b]) => {
        const f = (c) => {
            c /= 255;
            return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
        };
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    let bg = el;
    const clear = (e) => rgb(getComputedStyle(e).backgroundColor).concat([1])[3] === 0;
    while (bg && clear(bg)) bg = bg.parentElement;
    const back = bg ? rgb(getComputedStyle(bg).backgroundColor) : [255, 255, 255];
    const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(back)].sort((x, y) => y - x);
    return [(a + 0.05) / (b + 0.05), parseFloat(getComputedStyle(el).fontSize)];
}"""

CITED_TARGET = """(cite) => {
    const target = document.querySelector(':target');
    if (!target) return null;
    const box = target.getBoundingClientRect();
    return {
        id: target.id,
        sameAnswer: cite.closest('.bot').contains(target),
        inView: box.top >= 0 && box.top < window.innerHeight,
        background: getComputedStyle(target).backgroundColor,
        others: [...document.querySelectorAll('.nb-source:not(:target)')]
            .map((li) => getComputedStyle(li).backgroundColor),
    };
}"""


def test_chat_page_names_itself_and_its_citations_lead_to_marked_sources(
    sized_page: Page, app_url: str
) -> None:
    page = sized_page
    page.goto(app_url + "/")
    header = page.locator("#nb-header")
    header.wait_for(timeout=60_000)
    assert page.locator("#nb-header h1").inner_text() == "newsbot"
    # What it does: the empty chat's placeholder.
    assert "news" in page.locator("#nb-chatbot .placeholder-content").inner_text()
    knows = " ".join(page.locator("#nb-knowledge").inner_text().split())
    assert "2 articles" in knows
    assert "10 May 2025" in knows
    assert "Bay Courier" in knows
    box = page.locator("#nb-input textarea")
    assert box.get_attribute("placeholder") == INPUT_PLACEHOLDER

    # The example questions are buttons; a click asks.
    chips = page.get_by_role("button", name=QUESTION)
    assert chips.count() == 1
    chips.click()
    sources = page.locator(".nb-sources")
    sources.wait_for(timeout=60_000)
    page.wait_for_function(
        "() => !document.querySelector('#nb-input textarea').disabled", timeout=30_000
    )
    assert "early crossing" in page.locator(BOT_ANSWER).first.inner_text()
    assert box.get_attribute("placeholder") == INPUT_PLACEHOLDER

    # [1] is a link; a click brings source 1 of this answer into view, highlighted.
    cite = page.locator("a.nb-cite", has_text="[1]").first
    assert cite.get_attribute("href", timeout=5_000)
    cite.click()
    page.wait_for_timeout(600)  # smooth scrolling, if any
    target = cite.evaluate(CITED_TARGET)
    assert target is not None, "the click did not reach a source"
    assert target["id"].endswith("-1")
    assert target["sameAnswer"], target
    assert target["inView"], target
    assert target["background"] != "rgba(0, 0, 0, 0)"
    assert target["background"] not in target["others"]

    # The cited sentence is marked, the passage is readable, missing details leave no trace.
    first, second = page.locator(".nb-source").nth(0), page.locator(".nb-source").nth(1)
    assert " ".join(first.locator("mark").first.inner_text().split()) == FERRY_CITED
    assert "Commuters" not in " ".join(first.locator("mark").all_inner_texts())
    for part in ("blockquote", "mark"):  # the marked sentence as readable as the rest
        ratio, size = first.locator(part).first.evaluate(CONTRAST)
        assert ratio >= 4.5, (part, ratio)
        assert size >= 14, (part, size)
    assert "Harbour council approves pier budget" in second.inner_text()
    assert second.locator(".nb-meta, .nb-url").count() == 0
    shown = second.inner_text()
    assert "()" not in shown
    assert "·" not in shown
    assert "None" not in shown

    # The placeholder is still there after the question was typed and answered.
    answers = page.locator(BOT_ANSWER).count()
    box.fill("What did the harbour council approve?")
    box.press("Enter")
    page.wait_for_function(
        """([selector, before]) => document.querySelectorAll(selector).length > before
            && !document.querySelector('#nb-input textarea').disabled""",
        arg=[BOT_ANSWER, answers],
        timeout=60_000,
    )
    assert box.get_attribute("placeholder") == INPUT_PLACEHOLDER
    width, inner = overflow(page)
    assert width <= inner

    # The Library tab: every column (the Id too) inside the screen, no inner scroll box.
    page.get_by_role("tab", name="Library").click()
    page.locator("#nb-articles table").wait_for()
    ids = page.locator("#nb-articles code")
    assert ids.count() == 2
    for i in range(2):
        found = ids.nth(i).bounding_box()
        assert found is not None
        assert 0 <= found["x"] <= found["x"] + found["width"] <= inner, found
    titles = page.locator("#nb-articles td:first-child")
    line = float(titles.first.evaluate("e => parseFloat(getComputedStyle(e).lineHeight) || 20"))
    for i in range(2):
        found = titles.nth(i).bounding_box()
        assert found is not None
        assert found["height"] <= 3 * line, (found, line)
    hidden = page.locator(".nb-articles-box").evaluate_all(
        "boxes => boxes.map((e) => e.scrollHeight - e.clientHeight)"
    )
    assert max(hidden) <= 1, f"an inner scroll box hides {hidden} px"
    width, inner = overflow(page)
    assert width <= inner
    assert_nothing_ran(page)


def test_widget_fills_the_screen_and_the_embed_page_fits(
    sized_page: Page, app_url: str, host_url: str
) -> None:
    page = sized_page
    page.goto(app_url + "/widget/")
    box = page.locator("textarea")
    box.wait_for(timeout=60_000)
    page.wait_for_timeout(300)
    height = page.evaluate("window.innerHeight")
    chat = page.locator("#nb-widget-chatbot").bounding_box()
    bottom = box.bounding_box()
    assert chat
    assert bottom
    assert chat["height"] >= 0.6 * height, (chat, height)
    assert bottom["y"] + bottom["height"] >= height - 80, "blank space under the input"
    assert page.get_by_role("button", name=QUESTION).count() == 1
    width, inner = overflow(page)
    assert width <= inner

    page.goto(f"{host_url}/embed.html?server={app_url}")
    component = page.locator("gradio-app")
    component.locator("textarea").wait_for(timeout=60_000)
    page.frame_locator("#newsbot-iframe").locator("textarea").wait_for(timeout=60_000)
    width, inner = overflow(page)
    assert width <= inner
    element = component.bounding_box()
    inside = component.locator("textarea").bounding_box()
    assert element
    assert inside
    # The web component's chat fills its element too (the input sits at its bottom).
    assert inside["y"] + inside["height"] >= element["y"] + element["height"] - 80
    assert_nothing_ran(page)


# --- without a browser: the pieces behind the page ------------------------------------------


def _source(n: int, passage: str, **details: Any) -> Source:
    values: dict[str, Any] = {"title": f"Article {n}", "url": "", "source": "", "published": None}
    values.update(details)
    return Source(n, f"a{n}", passage=passage, char_start=0, char_end=1, score=0.5, **values)


def test_cited_sentences_are_marked_and_everything_stays_escaped() -> None:
    passage = (
        "Ministers met in Islamabad on Monday. Both <b>sides</b> agreed to run joint "
        "operations against visa fraud networks. The talks resume in June."
    )
    answer = "Both sides agreed to joint operations against visa fraud [1]. More [2]."
    start = passage.index("Both")
    quoted = (start, passage.index("The talks"))  # the check's span for [1] (Source.quotes)
    other = "A <i>long</i> sentence"
    result = AnswerResult(
        answer,
        [
            _source(1, passage, url="javascript:alert(1)", quotes=[quoted]),
            _source(2, other, quotes=[(0, len(other))]),
        ],
        True,
        "q",
        "q",
        "2025-05-12",
    )
    block = result_sources_html(result)
    assert "<mark>Both &lt;b&gt;sides&lt;/b&gt; agreed to run joint operations" in block
    assert block.count("<mark>") == 2  # source 1's sentence; source 2 whole
    assert "<b>" not in block
    assert "<i>" not in block
    assert 'href="javascript' not in block
    assert "()" not in block

    text = result_markdown(result)
    key = text.split('href="#nb-')[1].split("-")[0]
    assert f'<a class="nb-cite" href="#nb-{key}-1">[1]</a>' in text
    assert f'id="nb-{key}-1"' in block
    assert f'id="nb-{key}-2"' in block
    # Back in the history the model sees its own text, not the links.
    turns = history_turns([{"role": "assistant", "content": answer_messages(result)[0]["content"]}])
    assert turns == [{"role": "assistant", "content": answer}]


def test_a_passage_does_not_repeat_the_headline_above_it() -> None:
    title = "Brightwell recalls 120,000 smart kettles over overheating fault"
    passage = f"{title}\n\nHome appliance maker Brightwell is recalling 120,000 kettles."
    cited = (passage.index("Home"), len(passage))
    block = sources_html([_source(1, passage, title=title, quotes=[(0, 10), cited])])
    shown = block.split("<blockquote>")[1]
    assert shown.startswith("<mark>Home appliance maker Brightwell is recalling")
    assert "fault Home" not in block
    assert title in block.split("<blockquote>")[0]  # once, as the heading
    # Sentences chosen from the article are joined by spaces: the headline goes all the same.
    joined = sources_html([_source(1, passage.replace("\n\n", " "), title=title)])
    assert "<blockquote>Home appliance maker" in joined
    # A passage that only starts with the same words keeps them.
    same = f"{title} was the headline everywhere."
    assert same in sources_html([_source(1, same, title=title)])


def test_unknown_markers_stay_text() -> None:
    result = AnswerResult("A claim [3].", [_source(1, "p")], True, "q", "q", "2025-05-12")
    assert "nb-cite" not in result_markdown(result)  # no source 3: no link to nowhere


def test_knowledge_hint_reads_the_store_and_sees_new_articles(tmp_path: Path) -> None:
    store = make_store(tmp_path / "data", [])
    assert "No articles yet" in knowledge_line(read_knowledge(store))
    first = tmp_path / "a.md"
    first.write_text(
        "---\ntitle: A\nsource: <b>Bay</b> Courier\ndate: 2025-05-10\n---\nThe ferry sails.\n",
        encoding="utf-8",
    )
    second = tmp_path / "b.md"
    second.write_text(
        "---\ntitle: B\nsource: Harbour Post\ndate: 2025-06-02\n---\nThe pier opens.\n",
        encoding="utf-8",
    )
    hint = KnowledgeHint(store, ttl=0.0)
    ingest([str(first)], store, tiktoken_cache_dir=tmp_path / "tiktoken")
    assert hint().startswith("<strong>1 article</strong> from 10 May 2025")
    assert "&lt;b&gt;Bay&lt;/b&gt; Courier" in hint()
    ingest([str(second)], store, tiktoken_cache_dir=tmp_path / "tiktoken")
    time.sleep(0.01)
    shown = hint()
    assert shown.startswith("<strong>2 articles</strong> from 10 May 2025 to 2 Jun 2025")
    assert "Harbour Post" in shown


def test_the_header_says_what_it_knows_without_the_library_tab(tmp_path: Path) -> None:
    from bot.web.limits import AnswerGate
    from bot.web.ui import build_chat_blocks

    store = make_store(tmp_path / "data", [])
    llm = GenericFakeChatModel(messages=iter([]))

    async def build() -> Any:  # in a running loop, as build_app does: Gradio leaks loops otherwise
        return build_chat_blocks(
            Assistant(store, llm, load_prompts(), **assistant_options()),
            None,
            gate=AnswerGate(1, 1, 1.0),
            catalog=store,
        )

    with ThreadPoolExecutor(1) as pool:  # a thread of its own: Playwright's loop runs in this one
        blocks = pool.submit(asyncio.run, build()).result()
    ids = {getattr(block, "elem_id", None) for block in blocks.blocks.values()}
    assert "nb-knowledge" in ids  # what it knows, read from the store
    assert "nb-library-tab" not in ids  # and no ingest or delete
