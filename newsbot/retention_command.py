"""What `newsbot prune`, `pin` and `unpin` run, and the hourly retention pass of the follow worker
(NEWSBOT_KEEP_DAYS): built from settings, done by `vectorstore.retention`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from newsbot.errors import ConfigError, InputError
from newsbot.settings import Settings
from vectorstore.registry import ArticleRegistry
from vectorstore.retention import Pins, cutoff_day, prune
from vectorstore.store import NewsStore

log = logging.getLogger(__name__)

RETENTION_EVERY = 3600.0
"""Seconds between two retention passes of a follow worker."""


def pins_of(registry: ArticleRegistry) -> Pins:
    """The pins of the registry's collection, beside its rows."""
    return Pins(registry.database, registry.collection)


def older_than_seconds(settings: Settings, older_than: float | None) -> float:
    """The age past which articles go: `--older-than`, else NEWSBOT_KEEP_DAYS.

    Raises:
        ConfigError: neither is given.
    """
    if older_than is not None:
        return older_than
    if settings.storage.keep_days:
        return settings.storage.keep_days * 86_400.0
    raise ConfigError(
        "Say how old an article must be to go: `newsbot prune --older-than 180d`, or set "
        "NEWSBOT_KEEP_DAYS"
    )


def run_prune(
    store: NewsStore, seconds: float, progress: Callable[[int, int], None] | None = None
) -> tuple[str, list[str]]:
    """Remove the unpinned articles older than `seconds`; the first day kept and their ids."""
    day = cutoff_day(seconds)
    return day, prune(store, pins_of(store.registry), day, progress)


def set_pin(registry: ArticleRegistry, article_id: str, pinned: bool) -> bool:
    """Pin or unpin a stored article; False when it already was (or was not) pinned.

    Raises:
        InputError: no article with that id is stored (pinning: unpinning a gone one is fine).
    """
    pins = pins_of(registry)
    if not pinned:
        return pins.unpin(article_id)
    if registry.get(article_id) is None:
        raise InputError(f"No stored article has the id {article_id!r}: see `newsbot list`")
    return pins.pin(article_id)


def retention_pass(settings: Settings, store: NewsStore) -> Callable[[], None]:
    """A callable that prunes by NEWSBOT_KEEP_DAYS at most once per RETENTION_EVERY seconds."""
    last = [0.0]

    def maybe_prune() -> None:
        now = time.monotonic()
        if last[0] and now - last[0] < RETENTION_EVERY:
            return
        last[0] = now
        seconds = older_than_seconds(settings, None)
        day, removed = run_prune(store, seconds)
        if removed:
            log.info("Retention: removed %d article(s) published before %s", len(removed), day)

    return maybe_prune
