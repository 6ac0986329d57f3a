"""What `newsbot follow` runs, and the follow worker `newsbot serve` starts: built from settings.

An entry point like `newsbot.ingest_command`: it turns the settings into the poller's fetch
policy and chunking (the same as `newsbot ingest`'s), keeps the list of followed sources in the
registry's database, and says each source's state in words a person reads (`status`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import httpx

from ingest.cleaning import printable
from ingest.follow.poller import Poller, PollOptions
from ingest.follow.schedule import parse_every, say_every
from ingest.follow.worker import FollowWorker, start_in_thread, worker_name
from ingest.loaders.fetching import without_password
from newsbot.errors import InputError
from newsbot.factories import build_registry, chunking
from newsbot.ingest_command import fetch_policy
from newsbot.retention_command import retention_pass
from newsbot.settings import Settings
from vectorstore.follows import DAY, FollowedSource, FollowedSources, FullText, PollOutcome
from vectorstore.store import NewsStore


def followed_sources(settings: Settings) -> FollowedSources:
    """The followed sources of the configured collection, in the registry's database."""
    registry = build_registry(settings)
    return FollowedSources(registry.database, settings.storage.collection)


def checked_url(url: str) -> str:
    """`url` in one spelling (scheme and host in lower case, no #fragment), when it is an
    http(s) URL with a host and no user name or password: `HTTP://Site/feed#top` and
    `http://site/feed` are one source.

    Raises:
        InputError: it is not (the message says what to give).
    """
    url = url.strip()
    try:
        parsed = httpx.URL(url)
        host = parsed.host  # an invalid international name ("xn--.com") fails only here
    except (httpx.InvalidURL, ValueError) as exc:
        raise InputError(
            f"{url!r} is not a valid URL ({exc}): give a feed or sitemap URL"
        ) from None
    if parsed.scheme not in ("http", "https") or not host:
        raise InputError(
            f"{url!r} is not an http(s) URL: give the address of a feed or sitemap, e.g. "
            "https://example.com/feed.xml"
        )
    if parsed.userinfo:
        raise InputError(
            f"{without_password(parsed)} carries a user name or password, which newsbot does "
            "not send (nor store): give a URL without them"
        )
    return str(parsed.copy_with(fragment=None))


def follow_url(
    sources: FollowedSources, url: str, every_seconds: float, full_text: FullText
) -> tuple[str, bool]:
    """Follow `url` in `checked_url`'s spelling, or update the source stored under `url` as
    given (followed before sources were kept in one spelling); the URL followed, and whether it
    is new.

    Raises:
        InputError: `url` is not a URL to follow.
    """
    given = url.strip()
    followed = given if sources.get(given) is not None else checked_url(given)
    return followed, sources.add(followed, every_seconds, full_text, time.time())


def unfollow(sources: FollowedSources, url: str) -> bool:
    """Stop following `url`, as given or in `checked_url`'s spelling; False: not followed."""
    url = url.strip()
    if sources.remove(url):
        return True
    try:
        return sources.remove(checked_url(url))
    except InputError:
        return False


def full_text_choice(flag: bool | None) -> FullText:
    """`--full-text` on, `--no-full-text` off, neither: auto (pages of short entries)."""
    return "auto" if flag is None else ("on" if flag else "off")


def poll_options(settings: Settings) -> PollOptions:
    """The poller's fetch policy and chunking, as `newsbot ingest` has them."""
    return PollOptions(
        policy=fetch_policy(settings),
        **chunking(settings),
        max_article_chars=settings.limits.max_article_chars,
        lease_seconds=settings.fetch.follow_lease,
    )


def build_worker(
    settings: Settings,
    store: NewsStore,
    *,
    pause: Callable[[], None] | None = None,
    on_poll: Callable[[PollOutcome], None] | None = None,
) -> FollowWorker:
    """The follow worker over `store`, with retention after each pass when NEWSBOT_KEEP_DAYS
    is set; `on_poll` receives each poll's outcome (`Poller`)."""
    sources = FollowedSources(store.registry.database, store.collection_name)
    poller = Poller(
        store,
        sources,
        poll_options(settings),
        worker_name(),
        pause=pause or _go,
        on_poll=on_poll or _unseen,
    )
    after = retention_pass(settings, store) if settings.storage.keep_days else None
    return FollowWorker(sources, poller, after_pass=after)


def _go() -> None:
    """No pause: a worker of its own (`newsbot follow run`) has no answers to give way to."""


def _unseen(outcome: PollOutcome) -> None:
    """No one counts the polls: a worker of its own serves no `/metrics`."""


