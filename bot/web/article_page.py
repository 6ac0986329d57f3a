"""A stored article as a page of its own: how a source with no web address is read in full.

An article ingested from a file (or a feed entry without a link) has no http(s) page to open, so
its title under an answer links here: `/article/<id>` (and `/widget/article/<id>`, so the link
works from the framed widget too) shows its title, source, date and stored text, put back
together from its chunks (`NewsStore.stored_article`). The browser names an article only by its
id, looked up in the store; no file is read. Everything shown is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from fastapi.responses import HTMLResponse

from bot.web.render import ARTICLE_PATH, short_date
from vectorstore.records import StoredArticle

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:42rem;margin:0 auto;padding:1.5rem 1rem;
line-height:1.6;color:#1f2937;background:#fff}}
h1{{font-size:1.5rem;line-height:1.3;margin:0 0 .25rem}} .meta{{color:#475569;margin:0 0 1.5rem}}
p{{margin:0 0 1rem}}
</style></head><body><main>
<h1>{title}</h1>
<p class="meta">{meta}</p>
{body}
</main></body></html>
"""


@runtime_checkable
class ArticleShelf(Protocol):
    """Where stored articles are read (`NewsStore`)."""

    def stored_article(self, article_id: str) -> StoredArticle | None:
        """The article stored under `article_id` with its text, or None."""
        ...


def article_html(article: StoredArticle) -> str:
    """The article's page: title, source · date, and its text in paragraphs, all escaped."""
    row = article.row
    title = html.escape(" ".join(row.title.split()) or "(untitled)")
    details = [part for part in (row.source.strip(), short_date(row.published)) if part]
    paragraphs = [" ".join(p.split()) for p in article.text.split("\n\n")]
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs if p)
    return _PAGE.format(title=title, meta=html.escape(" · ".join(details)), body=body)


def article_routes(prefixes: tuple[str, ...] = ("", "/widget")) -> list[str]:
    """The route paths of the page under each mount (the chat page's, the widget's)."""
    # `:path`: an id may hold "/" (a JSON record's or a feed's own id); its link encodes it as
    # %2F, which the server decodes before it matches a route.
    return [f"{prefix}/{ARTICLE_PATH}/{{article_id:path}}" for prefix in prefixes]


def article_page(shelf: ArticleShelf) -> Callable[[str], HTMLResponse]:
    """The route's endpoint: the article's page, or a one-line 404 for an unknown id."""

    def show(article_id: str) -> HTMLResponse:
        article = shelf.stored_article(article_id)
        if article is None:
            return HTMLResponse(
                "<!doctype html><title>Not found</title><p>No stored article has that id: it may "
                "have been deleted.</p>",
                status_code=404,
            )
        return HTMLResponse(article_html(article))

    return show
