"""Turn answers and sources into safe chat markup.

Everything that comes from articles (titles, passages, urls, sources) or from the model is escaped
here before Gradio renders it. Only `http://` and `https://` urls become links; anything else
(`javascript:`, `data:`, ...) is shown as plain text. Gradio's own HTML sanitizer runs afterwards as
a second line of defence, but nothing here relies on it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from bot.answer.result import Source

PASSAGE_CHARS = 600
"""Longest passage quoted under an answer; longer passages end in an ellipsis."""

_MD_LINK = re.compile(r"(!?)\[([^\]\n]*)\]\(([^)\n]*)\)")
_MD_REFERENCE = re.compile(r"^(\s{0,3})\[([^\]\n]+)\]:", re.MULTILINE)
_SPACES = re.compile(r"\s+")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]|$)")


def is_web_url(url: str) -> bool:
    """True for absolute http(s) urls, the only ones rendered as clickable links."""
    lowered = url.strip().lower()
    return lowered.startswith(("http://", "https://")) and len(lowered) > len("https://")


def short_date(published: str | None) -> str:
    """An ISO date or datetime as its date part ("2025-06-05"); anything else unchanged."""
    value = (published or "").strip()
    return value[:10] if _ISO_DATE.match(value) else value


def _defang_link(match: re.Match[str]) -> str:
    bang, text, target = match.groups()
    if not bang and is_web_url(target):
        return match.group(0)
    # An escaped bracket keeps the text visible but stops Markdown from building a link or image.
    return f"{bang}[{text}]\\({target})"


def answer_markdown(text: str) -> str:
    """The model's answer as Markdown that can hold no HTML and no non-http(s) link or image."""
    escaped = html.escape(text, quote=False)
    escaped = _MD_REFERENCE.sub(lambda m: f"{m.group(1)}\\[{m.group(2)}]:", escaped)
    return _MD_LINK.sub(_defang_link, escaped)


def _one_line(text: str, limit: int) -> str:
    flat = _SPACES.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def source_html(source: Source) -> str:
    """One numbered source: linked title, source name, date and the quoted passage, all escaped."""
    title = html.escape(_one_line(source.title, 300) or "(untitled)")
    url = source.url.strip()
    if is_web_url(url):
        heading = (
            f'<a href="{html.escape(url, quote=True)}" target="_blank" '
            f'rel="noopener noreferrer nofollow">{title}</a>'
        )
    else:
        heading = f"<strong>{title}</strong>"
        if url:
            heading += f' <span class="nb-url">{html.escape(_one_line(url, 200))}</span>'
    details = [
        html.escape(_one_line(part, 120)) for part in (source.source, short_date(source.published))
    ]
    meta = " · ".join(part for part in details if part)
    passage = html.escape(_one_line(source.passage, PASSAGE_CHARS))
    return (
        f'<li value="{source.n}" class="nb-source">{heading}'
        + (f' <span class="nb-meta">{meta}</span>' if meta else "")
        + f"<blockquote>{passage}</blockquote></li>"
    )


def sources_html(sources: Sequence[Source]) -> str:
    """The sources as one HTML list with no blank lines (Markdown leaves it alone); "" if none."""
    if not sources:
        return ""
    items = "".join(source_html(source) for source in sources)
    return f'<ol class="nb-sources">{items}</ol>'
