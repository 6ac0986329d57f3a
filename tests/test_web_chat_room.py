"""The chat as a reader keeps it open, at 1280x800 and 390x844, in real Chromium: room to read,
a conversation that survives a reload, copies as Markdown with its sources and clears, plain-text
labels for screen readers, sources whose heading and passage stand apart and whose stored text
opens in the app, and no serious or critical axe-core finding on the chat, the Library and the
widget. The app, store and scripted model are `tests/test_web_ui.py`'s.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page

from bot.web.chat_box import COPY_LABEL
from tests.test_web_browser import BOT_ANSWER, ask, assert_nothing_ran, browser, host_url
from tests.test_web_ui import FERRY_CITED, QUESTION, app_url, sized_page

__all__ = ["app_url", "browser", "host_url", "sized_page"]  # shared fixtures

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning"),
]

MIN_CHAT_SHARE = 0.70
"""The least share of the screen's height the conversation gets once it has messages."""
ROOM = """() => {
    const box = (s) => document.querySelector(s).getBoundingClientRect();
    const chat = box('#nb-chatbot'), input = box('#nb-input');
    return {share: chat.height / innerHeight, inputBottom: input.bottom, screen: innerHeight,
            page: document.scrollingElement.scrollHeight};
}"""


def wait_until_answered(page: Page, answers: int = 0) -> None:
    """Wait for more than `answers` answers, the last one with its sources, and the input back."""
    page.wait_for_function(
        """([selector, before]) => document.querySelectorAll(selector).length > before
            && document.querySelector('.nb-sources')
            && !document.querySelector('#nb-input textarea').disabled""",
        arg=[BOT_ANSWER, answers],
        timeout=60_000,
    )


def ask_first_question(page: Page, app_url: str) -> Locator:
    """Open the chat, ask QUESTION and wait for its answer; the input box."""
    page.goto(app_url + "/")
    box = page.locator("#nb-input textarea")
    ask(box, QUESTION)
    wait_until_answered(page)
    return box


def read_clipboard(page: Page, holding: str) -> str:
    """The clipboard's text once it holds `holding` (a copy lands a moment after the click),
    read once per try: a text read in a wait and read again could differ."""
    deadline = time.monotonic() + 10
    while True:
        text: str = page.evaluate("navigator.clipboard.readText()")
        if holding in text or time.monotonic() > deadline:
            return text
        page.wait_for_timeout(100)


def serious(results: Any) -> list[str]:
    """axe-core's serious and critical violations, one line each (rule, impact, first target)."""
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes'][0]['target']}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_the_conversation_has_room_survives_a_reload_copies_and_clears(
    sized_page: Page, app_url: str
) -> None:
    page = sized_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    box = ask_first_question(page, app_url)
    page.wait_for_timeout(300)

    # Room to read: the conversation takes most of the screen, the input stays on it.
    room = page.evaluate(ROOM)
    assert room["share"] >= MIN_CHAT_SHARE, room
    assert room["inputBottom"] <= room["screen"], room
    assert room["page"] <= room["screen"] + 1, room  # the page itself does not scroll
    # The footer ends with its link, not a dangling dot; the header is one short block.
    assert not page.locator("footer").inner_text().strip().endswith("·")
    header = page.locator("#nb-header").bounding_box()
    assert header is not None
    assert header["height"] <= 60, header
    # Opening the filters shrinks the chat; the input stays on the screen.
    page.locator("#nb-filters").get_by_text("Filters", exact=True).click()
    picker = page.locator("#nb-source-filter input")
    picker.wait_for()
    page.wait_for_function(
        "() => document.querySelector('#nb-source-filter input').placeholder === 'All sources'",
        timeout=5_000,
    )
    room = page.evaluate(ROOM)
    assert room["inputBottom"] <= room["screen"], room
    page.locator("#nb-filters").get_by_text("Filters", exact=True).click()

    # Screen readers hear the messages as text, not as markup.
    labels = page.locator("[data-testid=bot]").evaluate_all(
        "nodes => nodes.map((n) => n.getAttribute('aria-label'))"
    )
    assert labels
    assert any("early crossing" in label for label in labels), labels
    markup = ("<a ", "<ol", "<li", "<mark", "<blockquote", 'class="nb-')
    assert not [label for label in labels if any(tag in label for tag in markup)], labels
    # A source's heading and its passage are read apart.
    assert any("Bay Courier · 2025-05-10. The island ferry" in label for label in labels), labels
    # The hostile article's markup is text in its passage, and read as such.
    assert any('<script>window.__xss="text"</script>' in label for label in labels), labels

    # Copy as Markdown: the question, the answer and its sources with links and passages.
    page.get_by_role("button", name=COPY_LABEL).click()
    copied = read_clipboard(page, "Sources")
    assert f"**Question:** {QUESTION}" in copied
    assert "early crossing at six in the morning from June [1]" in copied
    assert "[Island ferry adds an early crossing](<https://example.org/ferry>)" in copied
    assert "Bay Courier · 2025-05-10" in copied
    assert FERRY_CITED in copied
    assert "Harbour council approves pier budget" in copied
    assert "<a " not in copied
    assert "\\<img src=x" in copied  # the hostile title stays text: escaped for Markdown
    before = page.locator(BOT_ANSWER).first.inner_text()

    # A reload brings the conversation back, with its sources.
    page.reload()
    page.locator(BOT_ANSWER).first.wait_for(timeout=60_000)
    assert page.locator(BOT_ANSWER).first.inner_text() == before
    assert page.locator(".nb-source").count() == 2
    # And it goes on: a follow-up is answered under it.
    answers = page.locator(BOT_ANSWER).count()
    box.fill("What did the harbour council approve?")
    box.press("Enter")
    wait_until_answered(page, answers)

    # Clear forgets it, here and after a reload.
    page.get_by_role("button", name="Clear", exact=True).click()
    page.wait_for_function("() => !document.querySelector('.nb-source')", timeout=10_000)
    page.wait_for_timeout(300)
    page.reload()
    page.get_by_role("button", name=QUESTION).wait_for(timeout=60_000)  # the empty chat's chips
    page.wait_for_timeout(1_000)
    assert page.locator(BOT_ANSWER).count() == 0
    assert_nothing_ran(page)
    assert page.errors == []  # type: ignore[attr-defined]


