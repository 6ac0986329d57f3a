"""The Library's followed-sources panel and the header in a real browser (Debian's Chromium).

The real store and embedder, the app's real Library adapter with its follow desk, a scripted chat
model, and a news site on a loopback port. A person follows a feed and a broken one from the
Library tab; the poller runs (in the test, as `newsbot serve`'s thread would); without a reload,
the header's "what it knows" line counts the new articles and the panel shows each source's
state, the broken one's error in words; then the person stops following it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from playwright.sync_api import Page

from bot.answer.assistant import Assistant
from bot.web import build_app
from bot.web.server import serving_in_thread
from newsbot.follow_command import build_worker, follow_desk
from newsbot.library import StoreLibrary
from newsbot.settings import get_settings
from prompts import load_prompts
from tests.feed_site import Site, article_html, rss, serve_site
from tests.fixtures_llm import assistant_options
from tests.test_web_api import make_store
from tests.test_web_browser import browser, open_page

__all__ = ["browser"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning"),
]

DATE = "Tue, 01 Dec 2026 10:00:00 GMT"


@pytest.fixture
def page(browser: object) -> Iterator[Page]:
    opened = open_page(browser)  # type: ignore[arg-type]
    yield opened
    opened.context.close()


@pytest.fixture
def site() -> Iterator[Site]:
    with serve_site() as served:
        items = []
        for n, title in enumerate(("Harbour wall rebuilt", "Ferry returns to Merrow")):
            served.put(f"/news/{n}", article_html(title, [f"{title}, the council said. " * 30]))
            items.append((f"/news/{n}", title, "Short.", DATE))
        served.put("/feed.xml", rss(served, items), "application/rss+xml")
        served.failing["/broken.xml"] = 500
        yield served


def library_app(data_dir: Path) -> tuple[Any, Any, Any]:
    """An empty store, its settings, and the web app with the Library and its follow desk over
    it (a scripted chat model)."""
    store = make_store(data_dir, [])
    settings = get_settings(data_dir=data_dir)
    llm = GenericFakeChatModel(messages=itertools.cycle([AIMessage(content="No.")]))
    app = build_app(
        Assistant(store, llm, load_prompts(), **assistant_options(k=3)),
        StoreLibrary(settings, store, follow_desk(store)),
    )
    return store, settings, app


def test_follow_from_the_library_and_watch_the_articles_arrive(
    page: Page, site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSBOT_FETCH_ALLOW_NETWORKS", '["127.0.0.1/32"]')
    # The page reads the panel and the header again on a timer (15 s), the header's counts
    # cached for 10 s: 2 s and 1 s here, the same code.
    monkeypatch.setattr("bot.web.library_follow.REFRESH_SECONDS", 2.0)
    monkeypatch.setattr("bot.web.ui.KNOWLEDGE_REFRESH_SECONDS", 2.0)
    monkeypatch.setattr("bot.web.knowledge.CACHE_SECONDS", 1.0)
    store, settings, app = library_app(tmp_path / "data")
    with serving_in_thread(app) as url:
        page.goto(url + "/")
        header = page.locator("#nb-knowledge")
        header.get_by_text("No articles yet").wait_for(timeout=30_000)
        page.get_by_role("tab", name="Library").click()
        panel = page.locator("#nb-follows")
        panel.get_by_text("No followed sources yet").wait_for(timeout=30_000)

        for path in ("/feed.xml", "/broken.xml"):
            page.locator("#nb-follow-url").get_by_role("textbox").fill(site.url(path))
            page.locator("#nb-follow-every").get_by_role("textbox").fill("1h")
            page.get_by_role("button", name="Follow", exact=True).click()
            page.locator("#nb-follow-status").get_by_text(
                f"Following {site.url(path)} every 1h"
            ).wait_for(timeout=30_000)
        panel.get_by_text(site.url("/broken.xml")).wait_for(timeout=10_000)
        assert panel.inner_text().count("never") >= 4  # not checked yet, nothing new yet

        polled = build_worker(settings, store).run_once()
        assert sorted(o.new_articles for _, o in polled) == [0, 2]

        # No reload: the header and the panel read again by themselves.
        header.get_by_text("2 articles").wait_for(timeout=45_000)
        panel.get_by_text("failed once: the server answered HTTP 500").wait_for(timeout=30_000)
        rows = panel.locator("tbody tr")
        feed_row = rows.filter(has_text=site.url("/feed.xml")).inner_text()
        assert "2" in feed_row.split("\t")
        # Checked, with something new: "now" or "3 s ago", whichever the panel's timer read.
        assert "never" not in feed_row

        page.locator("#nb-follow-pick input").click()
        page.get_by_role("option", name=site.url("/broken.xml"), exact=True).click()
        page.get_by_role("button", name="Stop following").click()
        page.locator("#nb-follow-status").get_by_text("Stopped following").wait_for(timeout=30_000)
        assert site.url("/broken.xml") not in panel.inner_text()
        assert site.url("/feed.xml") in panel.inner_text()
        assert page.errors == []  # type: ignore[attr-defined]
    store.registry.close()


def test_the_panel_shows_a_source_followed_elsewhere_when_the_tab_opens(
    page: Page, site: Site, tmp_path: Path
) -> None:
    """Found by a review: a new page showed the sources as they were when the server started,
    until the panel's timer ticked (15 s)."""
    import time

    from vectorstore.follows import FollowedSources

    store, _, app = library_app(tmp_path / "data")
    with serving_in_thread(app) as url:
        # As `newsbot follow add` in another process does, after the server started.
        sources = FollowedSources(store.registry.database, store.collection_name)
        sources.add(site.url("/feed.xml"), 3600, "auto", time.time())
        page.goto(url + "/")
        page.get_by_role("tab", name="Library").click()
        panel = page.locator("#nb-follows")
        panel.get_by_text(site.url("/feed.xml")).wait_for(timeout=8_000)  # before the timer
    store.registry.close()
