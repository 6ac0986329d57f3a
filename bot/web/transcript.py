"""A chat conversation as Markdown with its sources: what the chat's "Copy as Markdown" copies.

The chat's messages hold the answers as rendered by `bot.web.render` (escaped Markdown with
citation links) and the Sources and "More on this story" blocks as its HTML lists. This reads
them back (`plain_answer`, and an HTML parser for the lists that `render` writes) into plain
Markdown: each question, its answer with its `[n]` markers, then its numbered sources (title,
link, source and date, the quoted passage) and related articles. Text is escaped so that a
title cannot make a link of its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from bot.web.chat import RELATED_TITLE, SOURCES_TITLE, message_text
from bot.web.render import is_web_url, plain_answer

_SPACES = re.compile(r"\s+")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>])")


@dataclass
class _Item:
    """One list item of a Sources or related block."""

    n: str = ""
    title: str = ""
    url: str = ""
    meta: str = ""
    passage: str = ""


class _ListReader(HTMLParser):
    """Reads the `<li>` items of `render.sources_html` and `render.related_html`."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[_Item] = []
        self._part: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        if tag == "li":
            self.items.append(_Item(n=found.get("value") or ""))
        elif not self.items:
            return
        elif tag == "a" and not self.items[-1].title:
            self.items[-1].url = found.get("href") or ""
            self._part = "title"
        elif tag == "strong":
            self._part = "title"
        elif tag == "span" and "nb-url" in classes:
            self._part = "url"
        elif tag == "span" and "nb-meta" in classes:
            self._part = "meta"
        elif tag == "blockquote":
            self._part = "passage"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("a", "strong", "span", "blockquote"):
            self._part = None

    def handle_data(self, data: str) -> None:
        if self._part and self.items:
            item = self.items[-1]
            setattr(item, self._part, getattr(item, self._part) + data)


def _text(value: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", _SPACES.sub(" ", value).strip())


def _list_items(block: str) -> list[_Item]:
    reader = _ListReader()
    reader.feed(block)
    reader.close()
    return reader.items


def _item_markdown(item: _Item, numbered: bool) -> str:
    title = _text(item.title) or "(untitled)"
    url = item.url.strip()
    line = f"[{title}](<{url}>)" if is_web_url(url) else title
    details = [_text(part) for part in (item.meta, url if not is_web_url(url) else "") if part]
    if details:
        line += " — " + " · ".join(details)
    line = f"{item.n or '?'}. {line}" if numbered else f"- {line}"
    if item.passage.strip():
        line += f"\n   > {_text(item.passage)}"
    return line


def conversation_markdown(messages: Sequence[Mapping[str, Any]], title: str = "newsbot") -> str:
    """The conversation as Markdown: questions, answers, their sources and related articles."""
    parts: list[str] = []
    for message in messages:
        text = message_text(message.get("content")).strip()
        metadata = message.get("metadata") or {}
        heading = metadata.get("title") if isinstance(metadata, Mapping) else None
        if not text:
            continue
        if message.get("role") == "user":
            parts.append(f"**Question:** {_text(text)}")
        elif isinstance(heading, str) and heading.startswith((SOURCES_TITLE, RELATED_TITLE)):
            numbered = heading.startswith(SOURCES_TITLE)
            lines = [_item_markdown(item, numbered) for item in _list_items(text)]
            parts.append(f"{_text(heading)}:\n\n" + "\n".join(lines))
        elif heading:
            continue  # a progress note
        else:
            parts.append(f"**{_text(title)}:** {plain_answer(text).strip()}")
    return "\n\n".join(parts) + ("\n" if parts else "")
