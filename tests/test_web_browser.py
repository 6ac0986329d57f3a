"""The web app in a real browser: Debian's Chromium via Playwright (never `playwright install`).

One conversation runs on the real local model (the seed question, streamed, with a clickable
source, then a follow-up). The embedding, library and script-injection cases use the real store
and embedder with a scripted chat model (langchain-core's GenericFakeChatModel), so they are
quick and repeatable: they test what the browser shows, not what the model says.
"""

from __future__ import annotations

import html
import itertools
import json
import re
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import fastapi
import fastapi.responses
import pytest
from fastapi.staticfiles import StaticFiles
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from playwright.sync_api import Browser, Frame, FrameLocator, Locator, Page, expect, sync_playwright

from bot.answer.assistant import Assistant
from bot.llm.providers import make_chat_model
from bot.web import build_app
from bot.web.chat import STOPPED
from bot.web.server import serving_in_thread
from newsbot.errors import ModelError
from prompts import load_prompts
from tests.conftest import REPO, SEED_DIR
from tests.fixtures_llm import assistant_options
from tests.test_web_api import SEED_QUESTION, ScriptedAssistant, make_store, store_library
from vectorstore.records import RelatedArticle

pytestmark = [
    pytest.mark.browser,
    # Gradio's queue statistics use pandas options and keywords that pandas 3 deprecates.
    pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning"),
]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ANSWER_TIMEOUT_MS = 240_000
XSS_QUESTION = "What did the harbour council approve?"
XSS_TITLE = (
    '<script>window.__xss="title-script"</script>'
    "<img src=x onerror=\"window.__xss='title-img'\">Harbour council approves pier budget"
)
XSS_TEXT = (
    "The harbour council approved a budget of four million for two new piers on Monday. "
    '<script>window.__xss="text-script"</script> Residents can read the plan '
    '[on the council site](javascript:window.__xss="text-md-link") or '
    "<a href=\"javascript:window.__xss='text-a'\">here</a>. "
    "<img src=x onerror=\"window.__xss='text-img'\"> Work on the piers starts in June."
)
XSS_ANSWER = (
    "The harbour council approved a budget of four million for two new piers [1]. "
    '<script>window.__xss="answer-script"</script> '
    "<img src=x onerror=\"window.__xss='answer-img'\"> "
    '[Read the plan](javascript:window.__xss="answer-link") before work starts in June [1].'
)


# --- servers -------------------------------------------------------------------------------


