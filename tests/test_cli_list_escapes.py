"""Issue 24 finding 5: `newsbot list` escapes what `newsbot ask` escapes.

Bidi marks (U+200E, U+200F) and other format characters in a stored title or source reorder or
hide what a terminal shows; `ask` printed them as `\\u200f`, `list` printed them raw. The real
CLI on a real data dir in a temp folder, with the row stored as another tool (or an older
version) could have stored it.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bot.terminal import printable as ask_printable
from ingest.cleaning import printable
from newsbot.cli import cli
from newsbot.factories import build_store
from newsbot.settings import get_settings
from vectorstore.records import ArticleMeta, ChunkText

FORMAT_CHARACTERS = "\u200e\u200f\u061c\u200b\u2066\u202e\u00ad"


def test_list_prints_no_format_character_raw() -> None:
    title = "Budget \u200fapproved\u200e by the \u202ecouncil"
    meta = ArticleMeta("rlm-1", title, "", "Wire\u200f", "2025-06-05", "hash")
    build_store(get_settings()).put_articles([(meta, [ChunkText(0, "Body.", 0, 5, 2)])])

    result = CliRunner().invoke(cli, ["list"], catch_exceptions=False)

    assert result.exit_code == 0
    assert not any(char in result.stdout for char in FORMAT_CHARACTERS), ascii(result.stdout)
    assert "Budget \\u200fapproved\\u200e by the \\u202ecouncil" in result.stdout
    assert "Wire\\u200f" in result.stdout


@pytest.mark.parametrize("char", [*FORMAT_CHARACTERS, "\x1b", "\u2028"])
def test_list_and_ask_escape_the_same_characters(char: str) -> None:
    assert char not in printable(f"a{char}b")
    if char != "\u2028":  # a line separator: ask keeps the answer's own lines
        assert char not in ask_printable(f"a{char}b")
    assert printable("Plain — text, é, 東京, 🌀") == "Plain — text, é, 東京, 🌀"
