"""The library tab's logic: what the web app needs from the article library, and safe views of it.

`bot/` must not import `ingest/`, so the entry point passes in an object with the `Library` shape
(built in `newsbot/` from the store and the ingest pipeline). The functions here call it and turn
the results, and any `NewsbotError`, into escaped HTML/Markdown for the UI.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Protocol

from bot.web.knowledge import Catalog
from bot.web.render import is_web_url, markdown_text, short_date
from newsbot.errors import InputError, NewsbotError
from vectorstore.records import ArticleRow

log = logging.getLogger(__name__)

LIST_LIMIT = 200
"""Most articles listed at once in the library tab."""


class Library(Catalog, Protocol):
    """The article library as the web app sees it: a `Catalog` that can also delete and ingest.

    `stats`, `list_articles` and `delete_article` have `NewsStore`'s signatures, so an adapter
    only has to add `ingest` (which lives in `ingest/`, out of `bot/`'s reach).
    """

    def delete_article(self, article_id: str) -> bool:
        """Remove an article and its chunks; False when no such article is stored."""
        ...

    def ingest(self, sources: Sequence[str]) -> str:
        """Ingest files, folders or http(s) URLs with the CLI's limits; a short report.

        Raises:
            NewsbotError: when nothing could be ingested; the message says how to fix it.
        """
        ...


def stats_markdown(library: Library) -> str:
    """'**12 articles** · 80 chunks' (or the error as a message)."""
    try:
        stats = library.stats()
    except NewsbotError as exc:
        return f"**Library unavailable:** {markdown_text(str(exc))}"
    text = f"**{stats.get('articles', 0)} articles**"
    if "chunks" in stats:
        text += f" · {stats['chunks']} chunks"
    return text


def _row_cells(row: ArticleRow) -> list[str]:
    title = html.escape(row.title or "(untitled)")
    if is_web_url(row.url):
        title = (
            f'<a href="{html.escape(row.url.strip(), quote=True)}" target="_blank" '
            f'rel="noopener noreferrer nofollow">{title}</a>'
        )
    cells = [title, html.escape(short_date(row.published)), html.escape(row.source or "")]
    return [*cells, f"<code>{html.escape(row.article_id)}</code>"]


def find_articles(library: Library, query: str) -> tuple[str, list[tuple[str, str]]]:
    """The matching articles as an escaped HTML table, and as (label, id) choices for deletion."""
    try:
        rows = library.list_articles(limit=LIST_LIMIT, query=query.strip() or None)
    except NewsbotError as exc:
        return f"<p><strong>Could not list articles:</strong> {html.escape(str(exc))}</p>", []
    if not rows:
        return "<p>No articles match.</p>", []
    table = table_html("nb-articles", ("Title", "Date", "Source", "Id"), map(_row_cells, rows))
    choices = [
        (f"{row.title or '(untitled)'} — {short_date(row.published) or 'no date'}", row.article_id)
        for row in rows
    ]
    return table, choices


def table_html(css_class: str, headings: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """An HTML table of `css_class` whose cells are markup already escaped by the caller."""
    head = "".join(f"<th>{name}</th>" for name in headings)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def uploaded_files(files: Sequence[str], upload_dir: Path) -> list[str]:
    """The paths that are regular files inside `upload_dir` (resolved), as given.

    Gradio hands the handler whatever path a request names; only its own uploads are ours to
    read. A symlink, a folder, a glob or any path elsewhere is refused by the caller.

    Raises:
        InputError: naming the first path that is not an upload.
    """
    root = upload_dir.resolve()
    checked = []
    for name in files:
        path = Path(name)
        try:
            resolved = path.resolve(strict=True)
            plain = path.is_file() and not path.is_symlink()
        except (OSError, RuntimeError):
            resolved, plain = path, False
        if not plain or not resolved.is_relative_to(root):
            raise InputError(f"{path.name or name}: not an uploaded file; upload it with the form")
        checked.append(str(resolved))
    return checked


def ingest_sources(
    library: Library, files: Sequence[str] | None, urls: str, upload_dir: Path | None = None
) -> str:
    """Ingest uploaded files and whitespace-separated URLs; a Markdown report or error message.

    With `upload_dir` (the web app always passes Gradio's), every file must be an upload there;
    the uploads are deleted once read (what was ingested is in the store), taken or not.
    """
    sources = [str(path) for path in files or []]
    if upload_dir is None:
        return _ingest(library, sources, urls)
    try:
        uploads = uploaded_files(sources, upload_dir)
    except InputError as exc:
        log.warning("web ingest refused: %s", exc)
        return f"**Not ingested:** {markdown_text(str(exc))}"
    try:
        report = _ingest(library, uploads, urls)
    finally:
        for upload in uploads:
            Path(upload).unlink(missing_ok=True)
    for upload in uploads:  # a reader knows the file by its name; the server's folder is ours
        report = report.replace(markdown_text(upload), markdown_text(Path(upload).name))
    return report


def _ingest(library: Library, sources: list[str], urls: str) -> str:
    bad: list[str] = []
    for url in re.split(r"\s+", urls.strip()) if urls.strip() else []:
        (sources if is_web_url(url) else bad).append(url)
    # A line that is no web address is named, and the others are still ingested (found by a
    # review: one such line refused the whole batch).
    refused = ""
    if bad:
        refused = (
            f"**Not fetched:** only http(s) URLs can be fetched: {markdown_text(', '.join(bad))}"
        )
    if not sources:
        return refused or "**Nothing to ingest:** upload files or paste article URLs first."
    try:
        # A paragraph a line: Markdown runs single lines together (found by a review).
        report = "\n\n".join(map(markdown_text, library.ingest(sources).splitlines()))
    except NewsbotError as exc:
        log.warning("web ingest failed: %s", exc)
        report = f"**Could not ingest:** {markdown_text(str(exc))}"
    return "\n\n".join(part for part in (report, refused) if part)


def delete_article(library: Library, article_id: str | None) -> str:
    """Delete one article; a Markdown message saying what happened."""
    return removal_message(
        library.delete_article,
        article_id,
        unpicked="**Nothing deleted:** pick an article first.",
        failed="**Could not delete:**",
        absent="**Nothing deleted:** no article {} is stored.",
        done="Deleted article {}.",
    )


def removal_message(
    remove: Callable[[str], bool],
    key: str | None,
    *,
    unpicked: str,
    failed: str,
    absent: str,
    done: str,
) -> str:
    """Remove the picked `key` with `remove`; a Markdown message: `unpicked` when none is picked,
    `failed` and the error's words when it fails, else `absent` or `done` (their `{}` is the key,
    escaped) as `remove` says whether there was such a thing."""
    if not key:
        return unpicked
    try:
        removed = remove(key)
    except NewsbotError as exc:
        return f"{failed} {markdown_text(str(exc))}"
    return (done if removed else absent).format(markdown_text(key))
