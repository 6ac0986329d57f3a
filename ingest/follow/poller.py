"""One poll of one followed source: fetch it (conditional GET), find its new entries, read their
pages, store the articles through the ingest pipeline, and say when to look again.

A 304 costs one request and stores nothing. A failed fetch counts a failure and spaces the next
check out (`schedule.next_check`); its reason is kept, in the words the fetch gave it, for
`newsbot follow list` and the Library. Full text: an entry whose feed text is short (or every
entry, with full text on; every sitemap entry, which has no text) is read from its linked page
with the HTML extraction `newsbot ingest` uses, when the site's robots.txt allows. An entry whose
page cannot be read is stored from the feed's text under the same article id and its page tried
again at the next polls, up to `MAX_TRIES` times; the page's version then replaces it. Pages are
read by `ingest.follow.pages` within a time budget per poll (`PollOptions.page_seconds`), a site
that let one time out left alone for the rest of the poll; a page not asked for waits for the
next poll and spends no try.

Articles are written by `ingest.pipeline.ingest_articles`, under the ingest lock, before their
entries are recorded as seen: a poll killed in between finds them unchanged next time rather
than embedding them again, and so does a second poller that raced this one.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.article import Article, ArticleInputError, build_article
from ingest.dates import DateError, parse_published
from ingest.follow.documents import Document, Entry, read_document
from ingest.follow.pages import PageReader
from ingest.follow.robots import Robots
from ingest.follow.schedule import next_check
from ingest.loaders.fetching import FetchPolicy, fetch
from ingest.pipeline import guid_taken, ingest_articles
from vectorstore.follows import (
    EntryState,
    FollowedSource,
    FollowedSources,
    PollOutcome,
    SeenEntry,
)

if TYPE_CHECKING:
    from vectorstore.store import NewsStore

logger = logging.getLogger(__name__)

SHORT_TEXT = 1000
"""An entry whose feed text is shorter (in characters) is a teaser: full text "auto" reads its
page."""
MAX_NEW = 100
"""Most new entries read in one poll; the rest wait for the next (newest first for sitemaps)."""
BACKLOG_EVERY = 60.0
"""Seconds to the next check at most while new entries wait beyond MAX_NEW."""
MAX_TRIES = 5
"""Times an entry's page is tried before the feed's text is kept for good."""
MAX_SITEMAPS = 20
"""Most sitemaps of a sitemap index read in one poll (the most recently changed first)."""
GROUP_ARTICLES = 4
"""Entries read and stored at once: a small group (a second or two of embedding on two cores), so
the poller gives way to an answer between groups (`pause`) and a poll cut short keeps its work."""


@dataclass(frozen=True)
class PollOptions:
    """What a poll may fetch and how it stores: the fetch policy and the ingest pipeline's
    chunking (as `newsbot ingest` has them)."""

    policy: FetchPolicy
    tiktoken_cache_dir: Path
    chunk_tokens: int
    overlap: int
    max_article_chars: int
    lease_seconds: float = 120.0
    page_seconds: float = 300.0
    """Most seconds one poll spends asking for article pages (robots.txt included): pages
    beyond it wait for the next poll. Five minutes read a hundred pages of a sound site."""


@dataclass
class _Found:
    """The outcome of reading one entry: its article (None: nothing to store) and state."""

    entry: SeenEntry
    article: Article | None


class LeaseLost(Exception):
    """Another process took the source over while this one was polling it."""


class PollStopped(Exception):
    """The poller was told to stop mid-poll (what it stored so far stays stored)."""


class Poller:
    """Polls followed sources into `store` (see the module docstring).

    `pause` is called before each step that takes the processor (parsing, page extraction,
    embedding): `newsbot serve` passes one that waits while a question is being answered, so a
    poll never competes with an answer. `on_poll` receives each outcome once it is recorded
    (a poll or a failure; not a poll cut short or taken over): `newsbot serve` counts them in
    its `/metrics`. It must not raise.
    """

    def __init__(
        self,
        store: NewsStore,
        sources: FollowedSources,
        options: PollOptions,
        owner: str,
        *,
        robots: Robots | None = None,
        pause: Callable[[], None] = lambda: None,
        on_poll: Callable[[PollOutcome], None] = lambda _: None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.sources = sources
        self.options = options
        self.owner = owner
        self.pause = pause
        self.pages = PageReader(
            options.policy,
            robots or Robots(options.policy),
            options.page_seconds,
            options.max_article_chars,
            pause,
        )
        self.on_poll = on_poll
        self.clock = clock
        self.rng = rng or random.Random()
        self.stopping: Callable[[], bool] = lambda: False
        """Asked between the steps of a poll; True cuts the poll short (`PollStopped`)."""
        self._lease_until = 0.0

    # --- the lease ---------------------------------------------------------------------------

    def claim(self, source: FollowedSource) -> bool:
        """Take the source's lease for this poller; False when another process holds it."""
        now = self.clock()
        if not self.sources.claim(source.url, self.owner, now, self.options.lease_seconds):
            return False
        self._lease_until = now + self.options.lease_seconds
        return True

    def _keep_lease(self, url: str) -> None:
        """Between the steps of a poll: stop if told to, and renew the lease once half of it is
        spent, so a long poll is not taken over."""
        if self.stopping():
            raise PollStopped(url)
        now = self.clock()
        if self._lease_until - now > self.options.lease_seconds / 2:
            return
        if not self.sources.claim(url, self.owner, now, self.options.lease_seconds):
            raise LeaseLost(url)
        self._lease_until = now + self.options.lease_seconds

    # --- the poll ----------------------------------------------------------------------------

    def poll(self, source: FollowedSource) -> PollOutcome:
        """Poll `source` (whose lease this poller holds), store what is new, record the outcome
        and give the lease back. Never raises for a bad source; `LeaseLost` when another process
        took it over (nothing is recorded then: the other records its own poll); `PollStopped`
        when `stopping` said so between two steps."""
        started = self.clock()
        self.pages.start()
        try:
            fetched = fetch(
                source.url,
                self.options.policy,
                etag=source.etag,
                last_modified=source.last_modified,
            )
            document = None
            if fetched.status != 304:
                self.pause()
                document = self._document(fetched.body, source.url)
        except ArticleInputError as exc:
            return self.fail(source, exc.reason, started)
        new_articles, backlog = self._store(source, document)
        finished = self.clock()
        # With entries left for later, the validators are not kept (the next check must get the
        # document again, not a 304) and the next check comes sooner.
        keep = document is not None and not backlog
        every = min(source.every_seconds, BACKLOG_EVERY) if backlog else source.every_seconds
        outcome = PollOutcome(
            checked_at=finished,
            next_check=next_check(finished, every, 0),
            failures=0,
            new_articles=new_articles,
            kind=document.kind if document else None,
            etag=fetched.etag if keep else None,
            last_modified=fetched.last_modified if keep else None,
        )
        self.sources.finish(source.url, self.owner, outcome)
        self.on_poll(outcome)
        logger.info(
            "%s: %s, %d new article(s)",
            source.url,
            "unchanged (304)" if document is None else document.kind,
            new_articles,
        )
        return outcome

    def fail(self, source: FollowedSource, reason: str, when: float | None = None) -> PollOutcome:
        """Record a failed check of `source` (`reason` in plain words), spacing the next one out,
        and give the lease back."""
        when = self.clock() if when is None else when
        failures = source.failures + 1
        logger.warning("%s: check %d failed: %s", source.url, failures, reason)
        outcome = PollOutcome(
            checked_at=when,
            next_check=next_check(when, source.every_seconds, failures, self.rng),
            failures=failures,
            error=reason,
        )
        self.sources.finish(source.url, self.owner, outcome)
        self.on_poll(outcome)
        return outcome

    def _document(self, body: bytes, url: str) -> Document:
        """The fetched document; a sitemap index's sitemaps read and merged into it."""
        document = read_document(body, url, self.options.policy.max_bytes)
        if document.kind != "sitemap index":
            return document
        entries: list[Entry] = []
        kinds: set[str] = set()
        named = [s for s in document.sitemaps if s[0] != url]  # an index listing itself
        children = sorted(named, key=lambda s: s[1], reverse=True)[:MAX_SITEMAPS]
        for child, _ in children:
            self._keep_lease(url)  # each child may take a download's time
            try:
                fetched = fetch(child, self.options.policy)
                part = read_document(fetched.body, child, self.options.policy.max_bytes)
            except ArticleInputError as exc:
                logger.warning("%s: sitemap %s skipped: %s", url, child, exc.reason)
                continue
            if part.kind == "sitemap index":  # itself, or another: an index lists sitemaps only
                logger.warning("%s: %s skipped: a sitemap index, not a sitemap", url, child)
                continue
            entries += part.entries
            kinds.add(part.kind)
        if not kinds:
            raise ArticleInputError(url, "none of the sitemaps it names could be read")
        entries.sort(key=lambda e: str(e.published or ""), reverse=True)
        kind = "news sitemap index" if "news sitemap" in kinds else "sitemap index"
        return replace(document, kind=kind, entries=entries)

    def _store(self, source: FollowedSource, document: Document | None) -> tuple[int, bool]:
        """Read the new entries and the pages still due, store the articles; how many are new,
        and whether new entries beyond MAX_NEW are left for the next check.

        In small groups: each group's pages are read, its articles written (under the ingest
        lock only while written, after a pause: an answer waits for one group at most) and its
        entries recorded, so a poll cut short keeps what it finished.
        """
        jobs: list[Callable[[], _Found]] = []
        if document is not None:
            seen = self.sources.seen(source.url, (e.key for e in document.entries))
            fresh = [e for e in document.entries if e.key not in seen]
            unique = list({e.key: e for e in reversed(fresh)}.values())[::-1]
            backlog = len(unique) > MAX_NEW
            unique = unique[:MAX_NEW]
            jobs += [partial(self._read_entry, source, entry) for entry in unique]
            taken = {e.key for e in unique}
        else:
            taken, backlog = set(), False
        for waiting in self.sources.to_retry(source.url):
            if waiting.key not in taken:
                jobs.append(partial(self._retry, waiting))
        new = 0
        for start in range(0, len(jobs), GROUP_ARTICLES):
            # An entry is seen as its group starts: what it writes is written after that.
            group_started = self.clock()
            found = []
            for job in jobs[start : start + GROUP_ARTICLES]:
                self._keep_lease(source.url)
                found.append(job())
            articles = [f.article for f in found if f.article is not None]
            if articles:
                self.pause()
                self._keep_lease(source.url)
                report = ingest_articles(
                    articles,
                    self.store,
                    tiktoken_cache_dir=self.options.tiktoken_cache_dir,
                    chunk_tokens=self.options.chunk_tokens,
                    overlap=self.options.overlap,
                )
                new += report.new
            self.sources.record(source.url, [f.entry for f in found], group_started)
        return new, backlog

    def _wants_page(self, source: FollowedSource, entry: Entry) -> bool:
        if not entry.text.strip() or source.full_text == "on":
            return bool(entry.link)
        return source.full_text == "auto" and bool(entry.link) and len(entry.text) < SHORT_TEXT

    def _read_entry(self, source: FollowedSource, entry: Entry) -> _Found:
        entry = self._unclaimed(entry)
        state: EntryState = "stored"
        tries = 0
        page: Article | None = None
        if self._wants_page(source, entry):
            page, why = self.pages.read(entry.link)
            tries = 0 if why == "later" else 1  # its page not asked for: no try spent
            if page is None:
                # A site that asks not to be read keeps the feed's text for good.
                state = "gave_up" if why == "robots" else "retry"
        article = self._article(entry, page)
        article_id = article.article_id if article is not None else ""
        seen = SeenEntry(
            entry.key,
            article_id,
            entry.link,
            state,
            tries,
            entry.title,
            article.published if article is not None else _day(entry.published),
            entry.source,
        )
        return _Found(seen, article)

    def _unclaimed(self, entry: Entry) -> Entry:
        """`entry`, known by its link instead of its guid when another story is stored under
        that guid: a guid ("1") need only be unique within its own feed, and a new entry of
        another feed must not overwrite that story."""
        if not entry.own_id or not guid_taken(self.store, entry.own_id, entry.link):
            return entry
        logger.info("%s: its guid %r names another stored story", entry.link, entry.own_id)
        return replace(entry, own_id=None)

    def _retry(self, waiting: SeenEntry) -> _Found:
        row = self.store.registry.get(waiting.article_id) if waiting.article_id else None
        if waiting.article_id and row is None:
            # Its feed version was deleted or pruned meanwhile: its page must not bring it back.
            return _Found(replace(waiting, state="gave_up"), None)
        page, why = self.pages.read(waiting.link)
        tries = waiting.tries + (0 if why == "later" else 1)  # its page not asked for: no try
        article = None
        if page is not None:
            entry = Entry(
                key=waiting.key,
                link=waiting.link,
                title=row.title if row else waiting.title,
                published=row.published if row else waiting.published,
                source=row.source if row else waiting.source,
                own_id=waiting.article_id or None,
            )
            article = self._article(entry, page)
        state: EntryState = "stored"
        if article is None:
            state = "gave_up" if why == "robots" or tries >= MAX_TRIES else "retry"
            if why != "robots" and tries >= MAX_TRIES:  # an operator should hear of a lost page
                kept = "its feed's text is kept" if waiting.article_id else "nothing is stored"
                logger.warning("%s: given up after %d tries; %s", waiting.link, tries, kept)
        article_id = article.article_id if article else waiting.article_id
        return _Found(replace(waiting, article_id=article_id, state=state, tries=tries), article)

    def _article(self, entry: Entry, page: Article | None) -> Article | None:
        """The entry's article: the page's text when read, else the feed's; the entry's own
        title, link, date and id first, so both versions are one article."""
        text = page.text if page is not None else entry.text
        if not text.strip():
            return None
        try:
            article, _ = build_article(
                origin=entry.link or entry.key,
                text=text,
                title=entry.title or (page.title if page else None),
                url=entry.link or (page.url if page else None),
                source=entry.source or (page.source if page else None),
                published=entry.published or (page.published if page else None),
                own_id=entry.own_id,
                max_chars=self.options.max_article_chars,
            )
        except ArticleInputError as exc:
            logger.info("%s: not stored (%s)", entry.link or entry.key, exc.reason)
            return None
        return article


def _day(published: object) -> str | None:
    """An entry's date as stored (ISO), kept while its page is to be read; None if unreadable."""
    try:
        return parse_published(published)
    except DateError:
        return None
