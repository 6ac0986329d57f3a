"""Followed sources with real `newsbot` processes on one data dir and a loopback news site.

A failing feed is checked by `newsbot follow run` with growing gaps, and `newsbot follow list`
says why; two workers share the sources, each page is read once, and when the one holding a
source's lease is killed with SIGKILL the other takes the source over once the lease runs out;
a `newsbot prune` killed with SIGKILL midway is finished by the next, leaving Chroma, the
registry and the keyword index with exactly the same ids.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.article import build_article
from ingest.pipeline import ingest_articles
from newsbot.factories import build_store
from newsbot.settings import get_settings
from scripts.services import NEWSBOT
from scripts.services import newsbot as run_newsbot
from tests.feed_site import Site, article_html, rss, serve_site
from tests.test_follow import three_stores

pytestmark = pytest.mark.server

LEASE = 6.0
DATE = "Tue, 01 Dec 2026 10:00:00 GMT"


@pytest.fixture
def site() -> Iterator[Site]:
    with serve_site() as served:
        yield served


@pytest.fixture
def env(clean_environ: Path) -> dict[str, str]:
    return {
        **os.environ,
        "NEWSBOT_FETCH_ALLOW_NETWORKS": '["127.0.0.1/32"]',
        "NEWSBOT_FOLLOW_LEASE_SECONDS": str(LEASE),
    }


def newsbot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_newsbot(*args, env=env, timeout=300)


def worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [*NEWSBOT, "-v", "follow", "run"], stdout=out, stderr=subprocess.STDOUT, env=env
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_failing_feed_is_checked_less_and_less_often_and_the_list_says_why(
    site: Site, env: dict[str, str], tmp_path: Path
) -> None:
    site.failing["/feed.xml"] = 500
    assert newsbot(env, "follow", "add", site.url("/feed.xml"), "--every", "1s").returncode == 0
    process = worker(env, tmp_path / "worker.log")
    try:
        deadline = time.monotonic() + 60
        while len(site.requests("/feed.xml")) < 4 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop(process)
    times = [hit.at for hit in site.requests("/feed.xml")]
    assert len(times) >= 4, (tmp_path / "worker.log").read_text()
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # 2, 4, 8 s less up to a quarter of jitter: each gap longer than the one before.
    assert all(a < b for a, b in itertools.pairwise(gaps)), gaps
    assert gaps[0] >= 1.4

    listing = newsbot(env, "follow", "list")
    assert listing.returncode == 0, listing.stderr
    assert "failed" in listing.stdout
    assert "times in a row: the server answered HTTP 500" in listing.stdout
    [row] = [
        json.loads(line) for line in newsbot(env, "follow", "list", "--json").stdout.splitlines()
    ]
    assert row["failures"] >= 3
    assert row["last_check"] is not None


def lease_owner(data_dir: Path) -> tuple[str | None, float | None]:
    with sqlite3.connect(data_dir / "registry.sqlite3") as db:
        row = db.execute("SELECT lease_owner, lease_until FROM followed_sources").fetchone()
    return row[0], row[1]


def test_two_workers_read_each_page_once_and_a_killed_one_is_taken_over(
    site: Site, env: dict[str, str], tmp_path: Path, clean_environ: Path
) -> None:
    pages = [(f"/news/{n}", f"Merrow story {n}", DATE) for n in range(6)]

    def publish(count: int) -> None:
        for path, title, _ in pages[:count]:
            site.put(path, article_html(title, [f"{title} happened in Merrow today. " * 30]))
        items = [(p, t, "Short teaser.", d) for p, t, d in pages[:count]]
        site.put("/feed.xml", rss(site, items), "application/rss+xml")

    publish(2)
    assert newsbot(env, "follow", "add", site.url("/feed.xml"), "--every", "1s").returncode == 0
    first = worker(env, tmp_path / "first.log")
    second = worker(env, tmp_path / "second.log")
    try:
        deadline = time.monotonic() + 120
        while len(site.requests("/feed.xml", 304)) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)  # both running, the first pages stored, the feed unchanged since
        publish(4)
        # The next fetch of the feed hangs: whoever makes it holds the lease while it waits.
        site.slow["/feed.xml"] = 30.0
        deadline = time.monotonic() + 60
        while not site.requests("/feed.xml", 0) and time.monotonic() < deadline:
            time.sleep(0.05)
        owner = lease_owner(clean_environ)[0]
        assert owner is not None
        holder, other = (first, second) if f":{first.pid}:" in owner else (second, first)
        assert f":{holder.pid}:" in owner
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        killed = time.monotonic()
        del site.slow["/feed.xml"]
        publish(6)
        deadline = killed + LEASE + 30
        while len(site.requests("/news/5")) == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        taken = [h.at for h in site.requests("/feed.xml") if h.at > killed]
        assert taken, (tmp_path / "first.log").read_text() + (tmp_path / "second.log").read_text()
        # Taken over once the lease ran out (a little slack for the worker's own poll).
        assert taken[0] - killed <= LEASE + 2.0, taken[0] - killed
        assert other.poll() is None
    finally:
        stop(first)
        stop(second)
    for path, _, _ in pages:
        assert len(site.requests(path, 200)) == 1, path  # each page read (and embedded) once
    store = build_store(get_settings())
    assert len(store.registry.list_articles()) == 6
    chroma, registry, keywords = three_stores(store)
    assert chroma == registry == keywords


def test_a_prune_killed_midway_is_finished_by_the_next(
    env: dict[str, str], clean_environ: Path, tmp_path: Path
) -> None:
    store = build_store(get_settings(data_dir=clean_environ))
    body = "The council met to discuss the harbour and its future. " * 5
    old = [
        build_article(origin=f"old{n}", text=f"Old story {n}. {body}", published="2020-01-01")[0]
        for n in range(100)
    ]
    new = [
        build_article(origin=f"new{n}", text=f"New story {n}. {body}", published="2026-11-30")[0]
        for n in range(3)
    ]
    ingest_articles([*old, *new], store, tiktoken_cache_dir=clean_environ / "tiktoken")
    total = len(old) + len(new)
    store.registry.close()

    with (tmp_path / "prune.log").open("wb") as out:
        prune = subprocess.Popen(
            [*NEWSBOT, "prune", "--older-than", "365d"], stdout=out, stderr=out, env=env
        )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and prune.poll() is None:
            with sqlite3.connect(clean_environ / "registry.sqlite3") as db:
                left = db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
            if left < total - 5:
                break
            time.sleep(0.05)
        assert prune.poll() is None, "the prune ended before it could be killed"
        prune.send_signal(signal.SIGKILL)
    finally:
        prune.kill()
        prune.wait()
    with sqlite3.connect(clean_environ / "registry.sqlite3") as db:
        left = db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    assert len(new) < left < total  # killed midway

    again = newsbot(env, "prune", "--older-than", "365d", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["removed"]
    store = build_store(get_settings(data_dir=clean_environ))
    kept = {row.article_id for row in store.registry.list_articles(limit=1000)}
    assert kept == {a.article_id for a in new}
    assert store.registry.pending() == []
    chroma, registry, keywords = three_stores(store)
    assert chroma == registry == keywords
    assert {cid.rsplit(":", 1)[0] for cid in chroma} == kept
