"""A running `newsbot serve` follows a feed: an entry added to the feed is answered from the full
article its link leads to, within one poll interval plus 10 s.

Real processes: a news site on a loopback port (the feed carries a one-line teaser; the fact the
question asks for is only on the article page), `newsbot serve` with the bundled local model,
polling the feed every 2 s on its background thread.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from bot.llm.model_files import ensure_default_model
from scripts.services import Service, start_replica
from scripts.services import newsbot as run_newsbot
from tests.conftest import EXAMPLES_DIR
from tests.feed_site import Site, article_html, rss, serve_site
from tests.fixtures_llm import TEST_MODELS_DIR

pytestmark = [pytest.mark.slow, pytest.mark.server]

EVERY = 2.0
TITLE = "Zorblat lighthouse reopens after storm repairs"
TEASER = "The Zorblat lighthouse has reopened."
PAGE = [
    "The Zorblat lighthouse on the Merrow coast reopened on Tuesday after six months of storm "
    "repairs, the harbour authority said. Engineers replaced the lantern room and its lens.",
    "Keeper Ottoline Fenwick lit the lamp at dusk before a crowd of two hundred people.",
]
QUESTION = "Who lit the lamp when the Zorblat lighthouse reopened?"
DATE = "Tue, 01 Dec 2026 10:00:00 GMT"


@pytest.fixture
def site() -> Iterator[Site]:
    with serve_site() as served:
        served.put("/news/ferry", article_html("Merrow ferry returns", ["The ferry " * 60]))
        items = [("/news/ferry", "Merrow ferry returns", "The ferry is back.", DATE)]
        served.put("/feed.xml", rss(served, items), "application/rss+xml")
        yield served


def newsbot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_newsbot(*args, env=env, timeout=600)


def last_check(data_dir: Path) -> float | None:
    with sqlite3.connect(data_dir / "registry.sqlite3") as db:
        row = db.execute("SELECT last_check FROM followed_sources").fetchone()
    return row[0] if row else None


@pytest.fixture
def served(site: Site, clean_environ: Path) -> Iterator[Service]:
    """`newsbot serve` on the sample articles, following the site's feed every 2 s."""
    ensure_default_model(TEST_MODELS_DIR)
    env = {**os.environ, "NEWSBOT_FETCH_ALLOW_NETWORKS": '["127.0.0.1/32"]'}
    assert newsbot(env, "ingest", str(EXAMPLES_DIR)).returncode == 0
    added = newsbot(env, "follow", "add", site.url("/feed.xml"), "--every", f"{EVERY:g}s")
    assert added.returncode == 0, added.stderr
    server = start_replica("newsbot serve", clean_environ, env)
    try:
        deadline = time.monotonic() + 120
        while last_check(clean_environ) is None and time.monotonic() < deadline:
            time.sleep(0.2)  # its first poll stored the ferry story
        assert last_check(clean_environ) is not None, server.log.read_text()
        yield server
    finally:
        server.stop()


def stored(data_dir: Path, title: str) -> bool:
    """Whether the article called `title` is in the registry with its chunks written."""
    with closing(sqlite3.connect(data_dir / "registry.sqlite3")) as db:
        query = "SELECT 1 FROM articles WHERE title = ? AND status = 'done'"
        return db.execute(query, (title,)).fetchone() is not None


def test_a_new_feed_entry_is_answered_from_its_page_within_an_interval_and_ten_seconds(
    site: Site, served: Service, clean_environ: Path
) -> None:
    site.put("/news/zorblat", article_html(TITLE, PAGE))
    items = [
        ("/news/zorblat", TITLE, TEASER, DATE),
        ("/news/ferry", "Merrow ferry returns", "The ferry is back.", DATE),
    ]
    site.put("/feed.xml", rss(site, items), "application/rss+xml")
    published = time.monotonic()
    # Asked once the page is stored and the feed has been read unchanged since, or at the bound
    # (sleeping to the bound cost every run 12 s).
    unchanged_before: int | None = None
    while time.monotonic() - published < EVERY + 10:
        if unchanged_before is None and stored(clean_environ, TITLE):
            unchanged_before = len(site.requests("/feed.xml", 304))
        if unchanged_before is not None and len(site.requests("/feed.xml", 304)) > unchanged_before:
            break
        time.sleep(0.2)

    asked = time.monotonic()
    response = httpx.post(served.url + "/api/ask", json={"question": QUESTION}, timeout=600)
    assert asked - published <= EVERY + 10.5
    assert response.status_code == 200, response.text
    result = response.json()
    assert TITLE in [s["title"] for s in result["sources"]], (result, served.log.read_text())
    assert "Fenwick" in result["answer"]
    cited = [s for s in result["sources"] if s["title"] == TITLE]
    # The page's text, not the feed's one-line teaser.
    assert any("Ottoline Fenwick" in s["passage"] for s in cited), cited
    assert len(site.requests("/news/zorblat", 200)) == 1
    # The feed was fetched every interval meanwhile, unchanged ones answered 304.
    assert site.requests("/feed.xml", 304)
