"""Followed sources polled into a real store (Chroma in tmp_path, the real embedder, the registry in
SQLite and in PostgreSQL) from a news site on a loopback port that counts its requests.

A new entry is stored with its page's full text; an unchanged feed costs one 304 and embeds
nothing; a page that fails is stored from the feed and completed later; robots.txt is honoured;
a news sitemap index is read through its sitemaps; a failing feed is checked less and less often
and says why; private addresses stay refused unless allowed; one poller holds a source at a
time; retention removes exactly the old unpinned articles from the three stores, and a prune
that dies midway is finished by the next.
"""

from __future__ import annotations

import itertools
import logging
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.web.limits import AnswerGate
from ingest.article import build_article
from ingest.follow import poller as poller_module
from ingest.follow.poller import Poller, PollOptions
from ingest.follow.worker import FollowWorker
from ingest.loaders.addresses import AddressPolicy
from ingest.loaders.fetching import FetchPolicy
from ingest.pipeline import ingest_articles
from newsbot.follow_command import status, status_lines
from tests.feed_site import Site, article_html, rss, serve_site
from tests.fixtures_store import Opener
from vectorstore.chunks import chunk_id
from vectorstore.database import open_database
from vectorstore.follows import FollowedSources
from vectorstore.retention import Pins, prune
from vectorstore.store import NewsStore

LOCAL = FetchPolicy(addresses=AddressPolicy.from_strings(["127.0.0.1/32"]), timeout=5)
EVERY = 0.1
FACT = "Keeper Ottoline Fenwick lit the lamp at dusk before a crowd of two hundred people."
PAGE = [
    "The Zorblat lighthouse on the Merrow coast reopened on Tuesday after six months of storm "
    "repairs, the harbour authority said. Engineers replaced the lantern room and its lens.",
    FACT,
]
TEASER = "The Zorblat lighthouse reopened."
DATE = "Tue, 01 Dec 2026 10:00:00 GMT"


@pytest.fixture
def site() -> Iterator[Site]:
    with serve_site() as served:
        yield served


@pytest.fixture
def store(open_store: Opener, embedder: Any) -> NewsStore:
    return open_store(embedder)


def worker(
    store: NewsStore,
    tmp_path: Path,
    policy: FetchPolicy = LOCAL,
    lease: float = 120.0,
    page_seconds: float = 300.0,
) -> FollowWorker:
    sources = FollowedSources(store.registry.database, "news")
    options = PollOptions(
        policy=policy,
        tiktoken_cache_dir=tmp_path / "tiktoken",
        chunk_tokens=200,
        overlap=30,
        max_article_chars=300_000,
        lease_seconds=lease,
        page_seconds=page_seconds,
    )
    poller = Poller(store, sources, options, "test-poller", rng=random.Random(7))
    return FollowWorker(sources, poller)


def follow(w: FollowWorker, url: str, full_text: Any = "auto", every: float = EVERY) -> None:
    w.sources.add(url, every, full_text, time.time())


def poll(w: FollowWorker) -> list[Any]:
    """One pass once the source is due again."""
    wait = (w.sources.next_due() or 0) - time.time()
    if wait > 0:
        time.sleep(wait + 0.01)
    return [outcome for _, outcome in w.run_once()]


def three_stores(store: NewsStore) -> tuple[set[str], set[str], set[str]]:
    """The chunk ids in Chroma, the ids the registry's rows name, and the keyword index's ids."""
    chroma = store.client.get_collection("news").get(include=[])["ids"]
    assert len(chroma) == len(set(chroma)), "a chunk stored twice"
    rows = store.registry.list_articles(limit=10_000) + store.registry.pending()
    registry = {chunk_id(row.article_id, i) for row in rows for i in range(row.n_chunks)}
    assert store.keywords is not None
    keywords = {chunk.chunk_id for chunk in store.keywords.rows()}
    return set(chroma), registry, keywords


def texts(store: NewsStore, article_id: str) -> str:
    got = store.client.get_collection("news").get(where={"article_id": article_id})
    return " ".join(got["documents"] or [])


def zorblat(site: Site, path: str = "/news/zorblat") -> None:
    site.put(path, article_html("Zorblat lighthouse reopens", PAGE))
    feed = rss(site, [(path, "Zorblat lighthouse reopens", TEASER, DATE)])
    site.put("/feed.xml", feed, "application/rss+xml")


