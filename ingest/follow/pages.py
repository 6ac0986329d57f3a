"""An entry's article page, read for a poll of a followed source: robots.txt asked, the page
fetched and its text extracted as `newsbot ingest` does, within the poll's budget.

`PageReader.read` says why a page gave no article: "robots" (its site asks not to be read: the
feed's text is kept for good), "failed" (one of the entry's tries is spent) or "later" (not asked
for, no try spent): the site's robots.txt cannot be had now, the site let a page time out
earlier in this poll (`FetchTimeout`), or the poll has spent its `budget` seconds on pages. A
site whose pages hang thus costs one timeout a poll and holds up no other followed source.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from ingest.article import Article, ArticleInputError
from ingest.follow.robots import Robots
from ingest.loaders.fetching import Fetched, FetchPolicy, FetchTimeout, fetch
from ingest.loaders.html import read_html

logger = logging.getLogger(__name__)

_HTML = ("text/html", "application/xhtml+xml", "")


class PageReader:
    """Reads entries' pages for one poll at a time (`start` begins a poll's budget)."""

    def __init__(
        self,
        policy: FetchPolicy,
        robots: Robots,
        budget: float,
        max_article_chars: int,
        pause: Callable[[], None],
    ) -> None:
        self.policy = policy
        self.robots = robots
        self.budget = budget
        self.max_article_chars = max_article_chars
        self.pause = pause
        self._spent = 0.0
        self._slow_sites: set[str] = set()
        """Sites (host and port) that let a page time out in this poll."""

    def start(self) -> None:
        """A new poll: its budget unspent, no site slow yet."""
        self._spent = 0.0
        self._slow_sites = set()

    def read(self, link: str) -> tuple[Article | None, str]:
        """The article read from the page at `link`, or None and why (the module docstring)."""
        fetched, why = self._download(link)
        if fetched is None:
            return None, why
        try:
            if fetched.content_type not in _HTML:
                raise ArticleInputError(link, f"not an HTML page ({fetched.content_type})")
            self.pause()
            items = read_html(
                fetched.body,
                link,
                url=fetched.url,
                charset=fetched.charset,
                max_chars=self.max_article_chars,
            )
            page = next(item for item in items if isinstance(item, Article))
        except ArticleInputError as exc:
            logger.info("%s: the page could not be read (%s); tried again later", link, exc.reason)
            return None, "failed"
        except (ValueError, LookupError, OSError, RecursionError, StopIteration) as exc:
            logger.info("%s: the page could not be read (%s); tried again later", link, exc)
            return None, "failed"
        return page, ""

    def _download(self, link: str) -> tuple[Fetched | None, str]:
        """The page at `link` fetched, or None and why ("robots", "failed", "later")."""
        if self._spent >= self.budget:
            return None, "later"
        started = time.monotonic()
        try:
            site = urlsplit(link).netloc.lower()
            if site in self._slow_sites:
                return None, "later"
            allowed = self.robots.allows(link)
            if allowed is False:
                logger.info("%s: robots.txt asks not to read it; the feed's text is kept", link)
                return None, "robots"
            if allowed is None:
                return None, "later"  # robots.txt unavailable: ask again later
            return fetch(link, self.policy), ""
        except FetchTimeout as exc:
            logger.info("%s: its site is slow (%s); its pages wait for the next poll", link, exc)
            self._slow_sites.add(site)  # read before the fetch that raised this
            return None, "failed"
        except ArticleInputError as exc:
            logger.info("%s: the page could not be read (%s); tried again later", link, exc.reason)
            return None, "failed"
        except ValueError as exc:  # an entry's link that is no URL must not fail its feed
            logger.info("%s: not a link that can be read (%s)", link, exc)
            return None, "failed"
        except OSError as exc:
            logger.info("%s: the page could not be read (%s); tried again later", link, exc)
            return None, "failed"
        finally:
            self._spent += time.monotonic() - started
