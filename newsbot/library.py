"""The web app's article library: the store's own methods plus ingest, which `bot/` may not import.

`bot.web` receives this object ready-made, so the web UI can ingest uploads and URLs with exactly
the CLI's limits without depending on `ingest/`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from newsbot.errors import InputError
from newsbot.ingest_command import ingest_with_settings
from newsbot.settings import Settings
from vectorstore.records import ArticleRow
from vectorstore.store import NewsStore


class StoreLibrary:
    """Adapts a `NewsStore` and the settings to the web app's `Library` protocol."""

    def __init__(self, settings: Settings, store: NewsStore, follows: object = None) -> None:
        self.settings = settings
        self.store = store
        self.follows = follows
        """The followed sources for the Library's panel (`bot.web.library_follow.Follows`);
        None leaves the panel out."""

    def stats(self) -> Mapping[str, Any]:
        return self.store.stats()

    def list_articles(
        self, limit: int = 20, offset: int = 0, query: str | None = None
    ) -> list[ArticleRow]:
        return self.store.list_articles(limit=limit, offset=offset, query=query)

    def delete_article(self, article_id: str) -> bool:
        return self.store.delete_article(article_id)

    def ingest(self, sources: Sequence[str]) -> str:
        # Uploads live at temporary paths: an upload is known by its content, not its path.
        report = ingest_with_settings(self.settings, sources, self.store, key_by_file=False)
        if report.articles == 0 and report.failures:
            reasons = "; ".join(f"{p.origin}: {p.reason}" for p in report.failures[:5])
            raise InputError(f"Nothing was ingested. {reasons}")
        lines = [
            f"{report.new} new, {report.updated} updated, {report.unchanged} unchanged, "
            f"{report.failed} failed; {report.chunks} chunks"
        ]
        lines += [f"failed {p.origin}: {p.reason}" for p in report.failures]
        lines += [f"warning {p.origin}: {p.reason}" for p in report.warnings]
        return "\n".join(lines)
