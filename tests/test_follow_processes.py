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
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from ingest.article import build_article
from ingest.pipeline import ingest_articles
from newsbot.factories import build_store
from newsbot.settings import get_settings
from scripts.services import NEWSBOT
from scripts.services import newsbot as run_newsbot
from tests.feed_site import Site, article_html, rss
from tests.test_follow import DATE, site, three_stores

__all__ = ["site"]  # the shared fixture: the news site on loopback

pytestmark = pytest.mark.server

LEASE = 6.0


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
    with closing(sqlite3.connect(data_dir / "registry.sqlite3")) as db:
        row = db.execute("SELECT lease_owner, lease_until FROM followed_sources").fetchone()
    return row[0], row[1]


PAGES = [(f"/news/{n}", f"Merrow story {n}", DATE) for n in range(6)]


def publish(site: Site, count: int) -> None:
    """The first `count` of PAGES on the site and in its feed."""
    for path, title, _ in PAGES[:count]:
        site.put(path, article_html(title, [f"{title} happened in Merrow today. " * 30]))
    items = [(p, t, "Short teaser.", d) for p, t, d in PAGES[:count]]
    site.put("/feed.xml", rss(site, items), "application/rss+xml")


def kill_the_holder_and_see_it_taken_over(
    site: Site,
    processes: list[subprocess.Popen[bytes]],
    owner: Callable[[], str | None],
    logs: Callable[[], str],
    lease: float,
) -> None:
    """With PAGES[:2] published and followed every second by `processes` (which share the
    lease that `owner` reads): publish more, SIGKILL the process caught holding the lease, and
    see another take the feed over once the lease runs out, each page read once."""
    deadline = time.monotonic() + 180
    while len(site.requests("/feed.xml", 304)) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)  # all running, the first pages stored, the feed unchanged since
    assert len(site.requests("/feed.xml", 304)) >= 3, logs()
    publish(site, 4)
    # The next fetch of the feed hangs: whoever makes it holds the lease while it waits.
    site.slow["/feed.xml"] = 30.0
    deadline = time.monotonic() + 60
    while not site.requests("/feed.xml", 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    holding = owner()
    assert holding is not None, logs()
    [holder] = [p for p in processes if f":{p.pid}:" in holding]
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    killed = time.monotonic()
    del site.slow["/feed.xml"]
    publish(site, 6)
    deadline = killed + lease + 60
    while len(site.requests("/news/5", 200)) == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    taken = [h.at for h in site.requests("/feed.xml") if h.at > killed]
    assert taken, logs()
    # Taken over once the lease ran out (a little slack for the poller's wake-up).
    assert taken[0] - killed <= lease + 2.0, taken[0] - killed
    assert all(p.poll() is None for p in processes if p is not holder)
    deadline = time.monotonic() + 60
    while len(site.requests("/news/5", 200)) == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    for path, _, _ in PAGES:
        assert len(site.requests(path, 200)) == 1, path  # each page read (and embedded) once


def test_two_workers_read_each_page_once_and_a_killed_one_is_taken_over(
    site: Site, env: dict[str, str], tmp_path: Path, clean_environ: Path
) -> None:
    publish(site, 2)
    assert newsbot(env, "follow", "add", site.url("/feed.xml"), "--every", "1s").returncode == 0
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    processes = [worker(env, log) for log in logs]
    try:
        kill_the_holder_and_see_it_taken_over(
            site,
            processes,
            lambda: lease_owner(clean_environ)[0],
            lambda: "".join(log.read_text() for log in logs),
            LEASE,
        )
        time.sleep(1.0)  # the last poll recorded
    finally:
        for process in processes:
            stop(process)
    store = build_store(get_settings())
    try:
        rows = store.registry.list_articles()
        chroma, registry, keywords = three_stores(store)
    finally:
        store.registry.close()
    assert len(rows) == len(PAGES)
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
            with closing(sqlite3.connect(clean_environ / "registry.sqlite3")) as db:
                left = db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
            if left < total - 5:
                break
            time.sleep(0.05)
        assert prune.poll() is None, "the prune ended before it could be killed"
        prune.send_signal(signal.SIGKILL)
    finally:
        prune.kill()
        prune.wait()
    with closing(sqlite3.connect(clean_environ / "registry.sqlite3")) as db:
        left = db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    assert len(new) < left < total  # killed midway

    again = newsbot(env, "prune", "--older-than", "365d", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["removed"]
    store = build_store(get_settings(data_dir=clean_environ))
    try:
        kept = {row.article_id for row in store.registry.list_articles(limit=1000)}
        pending = store.registry.pending()
        chroma, registry, keywords = three_stores(store)
    finally:
        store.registry.close()
    assert kept == {a.article_id for a in new}
    assert pending == []
    assert chroma == registry == keywords
    assert {cid.rsplit(":", 1)[0] for cid in chroma} == kept