def test_a_new_entry_is_stored_from_its_page_and_an_unchanged_feed_costs_a_304(
    site: Site, store: NewsStore, tmp_path: Path
) -> None:
    zorblat(site)
    w = worker(store, tmp_path)
    follow(w, site.url("/feed.xml"))

    [first] = poll(w)
    assert first.new_articles == 1
    assert first.error is None
    [row] = store.registry.list_articles()
    assert row.title == "Zorblat lighthouse reopens"
    assert row.source == "Merrow Gazette"
    assert FACT in texts(store, row.article_id)  # the page, not the two-line teaser
    assert all("newsbot/" in hit.agent for hit in site.hits)
    before = three_stores(store)

    [second] = poll(w)
    assert second.new_articles == 0
    assert [h.status for h in site.requests("/feed.xml")] == [200, 304]
    assert len(site.requests("/news/zorblat")) == 1  # nothing read again
    assert store.registry.get(row.article_id) == row  # nor written again (same ingested_at)
    assert three_stores(store) == before

    site.put("/news/second", article_html("Merrow ferry returns", ["The ferry " * 80]))
    items = [
        ("/news/second", "Merrow ferry returns", "Ferry back.", DATE),
        ("/news/zorblat", "Zorblat lighthouse reopens", TEASER, DATE),
    ]
    site.put("/feed.xml", rss(site, items), "application/rss+xml")
    [third] = poll(w)
    assert third.new_articles == 1
    assert len(site.requests("/news/zorblat")) == 1
    assert len(site.requests("/news/second")) == 1
    chroma, registry, keywords = three_stores(store)
    assert chroma == registry == keywords
    assert len(store.registry.list_articles()) == 2
    [line] = [s for s in status(w.sources) if s.url == site.url("/feed.xml")]
    assert line.added_last_day == 2
    assert line.kind == "feed"
    assert line.last_error is None


def stored_while_its_page_fails(
    site: Site, store: NewsStore, tmp_path: Path
) -> tuple[FollowWorker, Any]:
    """The zorblat feed followed and polled once while its page answers 503: the worker, and
    the row of the article stored from the feed's text."""
    zorblat(site)
    site.failing["/news/zorblat"] = 503
    w = worker(store, tmp_path)
    follow(w, site.url("/feed.xml"))
    [first] = poll(w)
    assert first.new_articles == 1
    [row] = store.registry.list_articles()
    return w, row


def test_a_page_that_fails_is_stored_from_the_feed_and_completed_later(
    site: Site, store: NewsStore, tmp_path: Path
) -> None:
    w, row = stored_while_its_page_fails(site, store, tmp_path)
    assert TEASER in texts(store, row.article_id)
    assert FACT not in texts(store, row.article_id)

    del site.failing["/news/zorblat"]
    [second] = poll(w)  # the feed is unchanged (304); the page is tried again all the same
    assert site.requests("/feed.xml")[-1].status == 304
    assert [h.status for h in site.requests("/news/zorblat")] == [503, 200]
    assert second.new_articles == 0
    [again] = store.registry.list_articles()
    assert again.article_id == row.article_id  # the page's version replaced the feed's
    assert FACT in texts(store, row.article_id)
    chroma, registry, keywords = three_stores(store)
    assert chroma == registry == keywords

    poll(w)
    assert len(site.requests("/news/zorblat")) == 2  # done: not read a third time


def test_relative_links_are_read_and_a_link_that_is_no_url_fails_only_its_entry(
    site: Site, store: NewsStore, tmp_path: Path
) -> None:
    """Found by a review: a relative entry link was never read (nor a working citation), and
    one entry link with an invalid international name failed the whole feed at every check."""
    site.put("/news/rel", article_html("Merrow ferry returns", PAGE))
    items = [
        ("/news/rel", "Merrow ferry returns", "Ferry back."),
        ("http://xn--.com/a", "A link that is no URL", "A teaser whose link cannot be read."),
    ]
    entries = "".join(
        f"<item><title>{title}</title><link>{link}</link><description>{teaser}</description>"
        f"<pubDate>{DATE}</pubDate></item>"
        for link, title, teaser in items
    )
    site.put(
        "/feed.xml",
        f"<rss version='2.0'><channel><title>Merrow Gazette</title>{entries}</channel></rss>",
        "application/rss+xml",
    )
    w = worker(store, tmp_path)
    follow(w, site.url("/feed.xml"))

    [first] = poll(w)
    assert first.error is None
    assert first.new_articles == 2
    rows = {row.title: row for row in store.registry.list_articles()}
    assert rows["Merrow ferry returns"].url == site.url("/news/rel")
    assert FACT in texts(store, rows["Merrow ferry returns"].article_id)  # its page, read
    assert "cannot be read" in texts(store, rows["A link that is no URL"].article_id)

    # A sitemap's <loc> that is no URL (found by a review of the per-site skip, which read the
    # link's host before the guarded part): it fails alone, not the whole sitemap every time.
    locs = "".join(f"<url><loc>{loc}</loc></url>" for loc in ("http://[oops/story", "/news/rel"))
    site.put(
        "/sitemap.xml",
        f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{locs.replace('/news/rel', site.url('/news/rel'))}</urlset>",
        "application/xml",
    )
    follow(w, site.url("/sitemap.xml"))
    sitemap = dict(w.run_once())[site.url("/sitemap.xml")]
    assert sitemap.error is None