def test_axe_finds_nothing_serious_in_the_chat_the_library_and_the_widget(
    sized_page: Page, app_url: str
) -> None:
    page = sized_page
    axe = Axe()
    ask_first_question(page, app_url)
    page.wait_for_timeout(300)
    found = {"chat": serious(axe.run(page))}

    page.get_by_role("tab", name="Library").click()
    page.locator("#nb-articles table").wait_for()
    found["library"] = serious(axe.run(page))

    page.goto(app_url + "/widget/")
    box = page.locator("textarea")
    box.wait_for(timeout=60_000)
    box.fill(QUESTION)
    box.press("Enter")
    page.locator(".nb-sources").wait_for(timeout=60_000)
    page.wait_for_timeout(300)
    found["widget"] = serious(axe.run(page))
    assert found == {"chat": [], "library": [], "widget": []}


def test_a_source_without_a_web_address_opens_its_stored_text(
    sized_page: Page, app_url: str
) -> None:
    page = sized_page
    ask_first_question(page, app_url)

    # Heading and passage apart: the passage starts below the heading line, and in the text.
    first = page.locator(".nb-source").first
    head = first.locator(".nb-source-head").bounding_box()
    quote = first.locator("blockquote").bounding_box()
    assert head is not None
    assert quote is not None
    assert quote["y"] >= head["y"] + head["height"] - 1, (head, quote)
    lines = [line.strip() for line in first.inner_text().splitlines() if line.strip()]
    assert lines[0] == "Island ferry adds an early crossing Bay Courier · 2025-05-10", lines
    assert lines[1].startswith("The island ferry will add"), lines

    # The hostile article came from a file with no url: its title opens its stored text.
    stored = page.locator(".nb-source").nth(1).locator("a.nb-stored")
    href = stored.get_attribute("href") or ""
    assert href.startswith("article/"), href
    with page.context.expect_page() as opened:
        stored.click()
    article = opened.value
    article.wait_for_load_state()
    assert article.url == f"{app_url}/{href}"
    assert "Harbour council approves pier budget" in article.locator("h1").inner_text()
    text = article.locator("main").inner_text()
    assert "four million for two new piers" in text
    assert '<script>window.__xss="text"</script>' in text  # shown as text, never run
    assert article.evaluate("typeof window.__xss") == "undefined"
    article.close()

    # The widget's copy of the link works from the frame; an unknown id is a plain 404.
    widget = httpx.get(f"{app_url}/widget/{href}")
    assert widget.status_code == 200
    assert "four million" in widget.text
    missing = httpx.get(f"{app_url}/article/nope")
    assert missing.status_code == 404
    assert "No stored article has that id" in missing.text
    for path in ("article/..%2F..%2Fetc%2Fpasswd", "article/%2Fetc%2Fpasswd"):  # ids, not paths
        assert httpx.get(f"{app_url}/{path}").status_code == 404, path
    assert_nothing_ran(page)
