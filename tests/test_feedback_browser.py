"""Readers' votes in a real browser (Debian's Chromium, the fixtures of test_web_browser): a
thumbs-down with a comment in the chat and in the widget is stored in the question log's
database (the real store's registry file) and shows in the Library tab's editors' view; with the
log off no thumbs show and nothing is stored.

The assistant is test_web_api's scripted one: what is tested is what the page does with a vote,
not what the model says (the real model's answers are voted on through the API in
test_metrics / test_question_log's paths).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from bot.web import build_app
from bot.web.server import serving_in_thread
from newsbot.login_records import DatabaseLoginRecords
from newsbot.question_log import DatabaseQuestionLog
from tests.test_web_api import ScriptedAssistant, make_store, store_library
from tests.test_web_browser import ask, browser, page
from vectorstore.database import Database, open_database

__all__ = ["browser", "page"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning"),
]


SCRIPTED = ScriptedAssistant()
"""The assistant of the `logged` app (a test makes it wait: `.reading`)."""


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, DatabaseQuestionLog]]:
    """The app with the Library and a question log in the real store's registry database."""
    data_dir = tmp_path_factory.mktemp("logged")
    store = make_store(data_dir, [])
    question_log = DatabaseQuestionLog(store.registry.database)
    app = build_app(
        SCRIPTED,
        store_library(store, data_dir),
        question_log=question_log,
        question_embedder=store.embeddings,
    )
    with serving_in_thread(app) as url:
        yield url, question_log


def wait_for_the_answer(page: Page) -> None:
    """Wait, as a reader does, until the answer is finished: a vote is only offered on a
    finished answer, and a click that lands while it still streams is lost."""
    page.locator(".nb-sources").first.wait_for(timeout=60_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('#nb-input textarea, #nb-widget-input textarea')]"
        ".every((box) => !box.disabled)",
        timeout=30_000,
    )


OUTCOMES = ("your vote is saved", "Your vote is withdrawn.", "Not saved:", "nothing was saved")
"""The notes `bot.web.feedback_ui` ends a click with (Gradio's progress text comes before)."""


def click_thumb(page: Page, name: str) -> str:
    """Click the last answer's `name` thumb and return the note the page ends the click with.

    Waiting for the note (not for the comment box) makes a failure name its reason ("Not
    saved: ...") rather than time out on a hidden box; 30 s because a CI machine whose other
    worker runs the model has taken over 10 s to answer the click. Gradio writes its progress
    ("queue: 1/1 | 0.1s") into the note above the message while the click is handled, so the
    note's last line is what is compared.
    """
    last_line = "(id) => document.querySelector(id).innerText.trim().split('\\n').pop()"
    before = page.evaluate(last_line, "#nb-feedback-note")
    page.get_by_role("button", name=name).last.click()
    page.wait_for_function(
        f"([before, outcomes]) => {{ const last = ({last_line})('#nb-feedback-note');"
        " return last !== before && outcomes.some((outcome) => last.includes(outcome)); }",
        arg=[before, list(OUTCOMES)],
        timeout=30_000,
    )
    return str(page.evaluate(last_line, "#nb-feedback-note"))


def vote_down_with_comment(page: Page, comment: str) -> None:
    """Wait for an answer to finish, thumbs-down the last one and send `comment`."""
    wait_for_the_answer(page)
    assert "your vote is saved" in click_thumb(page, "Dislike")
    box = page.locator("#nb-feedback-comment textarea")
    box.wait_for(timeout=10_000)
    assert box.get_attribute("placeholder") == "What was wrong? (optional)"
    box.fill(comment)
    page.locator("#nb-feedback-send").click()
    page.locator("#nb-feedback-note").get_by_text("your comment is saved").wait_for(timeout=30_000)


def stored(question_log: DatabaseQuestionLog, question: str) -> Any:
    [row] = [row for row in question_log.answers_since(0) if row.question == question]
    return row


@pytest.mark.parametrize(("mount", "door"), [("/", "chat"), ("/widget/", "widget")])
def test_a_thumbs_down_with_a_comment_is_stored(
    page: Page, logged: tuple[str, DatabaseQuestionLog], mount: str, door: str
) -> None:
    url, question_log = logged
    question = f"Who met in the {door}?"
    page.goto(url + mount)
    box_id = "#nb-input" if door == "chat" else "#nb-widget-input"
    ask(page.locator(f"{box_id} textarea"), question)
    vote_down_with_comment(page, f"The {door} answer names the wrong city.")

    row = stored(question_log, question)
    assert row.door == door
    assert row.vote == "down"
    assert row.comment == f"The {door} answer names the wrong city."
    assert row.sources[0]["title"] == "Talks in Islamabad"


def test_with_the_log_off_no_thumbs_show_and_nothing_is_stored(page: Page, tmp_path: Path) -> None:
    database: Database = open_database(tmp_path)
    app = build_app(ScriptedAssistant(), login_records=DatabaseLoginRecords(database))
    with serving_in_thread(app) as url:
        page.goto(url + "/")
        ask(page.locator("#nb-input textarea"), "Who met?")
        page.locator(".nb-sources").wait_for(timeout=60_000)
        assert page.get_by_role("button", name="Dislike").count() == 0
        assert page.locator("#nb-feedback-comment").count() == 0
    tables = {name for (name,) in database.rows("SELECT name FROM sqlite_master")}
    assert "question_log" not in tables
    database.close()