def test_two_feeds_using_the_same_guid_keep_both_stories(
    site: Site, store: NewsStore, tmp_path: Path
) -> None:
    """Found by a review: a guid ("1") need only be unique within its feed; the second feed's
    entry took the first one's article id and overwrote its story."""
    for name, title, fact in (("a", "Harbour opens", FACT), ("b", "Club wins cup", "The cup.")):
        site.put(f"/{name}/story", article_html(title, [f"{title}. {fact} " * 20]))
        item = (
            f"<item><title>{title}</title><link>{site.url(f'/{name}/story')}</link>"
            f"<guid isPermaLink='false'>1</guid><description>{title}, the teaser.</description>"
            f"<pubDate>{DATE}</pubDate></item>"
        )
        channel = f"<channel><title>Feed {name}</title>{item}</channel>"
        site.put(f"/{name}.xml", f"<rss version='2.0'>{channel}</rss>", "application/rss+xml")
    w = worker(store, tmp_path)
    follow(w, site.url("/a.xml"))
    assert [o.new_articles for o in poll(w)] == [1]
    follow(w, site.url("/b.xml"))
    assert 1 in [o.new_articles for o in poll(w)]

    rows = {row.title: row for row in store.registry.list_articles()}
    assert sorted(rows) == ["Club wins cup", "Harbour opens"]
    assert rows["Harbour opens"].article_id == "1"  # the first keeps its guid
    assert FACT in texts(store, "1")
    assert "The cup." in texts(store, rows["Club wins cup"].article_id)


def test_a_deleted_article_is_not_brought_back_by_its_page(
    site: Site, store: NewsStore, tmp_path: Path
) -> None:
    """Found by a review: an entry stored from its feed's text while its page failed, deleted
    (or pruned) meanwhile, came back from its page on the next try, undated."""
    w, row = stored_while_its_page_fails(site, store, tmp_path)
    store.delete_article(row.article_id)

    del site.failing["/news/zorblat"]
    [second] = poll(w)
    assert second.new_articles == 0
    assert store.registry.list_articles() == []
    assert [h.status for h in site.requests("/news/zorblat")] == [503]  # not read again
    poll(w)
    assert store.registry.list_articles() == []


