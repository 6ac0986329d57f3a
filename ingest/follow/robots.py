"""robots.txt for the article pages a followed source links to (RFC 9309), kept per site a while.

Each site's robots.txt is fetched under the same `FetchPolicy` as everything else (addresses,
size, time) and read with the standard library's parser for the `newsbot` agent. As the RFC
says: a robots.txt that is missing or refused (4xx) allows everything; one the server fails to
give (5xx, no answer) allows nothing until it is asked again, since a site in trouble is not the
moment to read its pages.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.robotparser
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import urlsplit, urlunsplit

from ingest.article import ArticleInputError
from ingest.loaders.fetching import Fetched, FetchPolicy, HTTPStatusError, fetch

logger = logging.getLogger(__name__)

AGENT = "newsbot"
"""The product token matched against robots.txt `User-agent` lines."""
KEEP_SECONDS = 3600.0
"""How long a site's robots.txt is reused."""
RETRY_SECONDS = 600.0
"""How long a site whose robots.txt could not be fetched is left alone."""
MAX_BYTES = 500_000
"""Most of a robots.txt read (the RFC asks crawlers to read at least 500 KiB)."""


class Robots:
    """Says whether an article page may be fetched, asking each site's robots.txt once a while."""

    def __init__(
        self,
        policy: FetchPolicy,
        fetcher: Callable[[str, FetchPolicy], Fetched] = fetch,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = replace(policy, max_bytes=min(policy.max_bytes, MAX_BYTES))
        self._fetch = fetcher
        self._clock = clock
        self._sites: dict[str, tuple[float, urllib.robotparser.RobotFileParser | None]] = {}
        self._lock = threading.Lock()

    def allows(self, url: str) -> bool | None:
        """Whether `url` may be fetched by newsbot, by its site's robots.txt; None while the
        site's robots.txt cannot be had (ask again later)."""
        parts = urlsplit(url)
        site = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), "", "", ""))
        with self._lock:
            cached = self._sites.get(site)
        if cached is None or cached[0] <= self._clock():
            cached = self._read(site)
            with self._lock:
                self._sites[site] = cached
        rules = cached[1]
        return None if rules is None else rules.can_fetch(AGENT, url)

    def _read(self, site: str) -> tuple[float, urllib.robotparser.RobotFileParser | None]:
        rules = urllib.robotparser.RobotFileParser(site + "/robots.txt")
        try:
            fetched = self._fetch(site + "/robots.txt", self.policy)
        except HTTPStatusError as exc:
            if 400 <= exc.status < 500:
                rules.parse([])  # no robots.txt: everything is allowed
                return self._clock() + KEEP_SECONDS, rules
            logger.info("robots.txt of %s unavailable (%s): its pages wait", site, exc.reason)
            return self._clock() + RETRY_SECONDS, None
        except ArticleInputError as exc:
            logger.info("robots.txt of %s unavailable (%s): its pages wait", site, exc.reason)
            return self._clock() + RETRY_SECONDS, None
        rules.parse(fetched.body.decode("utf-8", "replace").splitlines())
        return self._clock() + KEEP_SECONDS, rules