def test_a_vote_in_the_chat_shows_in_the_editors_view(
    page: Page, logged: tuple[str, DatabaseQuestionLog]
) -> None:
    url, _ = logged
    page.goto(url + "/")
    for n, question in enumerate(("Who met in Islamabad?", "Who met in Islamabad on Monday?")):
        ask(page.locator("#nb-input textarea"), question)
        page.locator(".nb-sources").nth(n).wait_for(timeout=60_000)
    vote_down_with_comment(page, "<b>Islamabad</b> is not where they met.")
    widget = page.context.new_page()
    widget.goto(url + "/widget/")
    ask(widget.locator("#nb-widget-input textarea"), "What did the kettle recall cover?")
    vote_down_with_comment(widget, "Left out the model numbers.")
    widget.close()

    page.get_by_role("tab", name="Library").click()
    page.locator("#nb-questions-period").get_by_text("Last week").click()
    page.locator("#nb-questions-show").click()
    view = page.locator("#nb-questions")
    view.locator(".nb-wrong-answer").first.wait_for(timeout=60_000)
    # Each group with its wordings (collapsed under the group's name).
    groups = [text or "" for text in view.locator(".nb-question-group").all_text_contents()]
    [islamabad] = [text for text in groups if "Islamabad" in text]
    assert "Who met in Islamabad?" in islamabad  # both wordings in one group
    assert "Who met in Islamabad on Monday?" in islamabad
    assert "marked wrong" in islamabad
    wrong = view.locator(".nb-wrong-answers").inner_text()
    assert "<b>Islamabad</b> is not where they met." in wrong  # shown as text, escaped
    assert "Left out the model numbers." in wrong  # the widget's vote too
    assert view.locator(".nb-wrong-answers b").count() == 0

    csv_link = view.get_by_role("link", name="Export CSV")
    reply = page.request.get(url + "/" + csv_link.get_attribute("href").lstrip("./"))
    assert reply.status == 200
    assert "Who met in Islamabad on Monday?" in reply.text()
    assert reply.headers["content-disposition"].startswith("attachment;")


def test_a_thumb_clicked_again_withdraws_the_vote(
    page: Page, logged: tuple[str, DatabaseQuestionLog]
) -> None:
    """Gradio unmarks the thumb on a second click (it sends `liked=""`): the log unmarks the
    answer too, rather than keep a vote the reader took back. After a reload the page still
    shows the vote (found by a review: it showed none, so it could not be taken back)."""
    url, question_log = logged
    question = "Who met, then unmarked?"
    page.goto(url + "/")
    ask(page.locator("#nb-input textarea"), question)
    wait_for_the_answer(page)
    assert "your vote is saved" in click_thumb(page, "Dislike")
    assert stored(question_log, question).vote == "down"

    assert click_thumb(page, "Disliked") == "Your vote is withdrawn."
    assert page.locator("#nb-feedback-comment").is_hidden()
    row = stored(question_log, question)
    assert (row.vote, row.comment) == (None, None)

    assert "your vote is saved" in click_thumb(page, "Like")
    ask(page.locator("#nb-input textarea"), "Who met next?")
    expect(page.locator(".nb-sources")).to_have_count(2, timeout=30_000)
    wait_for_the_answer(page)
    page.reload()
    page.locator(".user.message").get_by_text("Who met next?").wait_for(timeout=30_000)
    expect(page.get_by_role("button", name="Liked", exact=True)).to_have_count(1)
    # The marked thumb is the first answer's: clicking it withdraws that answer's vote.
    assert click_thumb(page, "Liked") == "Your vote is withdrawn."
    assert stored(question_log, question).vote is None

    # Gradio marks a reply by its place: a retried answer took the voted one's mark (a review).
    assert "your vote is saved" in click_thumb(page, "Like")  # the last answer's
    page.reload()
    expect(page.get_by_role("button", name="Liked", exact=True)).to_have_count(1)
    page.get_by_role("button", name="Retry").last.click()
    deadline = time.monotonic() + 30
    while len([r for r in question_log.answers_since(0) if r.question == "Who met next?"]) < 2:
        assert time.monotonic() < deadline, "the retried answer was not logged"
        time.sleep(0.2)
    wait_for_the_answer(page)
    expect(page.get_by_role("button", name="Liked", exact=True)).to_have_count(0)


def test_a_vote_under_a_stopped_reply_says_nothing_was_saved(
    page: Page, logged: tuple[str, DatabaseQuestionLog]
) -> None:
    """Found by a review: the thumb under a "Stopped before an answer" note turned, and nothing
    said that no vote was kept."""
    from bot.web.chat import STOPPED

    url, question_log = logged
    page.goto(url + "/")
    SCRIPTED.reading.clear()
    try:
        ask(page.locator("#nb-input textarea"), "A question to stop and vote on?")
        page.get_by_text("Reading 2 passages from 1 article…").wait_for(timeout=30_000)
        page.locator("#nb-input .stop-button").click()
        page.get_by_text(STOPPED).wait_for(timeout=30_000)
    finally:
        SCRIPTED.reading.set()
    assert click_thumb(page, "Dislike") == "Not saved: this reply holds no answer to vote on."
    stopped = [r for r in question_log.answers_since(0) if r.question.startswith("A question to")]
    assert all(row.vote is None for row in stopped)