def test_a_page_given_up_on_is_said_at_warning_level(
    site: Site, store: NewsStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by a review: giving a page up for good was logged at INFO, which a service's log
    does not show."""
    w, row = stored_while_its_page_fails(site, store, tmp_path)
    with caplog.at_level(logging.WARNING, logger="ingest.follow.poller"):
        for _ in range(poller_module.MAX_TRIES + 1):
            poll(w)
    said = [r.getMessage() for r in caplog.records if "given up" in r.getMessage()]
    link = site.url("/news/zorblat")
    assert said == [
        f"{link}: given up after {poller_module.MAX_TRIES} tries; its feed's text is kept"
    ]
    assert len(site.requests("/news/zorblat")) == poller_module.MAX_TRIES
    assert TEASER in texts(store, row.article_id)


def test_an_unavailable_robots_txt_spends_none_of_an_entrys_tries(
    site: Site, store: NewsStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: while a site's robots.txt failed, each check counted a try of the
    entry's page without asking for it, so the entry gave up for good, its page never read."""
    from ingest.follow import robots

    monkeypatch.setattr(robots, "RETRY_SECONDS", 0.0)  # ask for robots.txt again at each check
    zorblat(site)
    site.failing["/robots.txt"] = 503
    w = worker(store, tmp_path)
    follow(w, site.url("/feed.xml"), every=0.05)
    for _ in range(poller_module.MAX_TRIES + 1):
        poll(w)
    assert site.requests("/news/zorblat") == []
    [row] = store.registry.list_articles()
    assert TEASER in texts(store, row.article_id)

    del site.failing["/robots.txt"]
    poll(w)
    assert len(site.requests("/news/zorblat")) == 1
    assert FACT in texts(store, row.article_id)


def test_robots_txt_keeps_the_poller_off_the_pages_it_disallows(
    site: Site, store: NewsStore, tmp_path: Path
) -> None:
    zorblat(site)
    site.put("/robots.txt", "User-agent: newsbot\nDisallow: /news/\n", "text/plain")
    w = worker(store, tmp_path)
    follow(w, site.url("/feed.xml"), full_text="on")
    [outcome] = poll(w)
    assert outcome.new_articles == 1
    assert site.requests("/news/zorblat") == []
    [row] = store.registry.list_articles()
    assert TEASER in texts(store, row.article_id)
    poll(w)
    assert site.requests("/news/zorblat") == []  # and it is not tried again


def test_a_news_sitemap_index_is_read_through_its_sitemaps(
    site: Site, store: NewsStore, tmp_path: Path
) -> None:
    news = "http://www.google.com/schemas/sitemap-news/0.9"
    urls = "".join(
        f"<url><loc>{site.url(path)}</loc><news:news><news:publication><news:name>Merrow "
        f"Gazette</news:name><news:language>en</news:language></news:publication>"
        f"<news:publication_date>2026-12-0{day}</news:publication_date>"
        f"<news:title>{title}</news:title></news:news></url>"
        for path, title, day in (("/a", "Harbour wall rebuilt", 2), ("/b", "Ferry returns", 3))
    )
    site.put(
        "/news-sitemap.xml",
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        f'xmlns:news="{news}">{urls}</urlset>',
        "application/xml",
    )
    site.put(
        "/sitemap-index.xml",
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{site.url('/news-sitemap.xml')}</loc></sitemap>"
        f"<sitemap><loc>{site.url('/sitemap-index.xml')}</loc></sitemap>"  # itself: skipped
        f"<sitemap><loc>{site.url('/lonely-index.xml')}</loc></sitemap></sitemapindex>",
        "application/xml",
    )
    site.put(  # an index that lists only itself: nothing to read, which its check says
        "/lonely-index.xml",
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{site.url('/lonely-index.xml')}</loc></sitemap></sitemapindex>",
        "application/xml",
    )
    site.put("/a", article_html("Harbour wall", ["The harbour wall was rebuilt in stone. " * 20]))
    site.put("/b", article_html("Ferry", ["The ferry returned to Merrow on Thursday. " * 20]))
    w = worker(store, tmp_path)
    follow(w, site.url("/sitemap-index.xml"))
    [outcome] = poll(w)
    assert outcome.new_articles == 2
    assert outcome.kind == "news sitemap index"
    rows = {row.title: row for row in store.registry.list_articles()}
    assert set(rows) == {"Harbour wall rebuilt", "Ferry returns"}  # the sitemap's titles
    assert rows["Ferry returns"].published == "2026-12-03"
    assert "stone" in texts(store, rows["Harbour wall rebuilt"].article_id)
    assert len(site.requests("/sitemap-index.xml")) == 1
    assert len(site.requests("/lonely-index.xml")) == 1  # read as a child, and skipped

    follow(w, site.url("/lonely-index.xml"))
    lonely = dict(w.run_once())[site.url("/lonely-index.xml")]
    assert lonely.error == "none of the sitemaps it names could be read"


def test_a_sitemap_entry_read_on_a_later_try_keeps_its_title_date_and_source(
    site: Site, store: NewsStore, tmp_path: Path
) -> None:
    """Found by a review: a sitemap entry has no text of its own, so when its page failed the
    first time nothing was stored; on the later try (the sitemap unchanged: a 304) its title,
    date and source were gone, and the article was stored undated."""
    news = "http://www.google.com/schemas/sitemap-news/0.9"
    site.put(
        "/news-sitemap.xml",
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        f'xmlns:news="{news}"><url><loc>{site.url("/a")}</loc><news:news><news:publication>'
        "<news:name>Merrow Gazette</news:name><news:language>en</news:language>"
        "</news:publication><news:publication_date>2026-12-02</news:publication_date>"
        "<news:title>Harbour wall rebuilt</news:title></news:news></url></urlset>",
        "application/xml",
    )
    site.put("/a", article_html("Page headline", ["The harbour wall was rebuilt. " * 20], "X"))
    site.failing["/a"] = 503
    w = worker(store, tmp_path)
    follow(w, site.url("/news-sitemap.xml"))
    [first] = poll(w)
    assert first.new_articles == 0
    assert store.registry.list_articles() == []

    del site.failing["/a"]
    [second] = poll(w)
    assert site.requests("/news-sitemap.xml")[-1].status == 304
    assert second.new_articles == 1
    [row] = store.registry.list_articles()
    assert (row.title, row.published, row.source) == (
        "Harbour wall rebuilt",
        "2026-12-02",
        "Merrow Gazette",
    )
    # Kept only while the page was to be read.
    assert w.sources.database.rows("SELECT COUNT(*) FROM followed_entry_details") == [(0,)]


@pytest.mark.server  # seconds of slow answers: with the tests that time servers, not make test-fast
def test_reading_a_sitemap_indexs_slow_children_keeps_the_lease(
    site: Site, store: NewsStore, tmp_path: Path
) -> None:
    """Found by a review: the children of a sitemap index were fetched without renewing the
    lease, so a second worker took the source over mid-poll and fetched them all again."""
    children = [f"/sitemap-{n}.xml" for n in range(3)]
    for child in children:
        site.put(
            child,
            '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/'
            'sitemap/0.9"></urlset>',
            "application/xml",
        )
        site.slow[child] = 0.6
    locs = "".join(f"<sitemap><loc>{site.url(child)}</loc></sitemap>" for child in children)
    site.put(
        "/index.xml",
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{locs}</sitemapindex>",
        "application/xml",
    )
    w = worker(store, tmp_path, lease=1.0)
    follow(w, site.url("/index.xml"), every=60.0)
    polling = threading.Thread(target=w.run_once)
    polling.start()
    time.sleep(1.3)  # past the first lease, before the poll's end (1.8 s of children)
    other = FollowedSources(store.registry.database, "news")
    taken = other.claim(site.url("/index.xml"), "another-worker", time.time(), 1.0)
    polling.join(timeout=30)
    assert not taken, "the poll still held its lease"
    assert all(len(site.requests(child)) == 1 for child in children)


def stories(site: Site, count: int, prefix: str = "/news/") -> list[str]:
    """`count` stories on `site`, each a page of its own and a teaser in `site`'s /feed.xml."""
    paths = [f"{prefix}{n}" for n in range(count)]
    for n, path in enumerate(paths):
        site.put(path, article_html(f"Merrow story {n}", [*PAGE, f"Story number {n}."]))
    items = [(path, f"Merrow story {n}", TEASER, DATE) for n, path in enumerate(paths)]
    site.put("/feed.xml", rss(site, items), "application/rss+xml")
    return paths


@pytest.mark.server  # seconds of slow answers: with the tests that time servers, not make test-fast
@pytest.mark.parametrize("open_store", ["sqlite"], indirect=True)  # timing, not storage
def test_a_site_whose_pages_hang_costs_one_timeout_a_poll_and_holds_up_no_other(
    site: Site, store: NewsStore, tmp_path: Path
) -> None:
    """Found by a review: each hanging page cost a whole timeout, so a hundred of them held every
    other followed source up for half an hour. A site that let one page time out is not asked
    again in that poll; its entries keep the feed's text and spend no try."""
    slow_paths = stories(site, 3)
    for path in slow_paths:
        site.slow[path] = 3.0
    with serve_site() as sound:
        sound_paths = stories(sound, 2)
        policy = FetchPolicy(addresses=AddressPolicy.from_strings(["127.0.0.1/32"]), timeout=1.0)
        w = worker(store, tmp_path, policy=policy)
        follow(w, site.url("/feed.xml"))
        follow(w, sound.url("/feed.xml"))
        outcomes = poll(w)
        assert sorted(o.new_articles for o in outcomes) == [2, 3]
        assert [len(site.requests(p)) for p in slow_paths] == [1, 0, 0]  # one timeout, not three
        assert [len(sound.requests(p)) for p in sound_paths] == [1, 1]
        waiting = {e.link: e.tries for e in w.sources.to_retry(site.url("/feed.xml"))}
        assert waiting == {
            site.url(p): tries for p, tries in zip(slow_paths, [1, 0, 0], strict=True)
        }
        rows = store.registry.list_articles()
        assert all(
            TEASER in texts(store, r.article_id) for r in rows if r.url.startswith(site.base)
        )
        assert all(FACT in texts(store, r.article_id) for r in rows if r.url.startswith(sound.base))

        for path in slow_paths:
            del site.slow[path]
        for _ in range(3):
            poll(w)
        assert [len(site.requests(p, 200)) for p in slow_paths] == [1, 1, 1]
        assert all(FACT in texts(store, r.article_id) for r in store.registry.list_articles())
        chroma, registry, keywords = three_stores(store)
        assert chroma == registry == keywords


@pytest.mark.server  # seconds of slow answers: with the tests that time servers, not make test-fast
@pytest.mark.parametrize("open_store", ["sqlite"], indirect=True)  # timing, not storage
def test_pages_beyond_a_polls_time_budget_wait_for_the_next_poll(
    site: Site, store: NewsStore, tmp_path: Path
) -> None:
    paths = stories(site, 4)
    for path in paths:
        site.slow[path] = 0.4
    w = worker(store, tmp_path, page_seconds=0.5)
    follow(w, site.url("/feed.xml"))

    [first] = poll(w)
    assert first.new_articles == 4  # every entry stored, from the feed where its page waits
    asked = sum(len(site.requests(p)) for p in paths)
    assert 1 <= asked <= 2  # 0.4 s a page against a 0.5 s budget
    waiting = w.sources.to_retry(site.url("/feed.xml"))
    assert len(waiting) == 4 - asked
    assert all(e.tries == 0 for e in waiting)  # not asked for: no try spent
    for _ in range(4):
        poll(w)
    assert [len(site.requests(p)) for p in paths] == [1, 1, 1, 1]  # each asked once, no try lost
    assert all(FACT in texts(store, r.article_id) for r in store.registry.list_articles())


def test_a_failing_feed_is_checked_less_and_less_often_and_says_why(
    site: Site, store: NewsStore, tmp_path: Path
) -> None:
    site.failing["/feed.xml"] = 500
    w = worker(store, tmp_path)
    follow(w, site.url("/feed.xml"), every=10.0)
    source = w.sources.all()[0]
    gaps = []
    for _ in range(4):
        assert w.poller.claim(source)
        outcome = w.poller.poll(source)
        gaps.append(outcome.next_check - outcome.checked_at)
        source = w.sources.all()[0]
    assert all(a < b for a, b in itertools.pairwise(gaps)), gaps
    assert 10.0 < gaps[0] <= 20.0
    assert gaps[-1] > 100.0
    [line] = status(w.sources)
    assert line.failures == 4
    assert "HTTP 500" in (line.last_error or "")
    assert any(
        "failed 4 times in a row: the server answered HTTP 500" in s for s in status_lines([line])
    )

    del site.failing["/feed.xml"]
    zorblat(site)
    assert w.poller.claim(source)
    assert w.poller.poll(source).next_check - time.time() <= 10.0  # back to its interval
    [line] = status(w.sources)
    assert line.failures == 0
    assert line.last_error is None


def test_a_source_polled_elsewhere_since_the_due_list_was_read_is_skipped(
    site: Site, store: NewsStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: a worker went through a due list read before its slow first poll,
    and checked a source another worker had checked meanwhile, counting its failure once."""
    site.failing["/feed.xml"] = 503
    first = worker(store, tmp_path)
    follow(first, site.url("/feed.xml"), every=60.0)
    read_before = first.sources.due(time.time())
    [(_, outcome)] = worker(store, tmp_path).run_once()  # another process checks it meanwhile
    assert outcome.failures == 1

    monkeypatch.setattr(first.sources, "due", lambda now: read_before)
    assert first.run_once() == []
    assert len(site.requests("/feed.xml")) == 1
    [line] = status(first.sources)
    assert line.failures == 1
    assert first.sources.get(site.url("/feed.xml")).lease_owner is None  # given back


def test_a_private_address_is_refused_unless_allowed(
    site: Site, store: NewsStore, tmp_path: Path
) -> None:
    zorblat(site)
    w = worker(store, tmp_path, policy=FetchPolicy(timeout=5))
    follow(w, site.url("/feed.xml"))
    [outcome] = poll(w)
    assert "loopback address" in (outcome.error or "")
    assert "NEWSBOT_FETCH_ALLOW_NETWORKS" in (outcome.error or "")
    assert site.hits == []


def test_one_process_holds_a_source_at_a_time(
    open_store: Opener, embedder: Any, tmp_path: Path
) -> None:
    store = open_store(embedder)
    mine = FollowedSources(store.registry.database, "news")
    # The same database opened a second time: another process's connection.
    other_db = open_database(tmp_path, url=getattr(store.registry.database, "url", None))
    theirs = FollowedSources(other_db, "news")
    now = time.time()
    mine.add("https://example.com/feed.xml", 60, "auto", now)
    assert mine.claim("https://example.com/feed.xml", "a", now, 1.0)
    assert not theirs.claim("https://example.com/feed.xml", "b", now + 0.5, 1.0)
    assert theirs.due(now + 0.5) == []
    assert theirs.claim("https://example.com/feed.xml", "b", now + 1.5, 1.0)  # a's ran out
    assert not mine.claim("https://example.com/feed.xml", "a", now + 1.6, 1.0)
    other_db.close()


def stored(store: NewsStore, tmp_path: Path, dates: dict[str, str | None]) -> dict[str, str]:
    """Articles titled by `dates`' keys, published on its values; their ids by title."""
    articles = [
        build_article(
            origin=title,
            text=f"{title}. " + "The council met to discuss the harbour and its future. " * 30,
            title=title,
            source="Merrow Gazette",
            published=day,
        )[0]
        for title, day in dates.items()
    ]
    ingest_articles(articles, store, tiktoken_cache_dir=tmp_path / "tiktoken")
    return {a.title: a.article_id for a in articles}


def test_prune_removes_exactly_the_old_unpinned_articles_from_the_three_stores(
    store: NewsStore, tmp_path: Path
) -> None:
    ids = stored(
        store,
        tmp_path,
        {
            "Old": "2020-01-05",
            "Older": "2019-03-01",
            "Pinned old": "2019-06-01",
            "New": "2026-11-30",
        },
    )
    pins = Pins(store.registry.database, "news")
    assert pins.pin(ids["Pinned old"])
    assert not pins.pin(ids["Pinned old"])
    removed = prune(store, pins, "2021-01-01")
    assert sorted(removed) == sorted([ids["Old"], ids["Older"]])
    left = {row.article_id for row in store.registry.list_articles()}
    assert left == {ids["Pinned old"], ids["New"]}
    chroma, registry, keywords = three_stores(store)
    assert chroma == registry == keywords
    assert {cid.rsplit(":", 1)[0] for cid in chroma} == left
    assert prune(store, pins, "2021-01-01") == []


def test_a_prune_that_dies_midway_is_finished_by_the_next(
    store: NewsStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = stored(store, tmp_path, {f"Old {n}": f"2020-01-0{n}" for n in range(1, 5)})
    stored(store, tmp_path, {"New": "2026-11-30"})
    pins = Pins(store.registry.database, "news")
    assert store.keywords is not None
    real_delete = store.keywords.delete
    calls = []

    def dies_on_the_second(article_ids: Any) -> None:
        calls.append(article_ids)
        if len(calls) == 2:  # after its chunks left Chroma, before its keywords and row did
            raise KeyboardInterrupt
        real_delete(article_ids)

    monkeypatch.setattr(store.keywords, "delete", dies_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        prune(store, pins, "2021-01-01")
    monkeypatch.setattr(store.keywords, "delete", real_delete)
    assert len(store.registry.pending()) == 1  # the half-deleted one is marked

    assert len(prune(store, pins, "2021-01-01")) == 3
    [left] = store.registry.list_articles()
    assert left.title == "New"
    assert store.registry.pending() == []
    chroma, registry, keywords = three_stores(store)
    assert chroma == registry == keywords
    assert not set(ids.values()) & {cid.rsplit(":", 1)[0] for cid in chroma}


def test_a_feed_counts_as_added_only_the_stories_it_wrote(
    site: Site, store: NewsStore, tmp_path: Path
) -> None:
    """`newsbot follow list` says how many articles a source added in the last day: a story
    that was stored before (from a file, or by another feed) is seen, not added."""
    zorblat(site)
    w = worker(store, tmp_path)
    follow(w, site.url("/feed.xml"))
    [first] = poll(w)
    assert first.new_articles == 1
    time.sleep(1.1)  # the registry's times are to the second
    items = [("/news/zorblat", "Zorblat lighthouse reopens", TEASER, DATE)]
    site.put("/mirror.xml", rss(site, items), "application/rss+xml")
    follow(w, site.url("/mirror.xml"))
    outcomes = dict(w.run_once())
    assert outcomes[site.url("/mirror.xml")].new_articles == 0
    assert len(site.requests("/news/zorblat")) == 2  # read again for the mirror, not written
    added = {s.url: s.added_last_day for s in status(w.sources)}
    assert added == {site.url("/feed.xml"): 1, site.url("/mirror.xml"): 0}

    [row] = store.registry.list_articles()
    store.delete_article(row.article_id)  # deleted (or pruned) since: no longer counted
    assert {s.added_last_day for s in status(w.sources)} == {0}


def test_the_poller_gives_way_while_a_question_is_answered(
    site: Site, store: NewsStore, tmp_path: Path
) -> None:
    items = []
    for n in range(10):
        site.put(f"/news/{n}", article_html(f"Story {n}", [f"Story {n} in Merrow. " * 40]))
        items.append((f"/news/{n}", f"Story {n}", "Short.", DATE))
    site.put("/feed.xml", rss(site, items), "application/rss+xml")
    gate = AnswerGate()
    w = worker(store, tmp_path)
    follow(w, site.url("/feed.xml"))

    paused = threading.Event()

    def pause() -> None:
        paused.set()
        gate.wait_idle(60)  # what `newsbot serve` gives its poller

    w.poller.pause = pause
    started = gate.acquire()  # a question is being answered
    polling = threading.Thread(target=w.run_once)
    polling.start()
    assert paused.wait(60)  # the poller has come to its first step that takes the processor
    time.sleep(0.3)  # and stays there while the answer holds the gate
    assert store.registry.count() == 0  # nothing parsed, read or embedded meanwhile
    assert len(site.requests("/feed.xml")) == 1  # (fetching costs no processor)
    gate.release(started)
    polling.join(timeout=120)
    assert store.registry.count() == 10


def test_a_stop_cuts_a_poll_short_keeps_its_work_and_gives_the_lease_back(
    site: Site, store: NewsStore, tmp_path: Path
) -> None:
    items = []
    for n in range(10):
        site.put(f"/news/{n}", article_html(f"Story {n}", [f"Story {n} in Merrow. " * 40]))
        items.append((f"/news/{n}", f"Story {n}", "Short.", DATE))
    site.put("/feed.xml", rss(site, items), "application/rss+xml")
    w = worker(store, tmp_path)
    follow(w, site.url("/feed.xml"))
    stop = threading.Event()

    def stop_after_a_group() -> None:
        if store.registry.count() >= 4:
            stop.set()  # as SIGTERM does to `newsbot follow run`

    w.poller.pause = stop_after_a_group
    assert w.run_once(stop) == []
    first = store.registry.count()
    assert 4 <= first < 10
    [source] = w.sources.all()
    assert source.lease_owner is None  # given back: another process may go on at once
    assert source.last_check is None  # and no check recorded

    [outcome] = [o for _, o in FollowWorker(w.sources, w.poller).run_once(threading.Event())]
    assert outcome.new_articles == 10 - first
    assert store.registry.count() == 10
    # What the first poll stored is not read again (a page it read but had not stored yet is).
    assert [len(site.requests(f"/news/{n}")) for n in range(first)] == [1] * first
    chroma, registry, keywords = three_stores(store)
    assert chroma == registry == keywords


def test_new_entries_beyond_a_checks_limit_come_with_the_next_check(
    site: Site, store: NewsStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(poller_module, "MAX_NEW", 3)
    items = [
        (f"/news/{n}", f"Story {n}", f"Story {n} told in the feed. " * 5, DATE) for n in range(5)
    ]
    site.put("/feed.xml", rss(site, items), "application/rss+xml")
    w = worker(store, tmp_path)
    follow(w, site.url("/feed.xml"), full_text="off", every=3600.0)

    [first] = poll(w)
    assert first.new_articles == 3
    assert first.next_check - first.checked_at <= 60.0  # the rest soon, not in an hour
    assert w.sources.all()[0].etag is None  # so the next check gets the feed, not a 304
    w.sources.add(site.url("/feed.xml"), 3600.0, "off", time.time())  # due now (the test's clock)
    [second] = poll(w)
    assert second.new_articles == 2
    assert [h.status for h in site.requests("/feed.xml")] == [200, 200]
    assert second.next_check - second.checked_at > 3000.0
    w.sources.add(site.url("/feed.xml"), 3600.0, "off", time.time())
    [third] = poll(w)
    assert third.new_articles == 0
    assert site.requests("/feed.xml")[-1].status == 304
    assert store.registry.count() == 5
