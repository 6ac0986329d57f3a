"""Issue 24 finding 5, the web doors: uploads that stay, recordings, sign-out by GET, monitoring,
`*` origins with the Library, and questions that show nothing.

Real servers on 127.0.0.1: an open one with the real Library over an empty real store, and one
with a login; the scripted assistant answers (what is tested is the web layer).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio.utils import get_upload_folder

from bot.web import build_app
from bot.web.chat import is_blank
from bot.web.server import serving_in_thread
from newsbot.errors import ConfigError
from tests.test_web_api import ScriptedAssistant, make_store, store_library
from tests.web_events import gradio_event

pytestmark = [
    pytest.mark.server,
    pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning"),
]

USER, PASSWORD = "editor", "s3cret pass"
UPLOAD_AGE = 2


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Any:
    data_dir = tmp_path_factory.mktemp("doors-store")
    return store_library(make_store(data_dir, []), data_dir)


@pytest.fixture(scope="module")
def open_url(library: Any) -> Iterator[str]:
    app = build_app(ScriptedAssistant(), library, upload_max_age=UPLOAD_AGE)
    with serving_in_thread(app) as url:
        yield url


@pytest.fixture(scope="module")
def login_url(library: Any) -> Iterator[str]:
    with serving_in_thread(
        build_app(ScriptedAssistant(), library, auth=f"{USER}:{PASSWORD}")
    ) as url:
        yield url


def _loose_files() -> set[Path]:
    """Files directly in Gradio's upload folder: where it writes uploads before naming them."""
    folder = Path(get_upload_folder())
    return {path for path in folder.iterdir() if path.is_file()} if folder.is_dir() else set()


def upload(url: str, name: str, body: bytes = b"Planted text.\n") -> httpx.Response:
    return httpx.post(
        url + "/gradio_api/upload", files=[("files", (name, body, "text/plain"))], timeout=30
    )


def _all_files() -> set[Path]:
    return {path for path in Path(get_upload_folder()).rglob("*") if path.is_file()}


def _holding(paths: set[Path], body: bytes) -> set[Path]:
    """Those of `paths` that hold `body`: this test's files, not those another test module
    (another xdist worker) uploads meanwhile into the same folder."""
    held = set()
    for path in paths:
        with contextlib.suppress(OSError):  # another test's file, gone since it was listed
            if path.read_bytes() == body:
                held.add(path)
    return held


@pytest.mark.parametrize("name", ["..", "a/../..", "x/.."])
def test_a_refused_upload_leaves_no_file_behind(open_url: str, name: str) -> None:
    before = _loose_files()
    body = f"Refused upload named {name}.\n".encode()
    reply = upload(open_url, name, body)
    assert reply.status_code == 400
    assert _holding(_loose_files() - before, body) == set()


def test_a_refused_name_takes_the_files_before_it_in_the_request_too(open_url: str) -> None:
    before = _all_files()
    body = b"First file of a refused batch.\n"
    files = [("files", ("first.txt", body, "text/plain")), ("files", ("..", body, "text/plain"))]
    reply = httpx.post(open_url + "/gradio_api/upload", files=files, timeout=30)
    assert reply.status_code == 400
    assert _holding(_all_files() - before, body) == set()


def test_an_upload_never_ingested_is_deleted_once_old(open_url: str) -> None:
    reply = upload(open_url, "left-behind.txt")
    assert reply.status_code == 200
    path = Path(reply.json()[0])
    assert path.is_file()
    deadline = time.monotonic() + UPLOAD_AGE * 4 + 2
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.25)
    assert not path.exists(), "an upload nobody ingested is kept for ever"


@pytest.mark.parametrize("mount", ["", "/widget"])
def test_no_page_takes_recordings(open_url: str, mount: str) -> None:
    reply = httpx.post(
        f"{open_url}{mount}/gradio_api/process_recording",
        files=[("files", ("voice.wav", b"\0" * 1_500_000, "audio/wav"))],
        timeout=30,
    )
    assert reply.status_code == 403


@pytest.mark.parametrize("path", ["/monitoring", "/monitoring/summary", "/monitoring/abc"])
@pytest.mark.parametrize("mount", ["", "/widget"])
def test_gradio_monitoring_is_not_served(open_url: str, mount: str, path: str) -> None:
    reply = httpx.get(open_url + mount + path, timeout=30)
    assert reply.status_code == 404
    assert "avg" not in reply.text


def test_signing_out_takes_a_post_from_this_site(login_url: str) -> None:
    with httpx.Client(base_url=login_url, timeout=30) as browser:
        browser.post("/login", data={"username": USER, "password": PASSWORD})
        assert browser.get("/config").status_code == 200
        # A link or an image on another site sends a GET: it must not sign the user out.
        browser.get("/logout")
        assert browser.get("/config").status_code == 200
        # A form on another site sends a POST with its Origin: refused.
        other = browser.post("/logout", headers={"Origin": "http://evil.example"})
        assert other.status_code == 403
        assert browser.get("/config").status_code == 200
        # The sign-out button (same site) ends the session.
        ours = browser.post("/logout", headers={"Origin": login_url})
        assert ours.status_code == 303
        assert browser.get("/config").status_code == 401


def test_any_origin_is_refused_while_the_library_is_on(library: Any) -> None:
    with pytest.raises(ConfigError, match="Library"):
        build_app(ScriptedAssistant(), library, allowed_origins=["*"])
    build_app(ScriptedAssistant(), None, allowed_origins=["*"])  # no Library: allowed


INVISIBLE = [
    "\u200b",
    "\u200b\u200c\u200d\ufeff",
    " \u2060 \u200e\u200f ",
    "\u3164\u2800",
    "\u0301",
]


@pytest.mark.parametrize("question", INVISIBLE)
def test_a_question_that_shows_nothing_is_empty(open_url: str, question: str) -> None:
    assert is_blank(question)
    reply = httpx.post(open_url + "/api/ask", json={"question": question}, timeout=30)
    assert reply.status_code == 422
    assert "question is empty" in reply.text
    chat = gradio_event(open_url, "chat", [question, []])
    assert chat["success"] is False
    assert "Type a question" in chat["output"]["error"]


def test_questions_with_text_are_not_blank() -> None:
    assert not is_blank("\u200bWho?")
    assert not is_blank("é")