def start_follow_thread(
    settings: Settings,
    store: NewsStore,
    pause: Callable[[], None],
    on_poll: Callable[[PollOutcome], None] | None = None,
) -> threading.Event:
    """Start the follow worker on a background thread of this process; set the event to stop.
    `on_poll` receives each poll's outcome (`newsbot serve` counts them in its `/metrics`)."""
    _, stop = start_in_thread(build_worker(settings, store, pause=pause, on_poll=on_poll))
    return stop


@dataclass(frozen=True)
class SourceStatus:
    """One followed source as a person reads it (times are ISO 8601, UTC; None: not yet)."""

    url: str
    kind: str
    every: str
    full_text: str
    last_check: str | None
    last_new_article: str | None
    next_check: str | None
    added_last_day: int
    failures: int
    last_error: str | None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    try:
        return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")
    except (ValueError, OverflowError, OSError):  # past year 9999 (an interval older versions took)
        return None


def status(sources: FollowedSources, now: float | None = None) -> list[SourceStatus]:
    """Every followed source's state: last check, last new article, next check, articles added
    in the last day, and the last error in words."""
    now = time.time() if now is None else now
    return [_status(sources, source, now) for source in sources.all()]


def _status(sources: FollowedSources, source: FollowedSource, now: float) -> SourceStatus:
    error = source.last_error if source.failures else None
    return SourceStatus(
        url=source.url,
        kind=source.kind,
        every=say_every(source.every_seconds),
        full_text=source.full_text,
        last_check=_iso(source.last_check),
        last_new_article=_iso(source.last_new),
        next_check=_iso(max(source.next_check, now)),
        added_last_day=sources.added_since(source.url, now - DAY),
        failures=source.failures,
        last_error=error,
    )


def ago(moment: str | None, now: float | None = None) -> str:
    """ "never", "12 s ago", "3 min ago", "in 5 min", "2 h ago", "1 d ago" for an ISO time."""
    if moment is None:
        return "never"
    seconds = datetime.fromisoformat(moment).timestamp() - (time.time() if now is None else now)
    size = abs(seconds)
    for unit, length in (("d", 86_400), ("h", 3600), ("min", 60)):
        if size >= length:
            amount = f"{int(size // length)} {unit}"
            break
    else:
        if size < 1:
            return "now"
        amount = f"{int(size)} s"
    return f"in {amount}" if seconds > 0 else f"{amount} ago"


def failure(row: SourceStatus) -> str | None:
    """ "failed 3 times in a row: the server answered HTTP 500 ..." (None: the last check
    worked)."""
    if not row.last_error:
        return None
    times = "once" if row.failures == 1 else f"{row.failures} times in a row"
    return f"failed {times}: {row.last_error}"


def status_lines(rows: list[SourceStatus], now: float | None = None) -> list[str]:
    """Each source as two or three lines for a terminal: the URL, its state, its error."""
    lines: list[str] = []
    for row in rows:
        lines.append(
            printable(f"{row.url}  ({row.kind}, every {row.every}, full text {row.full_text})")
        )
        lines.append(
            f"  last check {ago(row.last_check, now)} · last new article "
            f"{ago(row.last_new_article, now)} · next check {ago(row.next_check, now)} · "
            f"{row.added_last_day} added in the last day"
        )
        if row.last_error:
            lines.append(printable(f"  {failure(row)}"))
    return lines


class FollowDesk:
    """The followed sources as the web Library shows them (`bot.web.library_follow.Follows`):
    add and remove by URL, and each source's state in the words `newsbot follow list` uses."""

    def __init__(self, sources: FollowedSources) -> None:
        self.sources = sources

    def follow(self, url: str, every: str, full_text: str) -> str:
        seconds = parse_every(every)
        mode: FullText = full_text if full_text in ("on", "off") else "auto"  # type: ignore[assignment]
        url, new = follow_url(self.sources, url, seconds, mode)
        verb = "Following" if new else "Still following"
        return f"{verb} {url} every {say_every(seconds)}; the first check comes within seconds."

    def unfollow(self, url: str) -> bool:
        return unfollow(self.sources, url)

    def followed(self) -> list[dict[str, object]]:
        now = time.time()
        rows = []
        for row in status(self.sources, now):
            rows.append(
                {
                    "url": row.url,
                    "kind": row.kind,
                    "every": row.every,
                    "last_check": ago(row.last_check, now),
                    "last_new_article": ago(row.last_new_article, now),
                    "next_check": ago(row.next_check, now),
                    "added_last_day": row.added_last_day,
                    "last_error": failure(row),
                }
            )
        return rows


def follow_desk(store: NewsStore) -> FollowDesk:
    """The Library's followed-sources desk over `store`'s database and collection."""
    return FollowDesk(FollowedSources(store.registry.database, store.collection_name))