def write_jsonl(path: Path, records: Sequence[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def scripted_url(tmp_path_factory: pytest.TempPathFactory, host_url: str) -> Iterator[str]:
    """Real store and embedder over the hostile article; the chat model replays XSS_ANSWER.

    The host page's origin (`host_url`) is the one configured origin allowed to frame the widget.
    """
    data_dir = tmp_path_factory.mktemp("xss-store")
    # A text file: its text is stored as written, tags and all (JSON text with tags is read as
    # HTML, which would take the payloads out before the chat could show them).
    hostile = data_dir / "hostile.txt"
    hostile.write_text(
        f'---\ntitle: {XSS_TITLE}\nurl: javascript:window.__xss="url"\n'
        "source: <b onmouseover=\"window.__xss='source'\">Harbour Post</b>\n"
        f"date: 2025-05-10\n---\n{XSS_TEXT}\n",
        encoding="utf-8",
    )
    store = make_store(data_dir, [hostile])
    llm = GenericFakeChatModel(messages=itertools.cycle([AIMessage(content=XSS_ANSWER)]))
    assistant = Assistant(store, llm, load_prompts(), **assistant_options(k=3))
    app = build_app(
        assistant,
        store_library(store, data_dir),
        examples=[XSS_QUESTION],
        allowed_origins=[host_url],
    )
    with serving_in_thread(app) as url:
        yield url


@pytest.fixture(scope="module")
def real_url(tmp_path_factory: pytest.TempPathFactory, local_llm: Any) -> Iterator[str]:
    """The seed article (read from ../shared, with a url added) and the real local model."""
    data_dir = tmp_path_factory.mktemp("seed-web")
    seed_text = next(SEED_DIR.glob("*.txt")).read_text(encoding="utf-8")
    seed = data_dir / "seed.txt"
    seed.write_text(
        "---\nurl: https://example.org/news/pakistan-us-visa-fraud\nsource: TDI\n---\n" + seed_text,
        encoding="utf-8",
    )
    store = make_store(data_dir, [seed])
    llm = make_chat_model("local", max_tokens=160, local_server_factory=lambda: local_llm)
    app = build_app(
        Assistant(store, llm, load_prompts(), **assistant_options(k=4)), examples=[SEED_QUESTION]
    )
    with serving_in_thread(app) as url:
        yield url


def frames_page(src: str) -> fastapi.responses.HTMLResponse:
    """A host page with one iframe of `src`."""
    return fastapi.responses.HTMLResponse(
        f'<!doctype html><iframe id="framed" src="{html.escape(src, quote=True)}" '
        'width="600" height="400"></iframe>'
    )


@pytest.fixture(scope="module")
def host_url() -> Iterator[str]:
    """A second origin serving examples/embed.html (and /frame?src=... for framing tests)."""
    host = fastapi.FastAPI()
    host.add_api_route("/frame", frames_page, methods=["GET"])
    host.mount("/", StaticFiles(directory=REPO / "examples"))
    with serving_in_thread(host) as url:
        yield url.replace("127.0.0.1", "localhost")


# --- the browser -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def open_page(browser: Browser, width: int = 1200, height: int = 900) -> Page:
    """A page in a context of its own that records dialogs (dismissed) and script errors."""
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.dialogs = []  # type: ignore[attr-defined]

    def on_dialog(dialog: Any) -> None:
        page.dialogs.append(dialog.message)  # type: ignore[attr-defined]
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda error: page.errors.append(str(error)))  # type: ignore[attr-defined]
    return page


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    page = open_page(browser)
    yield page
    page.context.close()


def ask(box: Locator, question: str) -> None:
    box.wait_for(timeout=60_000)
    box.fill(question)
    box.press("Enter")


def assert_nothing_ran(page: Page) -> None:
    """No payload set its flag or opened a dialog, in the page or any frame; no js: links."""
    assert page.dialogs == []  # type: ignore[attr-defined]
    frames: list[Frame] = page.frames
    for frame in frames:
        assert frame.evaluate("typeof window.__xss") == "undefined", frame.url
        assert frame.locator('a[href^="javascript" i], [onerror], [onmouseover]').count() == 0


PROGRESS_NOTE = re.compile(r"(?:Searching the articles|Reading \d+ passages? from \d+ articles?)…")
"""The notes shown in the answer's place until its first checked sentence (`bot.web.chat`)."""


def streamed_texts(answer: Locator, sources: Locator) -> tuple[list[str], list[str]]:
    """The progress notes, then the answer's texts, seen while it streams until the sources
    appear; a note after the answer began fails."""
    notes: list[str] = []
    seen: list[str] = []
    deadline = time.monotonic() + ANSWER_TIMEOUT_MS / 1000
    while sources.count() == 0:
        assert time.monotonic() < deadline, "no sources before the timeout"
        if answer.count():
            text = answer.last.inner_text().strip()
            if PROGRESS_NOTE.fullmatch(text):
                assert not seen, f"a progress note after the answer began: {text}"
                notes += [text] if not notes or notes[-1] != text else []
            elif text and (not seen or seen[-1] != text):
                seen.append(text)
        time.sleep(0.05)
    return notes, seen


BOT_ANSWER = ".bot.message .message:not(.thought) [data-testid=bot]"


@pytest.fixture(scope="module")
def failing() -> Iterator[tuple[str, ScriptedAssistant]]:
    """The chat over a scripted assistant a test can make fail (`.fail`)."""
    scripted = ScriptedAssistant()
    with serving_in_thread(build_app(scripted)) as url:
        yield url, scripted


def test_a_refused_or_failed_question_stays_in_the_input_and_the_chat_goes_on(
    page: Page, failing: tuple[str, ScriptedAssistant]
) -> None:
    """Found by a review: a blank or too long question, a bad filter in the page's URL, or an
    answer that failed left the input disabled for good, the question typed lost and the
    conversation under an "Error" badge, until the page was reloaded."""
    url, scripted = failing
    page.goto(url + "/")
    box = page.locator("#nb-input textarea")
    long = "Why " * 600
    for typed, reason in (
        ("   ", "Type a question"),
        (long, "characters long: keep it under 2,000"),
    ):
        ask(box, typed)
        expect(page.get_by_text(reason)).to_be_visible()
        expect(box).to_be_enabled()
        assert box.input_value() == typed  # kept, to mend
    assert scripted.calls == []  # refused where it was typed: nothing was asked

    ask(box, "First question?")
    expect(page.locator(BOT_ANSWER).last).to_contain_text("About First question?")
    scripted.fail = ModelError("Cannot reach the chat model")
    try:
        ask(box, "Second question?")
        expect(page.get_by_text("The chat model is not answering right now.")).to_be_visible(
            timeout=30_000  # an error's toast comes after the failed event: slow on a busy CI
        )
        expect(page.get_by_text("Cannot reach the chat model")).to_have_count(0)
        expect(box).to_be_enabled()
        expect(box).to_have_value("Second question?")
    finally:
        scripted.fail = None
    assert page.locator("#nb-chatbot .error").count() == 0
    expect(page.locator(".user.message")).to_have_count(1)  # back to before the failed one
    expect(page.get_by_text(STOPPED)).to_have_count(0)  # failed, not stopped (a review)
    box.press("Enter")
    expect(page.locator(BOT_ANSWER).last).to_contain_text("About Second question?")

    page.goto(url + "/?since=2025-13-01")  # a filter the URL sets that cannot be read
    expect(page.get_by_role("button", name="Filters: The page's URL sets")).to_be_visible()
    ask(box, "Third question?")
    expect(page.locator(".validation-error").get_by_text("The page's URL")).to_be_visible(
        timeout=30_000
    )
    expect(box).to_be_enabled()
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_stopped_answer_says_so_and_is_no_context_for_the_next_question(
    page: Page, failing: tuple[str, ScriptedAssistant]
) -> None:
    """Found by a review: after the stop button the note "Reading 2 passages…" spun on, and the
    unanswered question was sent as context with the next one."""
    url, scripted = failing
    page.goto(url + "/")
    box = page.locator("#nb-input textarea")
    scripted.reading.clear()  # the answer waits after its search, as a slow model does
    try:
        ask(box, "A question to stop?")
        expect(page.get_by_text("Reading 2 passages from 1 article…")).to_be_visible()
        page.locator("#nb-input .stop-button").click()
        expect(page.get_by_text(STOPPED)).to_be_visible()
        expect(page.get_by_text("Reading 2 passages from 1 article…")).to_have_count(0)
    finally:
        scripted.reading.set()
    expect(box).to_be_enabled()
    ask(box, "The next question?")  # at once: the failure hook once undid the stop's note
    expect(page.get_by_text(STOPPED)).to_be_visible()
    expect(page.locator(BOT_ANSWER).last).to_contain_text("About The next question?")
    assert scripted.calls[-1].history == []  # the stopped question was no context
    expect(page.get_by_text(STOPPED)).to_have_count(1)  # still said, once


def test_after_a_stop_and_clear_a_failed_question_still_comes_back(
    page: Page, failing: tuple[str, ScriptedAssistant]
) -> None:
    """Found by a review: the stop's count of questions outlived Clear, so a failure at that
    count was taken for the stop, and the input stayed disabled with the question lost."""
    url, scripted = failing
    page.goto(url + "/")
    box = page.locator("#nb-input textarea")
    scripted.reading.clear()
    try:
        ask(box, "A question to stop?")
        expect(page.get_by_text("Reading 2 passages from 1 article…")).to_be_visible()
        page.locator("#nb-input .stop-button").click()
        expect(page.get_by_text(STOPPED)).to_be_visible()
    finally:
        scripted.reading.set()
    page.locator("#nb-chatbot").get_by_role("button", name="Clear").click()
    expect(page.locator(".user.message")).to_have_count(0)
    scripted.fail = ModelError("Cannot reach the chat model")
    try:
        ask(box, "A question that fails?")  # one question, as when the stop was pressed
        expect(page.get_by_text("The chat model is not answering right now.")).to_be_visible(
            timeout=30_000
        )
        expect(box).to_be_enabled()
        expect(box).to_have_value("A question that fails?")
    finally:
        scripted.fail = None


def test_the_widget_keeps_its_conversation_across_a_reload(
    page: Page, failing: tuple[str, ScriptedAssistant]
) -> None:
    """Found by a review: the widget came back empty after a reload (its stored copy was read
    after the page's load event, and the empty chat was saved over it)."""
    url, _ = failing
    page.goto(url + "/widget/")
    ask(page.locator("#nb-widget-input textarea"), "Who met in the widget?")
    expect(page.locator(BOT_ANSWER).last).to_contain_text("About Who met in the widget?")
    page.locator(".nb-sources").first.wait_for()
    for _ in range(2):  # and again: what came back is kept in turn
        page.reload()
        expect(page.locator(".user.message")).to_have_text(["Who met in the widget?"])
        expect(page.locator(BOT_ANSWER).last).to_contain_text("About Who met in the widget?")


def test_an_answer_stopped_while_it_is_written_keeps_what_was_shown(
    page: Page, failing: tuple[str, ScriptedAssistant]
) -> None:
    """Found by a review: the stop button, pressed once the answer's text had begun, wiped the
    question and the partial answer (Gradio ends such an event as failed)."""
    url, scripted = failing
    page.goto(url + "/")
    box = page.locator("#nb-input textarea")
    scripted.writing.clear()  # the answer waits after its first word
    try:
        ask(box, "A question stopped mid-answer?")
        expect(page.locator(BOT_ANSWER).last).to_contain_text("About")
        page.locator("#nb-input .stop-button").click()
        expect(box).to_be_enabled()
    finally:
        scripted.writing.set()
    page.wait_for_timeout(1000)  # the answer's end, had it not been stopped
    expect(page.locator(".user.message")).to_have_count(1)
    expect(page.locator(".user.message")).to_contain_text("A question stopped mid-answer?")
    expect(page.locator(BOT_ANSWER).last).to_contain_text("About")
    page.reload()  # and the kept copy holds it too
    expect(page.locator(".user.message")).to_contain_text("A question stopped mid-answer?")


def test_a_suggested_question_is_asked_like_a_typed_one_and_can_be_stopped(
    page: Page, failing: tuple[str, ScriptedAssistant]
) -> None:
    """Found by a review: a clicked "Tell me more about …" had no stop button and left the
    input open, and a question typed meanwhile lost the suggestion's question and answer."""
    url, scripted = failing
    scripted.related = [RelatedArticle("a2", "Ferry makes its last trip", "", "", None, 0.9)]
    suggestion = "Tell me more about “Ferry makes its last trip”"
    page.goto(url + "/")
    box = page.locator("#nb-input textarea")
    ask(box, "A first question?")
    page.get_by_role("button", name=suggestion).click()
    expect(page.locator(BOT_ANSWER).last).to_contain_text(f"About {suggestion}")
    assert asked_before(scripted) == ["A first question?"]

    scripted.reading.clear()  # the next suggestion's answer waits after its search
    try:
        page.get_by_role("button", name=suggestion).last.click()
        expect(page.get_by_text("Reading 2 passages from 1 article…")).to_be_visible()
        expect(box).to_be_disabled()  # nothing typed meanwhile can overwrite it
        page.locator("#nb-input .stop-button").click()
        expect(page.get_by_text(STOPPED)).to_be_visible()
    finally:
        scripted.reading.set()
    expect(box).to_be_enabled()
    ask(box, "The next question?")
    expect(page.locator(BOT_ANSWER).last).to_contain_text("About The next question?")
    assert asked_before(scripted) == ["A first question?", suggestion]  # the stopped one: not
    expect(page.locator(".user.message")).to_have_count(4)


def asked_before(scripted: ScriptedAssistant) -> list[str]:
    """The questions of the history the last question was asked with."""
    return [t["content"] for t in scripted.calls[-1].history if t["role"] == "user"]


@pytest.mark.slow  # the real model: with the model tests, never a second llama.cpp beside them
def test_real_chat_streams_a_cited_answer_and_follows_up(page: Page, real_url: str) -> None:
    page.goto(real_url + "/")
    ask(page.locator("#nb-input textarea"), SEED_QUESTION)

    notes, partial = streamed_texts(page.locator(BOT_ANSWER), page.locator(".nb-sources"))
    assert partial, "the answer did not show"
    assert notes, "no progress note while the model read"
    assert notes[-1].startswith("Reading "), notes
    final = " ".join(page.locator(BOT_ANSWER).last.inner_text().split())
    for text in partial:  # checked sentence by sentence: what showed is never taken back
        assert final.startswith(" ".join(text.split())), (text, final)

    answer = page.locator(BOT_ANSWER).last.inner_text().lower()
    assert any(word in answer for word in ("visa", "sop", "joint operation")), answer
    link = page.locator(".nb-sources a").first
    assert link.get_attribute("href") == "https://example.org/news/pakistan-us-visa-fraud"
    assert link.get_attribute("target") == "_blank"
    assert "visa" in page.locator(".nb-sources blockquote").first.inner_text().lower()

    ask(page.locator("#nb-input textarea"), "Who represented the US?")
    page.locator(".nb-sources").nth(1).wait_for(timeout=ANSWER_TIMEOUT_MS)
    follow_up = page.locator(BOT_ANSWER).last.inner_text()
    assert "Baker" in follow_up, follow_up
    assert_nothing_ran(page)


def test_hostile_article_runs_nothing_in_the_chat(page: Page, scripted_url: str) -> None:
    page.goto(scripted_url + "/")
    ask(page.locator("#nb-input textarea"), XSS_QUESTION)
    sources = page.locator(".nb-sources")
    sources.wait_for(timeout=60_000)

    shown = sources.inner_text()
    assert "Harbour council approves pier budget" in shown
    assert 'javascript:window.__xss="url"' in shown  # the url, as plain text
    # The title links to the article's stored text in the app, never to its url.
    assert sources.locator("a:not(.nb-stored)").count() == 0
    assert (sources.locator("a.nb-stored").get_attribute("href") or "").startswith("article/")
    answer = page.locator(BOT_ANSWER).last.inner_text()
    assert "four million" in answer
    assert "<script>" in answer or "onerror" in answer  # shown as text, not run
    page.wait_for_timeout(500)
    assert_nothing_ran(page)


def test_the_api_page_draws_its_routes_without_the_internet(page: Page, scripted_url: str) -> None:
    outside: list[str] = []

    def loopback_only(route: Any) -> None:
        if route.request.url.startswith(scripted_url):
            route.continue_()
        else:  # never sent: the test only records that the page asked
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", loopback_only)
    page.goto(scripted_url + "/api/docs")
    page.locator(".opblock").first.wait_for(timeout=30_000)
    assert any("/api/ask" in text for text in page.locator(".opblock").all_inner_texts())
    assert outside == []


def test_library_tab_lists_escaped_titles_and_reports_errors(page: Page, scripted_url: str) -> None:
    page.goto(scripted_url + "/")
    page.get_by_role("tab", name="Library").click()
    stats = page.locator("#nb-library-stats")
    stats.wait_for()
    assert "1 articles" in stats.inner_text()
    assert "Harbour council approves pier budget" in page.locator("#nb-articles").inner_text()

    page.locator("#nb-urls textarea").fill("ftp://example.org/feed.xml")
    page.get_by_role("button", name="Ingest").click()
    status = page.locator("#nb-library-status")
    status.get_by_text("only http(s) URLs can be fetched").wait_for(timeout=30_000)
    assert "Traceback" not in status.inner_text()
    assert_nothing_ran(page)


def test_the_library_tab_lists_what_another_page_added_since_this_one_opened(
    browser: Browser, scripted_url: str, tmp_path: Path
) -> None:
    """Found by a review: the Library listed the articles of the server's start, whatever was
    uploaded or deleted since, until its Search button was pressed."""
    reader = open_page(browser)
    reader.goto(scripted_url + "/")
    reader.locator("#nb-input textarea").wait_for()
    editor = open_page(browser)
    editor.goto(scripted_url + "/")
    editor.get_by_role("tab", name="Library").click()
    note = tmp_path / "lighthouse.md"
    note.write_text("# Lighthouse keeper retires\n\nThe keeper retired after forty years.\n")
    editor.locator("#nb-library-tab input[type=file]").set_input_files(str(note))
    editor.get_by_role("button", name="Ingest").click()
    editor.locator("#nb-library-status").get_by_text("1 new").wait_for(timeout=60_000)
    try:
        reader.get_by_role("tab", name="Library").click()
        expect(reader.locator("#nb-articles")).to_contain_text("Lighthouse keeper retires")
        expect(reader.locator("#nb-library-stats")).to_contain_text("2 articles")
    finally:
        editor.locator("#nb-delete-choice input").click()
        editor.get_by_role("option", name=re.compile("Lighthouse keeper retires")).click()
        editor.get_by_role("button", name="Delete").click()
        expect(editor.locator("#nb-library-stats")).to_contain_text("1 articles")
        reader.context.close()
        editor.context.close()


def test_embed_page_on_another_origin_shows_working_widgets(
    page: Page, scripted_url: str, host_url: str
) -> None:
    page.goto(f"{host_url}/embed.html?server={scripted_url}")

    frame: FrameLocator = page.frame_locator("#newsbot-iframe")
    ask(frame.locator("textarea"), XSS_QUESTION)
    frame.locator(".nb-sources").wait_for(timeout=60_000)
    assert "four million" in frame.locator(BOT_ANSWER).last.inner_text()

    component = page.locator("gradio-app")
    ask(component.locator("textarea"), XSS_QUESTION)
    component.locator(".nb-sources").wait_for(timeout=60_000)
    assert "four million" in component.locator(BOT_ANSWER).last.inner_text()
    assert "Harbour council approves pier budget" in component.locator(".nb-sources").inner_text()

    page.wait_for_timeout(500)
    assert_nothing_ran(page)
    # The iframe is third-party here (localhost embeds 127.0.0.1), where Chromium blocks storage.
    assert page.errors == []  # type: ignore[attr-defined]


def framed_loaded(page: Page, host: str, src: str) -> bool:
    """Whether Chromium shows `src` inside an iframe on `host`'s page (False: it refused)."""
    page.goto(f"{host}/frame?src={src}")
    page.wait_for_load_state("load")
    framed = page.frame_locator("#framed").locator("body")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        frame = page.frame(url=lambda url: url.startswith(src))
        if frame is None:
            # Chromium replaces a refused frame by its error page (chrome-error://...).
            return False
        if framed.locator("textarea").count():
            return True
        time.sleep(0.1)
    raise AssertionError(f"the frame of {src} neither loaded nor was refused")


def test_only_the_widget_may_be_framed_and_only_by_the_configured_origin(
    page: Page, scripted_url: str, host_url: str
) -> None:
    assert framed_loaded(page, host_url, f"{scripted_url}/widget/")
    # The chat page is never framed; the widget not from an origin that was not configured
    # (the same host page, reached as 127.0.0.1 instead of localhost, is another origin).
    assert not framed_loaded(page, host_url, f"{scripted_url}/")
    other_origin = host_url.replace("localhost", "127.0.0.1")
    assert not framed_loaded(page, other_origin, f"{scripted_url}/widget/")


def test_signing_in_opens_the_chat_and_the_api_in_the_browser(page: Page) -> None:
    llm = GenericFakeChatModel(messages=itertools.cycle([AIMessage(content="No answer.")]))

    class NoPassages:
        def search(
            self, query: str, k: int, published_before: object = None, filters: object = None
        ) -> list[Any]:
            return []

    app = build_app(
        Assistant(NoPassages(), llm, load_prompts(), **assistant_options()), auth="editor:s3cret"
    )
    with serving_in_thread(app) as url:
        page.goto(url + "/?__theme=light")
        assert "/login?next=" in page.url
        page.locator("#username").fill("editor")
        page.locator("#password").fill("wrong")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_text("Wrong user name or password").wait_for()
        page.locator("#username").fill("editor")
        page.locator("#password").fill("s3cret")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(url + "/?__theme=light")
        ask(page.locator("#nb-input textarea"), "What did the council approve?")
        page.locator(BOT_ANSWER).last.wait_for(timeout=60_000)
        # The session cookie also opens the JSON API for this browser (same origin).
        status = page.evaluate(
            """async () => (await fetch('/api/ask', {method: 'POST',
                 headers: {'Content-Type': 'application/json'},
                 body: JSON.stringify({question: 'Q?'})})).status"""
        )
        assert status == 200
    assert page.errors == []  # type: ignore[attr-defined]
