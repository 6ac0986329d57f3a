"""Issue 26, the embed trap: a browser refusal the server caused is logged, once per origin.

A page whose origin is not in NEWSBOT_ALLOWED_ORIGINS (the README's embed page opened as
http://127.0.0.1:8000 instead of http://localhost:8000) gets a refused frame and a blank web
component, with only a console error in the browser. The server logs a WARNING naming the
origin and the setting that allows it (`bot.web.refusals.RefusalWarnings`). Served for real on
127.0.0.1; the browser cases drive Debian's Chromium.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
import websockets.sync.client
from playwright.sync_api import Browser
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from bot.web import build_app
from bot.web.refusals import MAX_WARNED_ORIGINS
from bot.web.server import serving_in_thread
from tests.test_web_api import ScriptedAssistant
from tests.test_web_browser import browser, host_url

__all__ = ["browser", "host_url"]  # the shared fixtures of test_web_browser

pytestmark = [
    pytest.mark.server,
    pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning"),
]

LOGGER = "bot.web.refusals"
LISTED = "http://localhost:8000"
TRAP = "http://127.0.0.1:8000"
SETTING = """NEWSBOT_ALLOWED_ORIGINS='["http://localhost:8000", "http://127.0.0.1:8000"]'"""


def framing(referer: str) -> dict[str, str]:
    """The headers Chromium sends for an iframe's navigation from a page on `referer`
    (Sec-Fetch-Site compares sites, which ignore the port: 127.0.0.1:8000 is same-site)."""
    return {
        "Sec-Fetch-Dest": "iframe",
        "Sec-Fetch-Mode": "navigate",
        "Sec-Fetch-Site": "same-site",
        "Referer": referer + "/embed.html",
    }


def refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING
    ]


@pytest.fixture
def fresh() -> Iterator[str]:
    """A server that has warned about no origin yet (each test starts its own)."""
    with serving_in_thread(build_app(ScriptedAssistant(), allowed_origins=[LISTED])) as url:
        yield url


def test_a_refused_frame_is_logged_once_with_the_origin_and_the_setting(
    fresh: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with httpx.Client(timeout=30) as http:
        for _ in range(2):
            assert http.get(f"{fresh}/widget/", headers=framing(TRAP)).status_code == 200
        assert http.get(f"{fresh}/widget/", headers=framing(LISTED)).status_code == 200
        # The app framing itself (a reload inside the frame) is allowed too.
        own = {**framing(fresh), "Sec-Fetch-Site": "same-origin"}
        assert http.get(f"{fresh}/widget/", headers=own).status_code == 200
    logged = refusals(caplog)
    assert len(logged) == 1, logged
    assert TRAP in logged[0]
    assert "framing the widget" in logged[0]
    assert SETTING in logged[0]
    assert LISTED not in logged[0].replace(SETTING, "")


def test_a_listed_origin_is_never_warned_about(
    fresh: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with httpx.Client(timeout=30) as http:
        for _ in range(2):
            http.get(f"{fresh}/widget/", headers=framing(LISTED))
            http.get(f"{fresh}/widget/gradio.js", headers={"Origin": LISTED})
            http.post(f"{fresh}/api/ask", json={"question": "Q?"}, headers={"Origin": LISTED})
        # Not framed (a top-level page) and same-origin calls: nothing to warn about either.
        http.get(f"{fresh}/widget/", headers={"Sec-Fetch-Dest": "document", "Referer": TRAP})
        http.post(f"{fresh}/api/ask", json={"question": "Q?"}, headers={"Origin": fresh})
    assert refusals(caplog) == []


def test_cross_origin_calls_and_framing_the_chat_page_are_logged(
    fresh: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with httpx.Client(timeout=30) as http:
        script = http.get(f"{fresh}/widget/gradio.js", headers={"Origin": TRAP})
        assert "access-control-allow-origin" not in script.headers
        asked = http.post(f"{fresh}/api/ask", json={"question": "Q?"}, headers={"Origin": TRAP})
        assert asked.status_code == 403
        # The chat page may not be framed by anyone; the listed origin is told so.
        http.get(f"{fresh}/", headers=framing(LISTED))
    logged = refusals(caplog)
    assert len(logged) == 2, logged
    assert "a cross-origin call (GET /widget/gradio.js)" in logged[0]
    assert SETTING in logged[0]
    assert LISTED in logged[1]
    assert "only /widget/ may be shown in a frame" in logged[1]


def test_a_websocket_from_another_origin_is_refused_and_logged(
    fresh: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    ws_url = fresh.replace("http://", "ws://") + "/widget/queue/join"
    with pytest.raises(InvalidStatus) as refused:
        websockets.sync.client.connect(ws_url, origin=Origin(TRAP), open_timeout=10)
    assert refused.value.response.status_code == 403
    logged = refusals(caplog)
    assert len(logged) == 1, logged
    assert "a WebSocket" in logged[0]
    assert SETTING in logged[0]


def test_a_flood_of_made_up_origins_logs_a_bounded_number_of_lines(
    fresh: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with httpx.Client(timeout=30) as http:
        for n in range(MAX_WARNED_ORIGINS + 50):
            http.get(f"{fresh}/api/health", headers={"Origin": f"http://x{n}.example"})
    logged = refusals(caplog)
    assert len(logged) == MAX_WARNED_ORIGINS + 1
    assert "later ones are not logged" in logged[-1]


# --- in Chromium -------------------------------------------------------------------------------


def unlisted(host_url: str) -> str:
    """test_web_browser's host pages (at localhost, the origin the newsbot below lists) under
    the origin it does not list: 127.0.0.1."""
    return host_url.replace("localhost", "127.0.0.1")


@pytest.mark.browser
def test_the_embed_page_on_an_unlisted_origin_is_logged_by_the_server(
    browser: Browser, host_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    page_origin = unlisted(host_url)
    app = build_app(ScriptedAssistant(), allowed_origins=[host_url])
    with serving_in_thread(app) as url:
        page = browser.new_context().new_page()
        page.goto(f"{page_origin}/embed.html?server={url}")
        page.wait_for_load_state("load")
        for _ in range(100):
            if refusals(caplog):
                break
            page.wait_for_timeout(100)
        page.wait_for_timeout(1000)  # the iframe and the component: still one line
        page.context.close()
    logged = refusals(caplog)
    assert len(logged) == 1, logged
    assert page_origin in logged[0]
    assert f"""NEWSBOT_ALLOWED_ORIGINS='["{host_url}", "{page_origin}"]'""" in logged[0]


@pytest.mark.browser
def test_chromium_framing_the_widget_from_an_unlisted_origin_is_logged_as_framing(
    browser: Browser, host_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """An iframe alone (no component, so no `Origin`): Chromium's `Sec-Fetch-Dest: iframe` and
    `Referer` are what the server goes by."""
    caplog.set_level(logging.WARNING, logger=LOGGER)
    page_origin = unlisted(host_url)
    with serving_in_thread(build_app(ScriptedAssistant(), allowed_origins=[host_url])) as url:
        page = browser.new_context().new_page()
        page.goto(f"{page_origin}/frame?src={url}/widget/")
        page.wait_for_load_state("load")
        page.wait_for_timeout(500)
        page.context.close()
    logged = refusals(caplog)
    assert len(logged) == 1, logged
    assert f"Refused framing the widget (/widget/) from a page on {page_origin}" in logged[0]
