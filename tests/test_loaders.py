"""Loaders on real inputs: the sample articles, the seed article, the mini corpus, and HTML pages
and feeds served by a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from ingest.article import Article, InputProblem, build_article, make_article_id, normalise_url
from ingest.cleaning import boilerplate_kind, clean_text, normalise
from ingest.dates import DateError, ImplausibleDate, parse_published
from ingest.loaders.addresses import AddressPolicy
from ingest.loaders.fetching import FetchPolicy
from ingest.loaders.html import fragment_to_text
from ingest.loaders.urls import load_url
from ingest.sources import expand_sources, load_file, read_sources
from newsbot.errors import InputError
from tests.conftest import EXAMPLES_DIR, MINI_DIR, SEED_DIR
from tests.loopback_http import serving

MB = 10_000_000


def articles(items: Iterator[Article | InputProblem]) -> tuple[list[Article], list[InputProblem]]:
    found: list[Article] = []
    problems: list[InputProblem] = []
    for item in items:
        (found if isinstance(item, Article) else problems).append(item)  # type: ignore[arg-type]
    return found, problems


# --- text and markdown ----------------------------------------------------------------------------


def test_markdown_front_matter_and_heading(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text(
        "---\ntitle: 'Front title'\ndate: 2024-05-01\nsource: Desk\nurl: https://x.org/a\n---\n"
        "# Heading title\n\nFirst paragraph.\n\nSecond paragraph.\n",
        encoding="utf-8",
    )
    [article], problems = articles(load_file(path, max_bytes=MB))
    assert problems == []
    assert article.title == "Front title"
    assert article.published == "2024-05-01"
    assert article.source == "Desk"
    assert article.url == "https://x.org/a"
    # A heading other than the title is text: a review found its facts were thrown away.
    assert article.text == "# Heading title\n\nFirst paragraph.\n\nSecond paragraph."
    assert article.origin == str(path)

    # Saved on Windows (CRLF), and a heading that repeats the title: still front matter, and
    # the repeat goes (a review found CRLF front matter stored as the text, its fields lost).
    path.write_bytes(
        b"---\r\ntitle: Front title\r\ndate: 2024-05-01\r\n---\r\n# Front Title\r\n\r\nBody.\r\n"
    )
    [article], problems = articles(load_file(path, max_bytes=MB))
    assert (article.title, article.published, article.text) == (
        "Front title",
        "2024-05-01",
        "Body.",
    )


def test_markdown_heading_is_the_title_without_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "b.md"
    path.write_text("\n# The heading\nBody text here.\n", encoding="utf-8")
    [article], _ = articles(load_file(path, max_bytes=MB))
    assert article.title == "The heading"
    assert article.text == "Body text here."
    assert article.published is None


def test_seed_article_first_line_is_the_title() -> None:
    [path] = sorted(SEED_DIR.glob("*.txt"))
    [article], problems = articles(load_file(path, max_bytes=MB))
    assert problems == []
    raw_first_line = path.read_text(encoding="utf-8").splitlines()[0]
    assert raw_first_line.startswith(article.title.rstrip("…"))
    assert article.text.startswith(raw_first_line)  # a .txt keeps its first line
    assert "Read More:" not in article.text  # boilerplate line dropped
    assert "zero-tolerance policy" in article.text
    assert article.published is None  # the file has no date: none is invented
    assert article.url == ""
    assert len(article.article_id) == 24


def test_sample_articles_folder() -> None:
    sources, problems = expand_sources([str(EXAMPLES_DIR)])
    assert problems == []
    found, problems = articles(read_sources(sources, max_bytes=MB, http_timeout=5))
    assert problems == []
    assert 6 <= len(found) <= 10
    assert len({a.article_id for a in found}) == len(found)
    kinds = {Path(a.origin.split("#")[0]).suffix for a in found}
    assert {".md", ".html", ".xml"} <= kinds
    for article in found:
        assert article.title
        assert article.source
        assert 120 <= len(article.text.split()) <= 400, article.origin
    pakistan = [a for a in found if "Naqvi" in a.text]
    assert len(pakistan) == 1
    for fact in ("Natalie Baker", "visa", "zero-tolerance", "passport", "standard operating"):
        assert fact in pakistan[0].text


# --- HTML -----------------------------------------------------------------------------------------


def test_html_page_main_text_and_metadata() -> None:
    [article], problems = articles(load_file(EXAMPLES_DIR / "kettle-recall.html", max_bytes=MB))
    assert problems == []
    assert article.title == "Brightwell recalls 120,000 smart kettles over overheating fault"
    assert article.url == "https://example.org/tech/brightwell-kettle-recall"  # canonical
    assert article.source == "Newsbot Sample Tech"
    assert article.published == "2025-01-22"
    assert "software fault" in article.text
    assert "Most read" not in article.text  # page chrome
    assert "Copyright" not in article.text
    assert "Five ways to cut" not in article.text


def test_a_page_of_only_links_is_no_article(tmp_path: Path) -> None:
    """A site's home page or menu: trafilatura falls back on its link labels, which were stored
    as an article's text (found by a review)."""
    menu = "".join(f'<li><a href="/{w.lower()}">{w}</a></li>' for w in ["Home", "World", "Sport"])
    page = tmp_path / "menu.html"
    page.write_text(
        f"<html><head><title>Desk - Home</title></head><body><nav><ul>{menu}</ul></nav>"
        "<footer><p>Copyright 2025 Desk.</p></footer></body></html>",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"menu\.html: no article text .* only links"):
        list(load_file(page, max_bytes=MB))
    # A story whose paragraphs hold links is still a story.
    page.write_text(
        "<html><body><article><h1>Bridge opens</h1><p>The <a href='/b'>new bridge</a> opened on "
        "Monday after two years of work, the council said.</p><p><a href='/more'>More</a></p>"
        "</article></body></html>",
        encoding="utf-8",
    )
    [article], _ = articles(load_file(page, max_bytes=MB))
    assert "opened on Monday" in article.text


def test_html_declared_latin1_charset(tmp_path: Path) -> None:
    body = (
        "<p>" + " ".join(["Café owners in Zürich protested the new rules on Monday."] * 6) + "</p>"
    )
    page = f'<html><head><meta charset="iso-8859-1"><title>Café</title></head><body><article>{body}'
    path = tmp_path / "latin.html"
    path.write_bytes((page + "</article></body></html>").encode("latin-1"))
    [article], _ = articles(load_file(path, max_bytes=MB))
    assert "Zürich" in article.text

    # A byte-order mark outranks the declared charset (found by a review: read as cp1252, "Ã©").
    path.write_bytes(b"\xef\xbb\xbf" + (page + "</article></body></html>").encode("utf-8"))
    [article], _ = articles(load_file(path, max_bytes=MB))
    assert "Zürich" in article.text
    assert article.title == "Café"


def test_fragment_to_text_keeps_paragraphs() -> None:
    text = fragment_to_text("Intro<p>One\n <b>two</b>.</p><script>x()</script><p>Three</p>")
    assert clean_text(text) == "Intro\n\nOne two.\n\nThree"
    assert fragment_to_text("plain & simple") == "plain & simple"


# --- JSON and JSON Lines --------------------------------------------------------------------------


def test_json_lines_field_aliases(tmp_path: Path) -> None:
    records = [
        {"id": 7, "headline": "A", "body": "Body A.", "link": "https://a.org/x", "site": "S"},
        {"title": "B", "content": "Body B.", "published_at": "2023-02-03T04:05:06Z"},
        {"title": "C", "text": "Body C.", "source": {"name": "Wire"}, "date": "2022-06-12"},
    ]
    path = tmp_path / "a.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n\n", encoding="utf-8")
    found, problems = articles(load_file(path, max_bytes=MB))
    assert problems == []
    a, b, c = found
    assert (a.article_id, a.title, a.text, a.url, a.source) == (
        "7",
        "A",
        "Body A.",
        "https://a.org/x",
        "S",
    )
    assert a.origin == f"{path}:1"
    assert b.published == "2023-02-03T04:05:06+00:00"
    assert b.origin == f"{path}:2"
    assert c.source == "Wire"
    assert c.published == "2022-06-12"


def test_a_bad_record_fails_alone_and_a_broken_correction_leaves_the_good_version(
    tmp_path: Path,
) -> None:
    """Found by a review: a lone surrogate ("\\ud800") in one record ended the file there, the
    records after it neither stored nor reported; and a later version of an id that could not be
    read discarded the readable one while a warning said the later one was stored."""
    path = tmp_path / "dump.jsonl"
    path.write_text(
        '{"id": "s1", "title": "Good", "text": "First fine record."}\n'
        '{"id": "s2", "text": "Bad \\ud800 half.", "url": "https://x.example/\\ud800"}\n'
        '{"id": "s3", "text": "Third fine record."}\n'
        '{"id": "s1", "title": "Fix", "text": ""}\n'
        '{"id": "s3", "title": "Fix", "text": "<p>&nbsp;</p>"}\n',
        encoding="utf-8",
    )
    found, problems = articles(load_file(path, max_bytes=MB))
    assert [(a.article_id, a.text) for a in found] == [
        ("s1", "First fine record."),
        ("s2", "Bad \ufffd half."),
        ("s3", "Third fine record."),
    ]
    assert [(p.origin, p.reason) for p in problems] == [
        (f"{path}:4", "no article text (looked for the fields text, body, content)"),
        (f"{path}:5", "no article text (the text is missing or empty)"),  # nothing once cleaned
    ]


def test_an_html_text_field_is_read_as_html_and_plain_text_stays(tmp_path: Path) -> None:
    """Found by a review: a scraped dump's HTML body was stored raw, script contents included."""
    path = tmp_path / "dump.jsonl"
    plain = [  # a review found each of these cut by an earlier, looser rule
        "Rates rose as 3 < 4 and 5 > 2.\n\nSecond paragraph.",
        "If a<b and c>d, write to <b.smith@agency.com>.",
        "The <script> tag lets a page run code, the court heard.\n\nIt ruled on Friday.",
    ]
    records = [
        {"id": "h", "text": "<p>One <b>bold</b> line.</p><script>track()</script><p>Two.</p>"},
        {"id": "p", "text": "First <i>paragraph</i>.<br>\n\nSecond paragraph.</p>"},
        *({"id": f"t{n}", "text": text} for n, text in enumerate(plain)),
    ]
    path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    found, _ = articles(load_file(path, max_bytes=MB))
    assert [a.text for a in found] == [
        "One bold line.\n\nTwo.",
        "First paragraph.\n\nSecond paragraph.",
        *plain,
    ]


def test_a_links_user_name_and_password_are_not_stored(tmp_path: Path) -> None:
    """Found by a review: a feed's or a dump's link with `user:pass@` was stored as it was, and
    shown under every answer citing it."""
    path = tmp_path / "dump.jsonl"
    path.write_text(
        json.dumps({"url": "https://ed:hunter2@news.example/a?x=1", "text": "Story."}) + "\n",
        encoding="utf-8",
    )
    [article], _ = articles(load_file(path, max_bytes=MB))
    assert article.url == "https://news.example/a?x=1"
    assert article.article_id == make_article_id(None, "https://news.example/a?x=1", "", "", "")


def test_an_input_with_no_articles_is_named(tmp_path: Path) -> None:
    """Found by a review: an empty JSON list was a silent no-op, named nowhere."""
    for name, body in (("list.json", "[]"), ("wrapped.json", '{"articles": []}')):
        (tmp_path / name).write_text(body, encoding="utf-8")
    sources, _ = expand_sources([str(tmp_path / "*")])
    found, problems = articles(read_sources(sources, max_bytes=MB, http_timeout=5))
    assert found == []
    assert sorted((Path(p.origin).name, p.reason) for p in problems) == [
        (name, "holds no articles (an empty list or file)")
        for name in ("list.json", "wrapped.json")
    ]


def test_json_object_list_and_wrapper(tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    one.write_text(json.dumps({"title": "T", "text": "Only one."}), encoding="utf-8")
    many = tmp_path / "many.json.gz"
    many.write_bytes(gzip.compress(json.dumps([{"text": "x1"}, {"text": "x2"}]).encode()))
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"articles": [{"text": "w1"}]}), encoding="utf-8")
    assert [a.text for a in articles(load_file(one, max_bytes=MB))[0]] == ["Only one."]
    found = articles(load_file(many, max_bytes=MB))[0]
    assert [a.text for a in found] == ["x1", "x2"]
    assert found[1].origin == f"{many}[1]"
    assert [a.text for a in articles(load_file(wrapped, max_bytes=MB))[0]] == ["w1"]


def test_json_lines_saved_as_json(tmp_path: Path) -> None:
    path = tmp_path / "lines.json"
    path.write_text('{"text": "one"}\n{"text": "two"}\n', encoding="utf-8")
    found, problems = articles(load_file(path, max_bytes=MB))
    assert [a.text for a in found] == ["one", "two"]
    assert [a.origin for a in found] == [f"{path}:1", f"{path}:2"]
    assert problems == []


def test_mini_corpus_loads_as_it_is() -> None:
    corpus = MINI_DIR / "corpus.jsonl.gz"
    with gzip.open(corpus, "rt", encoding="utf-8") as handle:
        raw = [json.loads(line) for line in handle]
    found, problems = articles(load_file(corpus, max_bytes=200_000_000))
    assert problems == []
    assert [a.article_id for a in found] == [r["id"] for r in raw]  # ids map back to the dataset
    for article, record in zip(found, raw, strict=True):
        assert article.url == (record["url"] or "")
        assert article.published == record["date"]
        assert article.title  # the dataset has no titles: derived, never empty
        assert bool(article.source) == bool(record["url"])  # the url's host, when there is one
    removed = sum(len(r["text"]) for r in raw) - sum(len(a.text) for a in found)
    assert 0 <= removed < 0.01 * sum(len(r["text"]) for r in raw)  # cleaning is conservative


# --- feeds ----------------------------------------------------------------------------------------


def test_rss_feed_with_full_content_and_summary_only() -> None:
    found, problems = articles(load_file(EXAMPLES_DIR / "sample-feed.xml", max_bytes=MB))
    assert problems == []
    first, second = found
    assert first.article_id == "sample-wire-0001"
    assert first.source == "Newsbot Sample Wire"
    assert first.published == "2025-05-18T21:40:00+00:00"
    assert "Leah Fontaine converted" in first.text  # content:encoded, not the one-line summary
    assert "<p>" not in first.text
    assert "\n\n" in first.text
    assert "Governor Elena Marsh" in second.text  # HTML summary only
    assert first.origin.endswith("sample-feed.xml#1")


def test_a_feed_date_keeps_the_publishers_day(tmp_path: Path) -> None:
    """Found by a review: feedparser's reading is in UTC, so an evening story in New York was
    stored on the next day, which `--since`, `--as-of` and `prune` then went by."""
    path = tmp_path / "feed.xml"
    path.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        "<item><title>Evening</title><link>https://f.example/a</link>"
        "<description>An evening story in New York.</description>"
        "<pubDate>Tue, 05 Mar 2024 23:30:00 -0800</pubDate></item></channel></rss>",
        encoding="utf-8",
    )
    [article], _ = articles(load_file(path, max_bytes=MB))
    assert article.published == "2024-03-05T23:30:00-08:00"


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Atom Desk</title>
  <entry>
    <title>Atom entry</title>
    <link href="https://atom.example/e1"/>
    <id>https://atom.example/e1</id>
    <updated>2024-01-02T03:04:05Z</updated>
    <summary>Plain summary text of the atom entry.</summary>
  </entry>
</feed>
"""


def test_atom_feed(tmp_path: Path) -> None:
    path = tmp_path / "x.atom"
    path.write_text(ATOM, encoding="utf-8")
    [article], _ = articles(load_file(path, max_bytes=MB))
    assert article.text == "Plain summary text of the atom entry."
    assert article.source == "Atom Desk"
    assert article.published == "2024-01-02T03:04:05+00:00"
    assert article.article_id == make_article_id(None, "https://atom.example/e1", "", "", "")
    assert article.title == "Atom entry"

    # An HTML title is shown as text (found by a review: stored as "<b>Bold</b> title").
    path.write_text(
        ATOM.replace(
            "<title>Atom e", '<title type="html">&lt;b&gt;Bold&lt;/b&gt; &amp;amp; Atom e'
        ),
        encoding="utf-8",
    )
    [article], _ = articles(load_file(path, max_bytes=MB))
    assert article.title == "Bold & Atom entry"


@pytest.mark.parametrize("guid", ["tag:atom.example,2024:e1", "e1-2024", "urn:uuid:1234"])
def test_a_feed_entry_without_a_link_has_no_url_and_is_known_by_its_id(
    tmp_path: Path, guid: str
) -> None:
    """feedparser takes an entry's id for its link when there is no <link>; an id that is not a
    web address is no link to show a reader (found by a review: "tag:..." was stored as url)."""
    path = tmp_path / "x.atom"
    path.write_text(
        ATOM.replace('<link href="https://atom.example/e1"/>', "").replace(
            "<id>https://atom.example/e1</id>", f"<id>{guid}</id>"
        ),
        encoding="utf-8",
    )
    [article], _ = articles(load_file(path, max_bytes=MB))
    assert article.url == ""
    # The id it was stored under when its id was taken for its link: no duplicate.
    assert article.article_id == make_article_id(None, guid, "", "", "")
    # An id that is a web address is the entry's link.
    path.write_text(ATOM.replace('<link href="https://atom.example/e1"/>', ""), encoding="utf-8")
    [article], _ = articles(load_file(path, max_bytes=MB))
    assert article.url == "https://atom.example/e1"
    # An id before a real link, here a relative one (found by a review): the link is kept.
    path.write_text(
        ATOM.replace('<link href="https://atom.example/e1"/>', "").replace(
            "<id>https://atom.example/e1</id>", f'<id>{guid}</id><link href="/news/1"/>'
        ),
        encoding="utf-8",
    )
    [article], _ = articles(load_file(path, max_bytes=MB))
    assert (article.url, article.article_id) == ("/news/1", guid)


def test_a_feed_that_is_not_well_formed_xml_warns_that_entries_may_be_missing(
    tmp_path: Path,
) -> None:
    """feedparser reads broken XML leniently: one misspelt closing tag lost an entry whose loss
    no entry's own problem named. The feed's entries that could be read are stored; the feed
    itself gets a warning."""
    items = "".join(
        f"<item><title>Story {n}</title><link>https://example.com/{n}</link>"
        f"<description>Text of story {n}.</description></item>"
        for n in range(1, 6)
    )
    broken = items.replace("</title><link>https://example.com/3", "</titel><link>x")
    path = tmp_path / "broken.xml"
    path.write_text(f"<rss version='2.0'><channel><title>T</title>{broken}</channel></rss>")
    found, problems = articles(load_file(path, max_bytes=MB))
    assert [a.title for a in found] == ["Story 1", "Story 2", "Story 4", "Story 5"]
    warning = problems[-1]
    assert (warning.origin, warning.skipped) == (str(path), False)
    assert warning.reason.startswith("not well-formed XML (")
    assert warning.reason.endswith("mismatched tag): entries may be missing")
    well_formed = tmp_path / "fine.xml"
    well_formed.write_text(f"<rss version='2.0'><channel><title>T</title>{items}</channel></rss>")
    assert articles(load_file(well_formed, max_bytes=MB))[1] == []


# --- sources --------------------------------------------------------------------------------------


def test_sources_folders_globs_hidden_and_messages(tmp_path: Path) -> None:
    (tmp_path / "news" / "deep").mkdir(parents=True)
    (tmp_path / "news" / "deep" / "a.txt").write_text("Title\nText.", encoding="utf-8")
    (tmp_path / "news" / "b.jsonl.gz").write_bytes(gzip.compress(b'{"text": "t"}\n'))
    (tmp_path / "news" / ".hidden.txt").write_text("secret", encoding="utf-8")
    (tmp_path / "news" / ".git").mkdir()
    (tmp_path / "news" / ".git" / "c.txt").write_text("x", encoding="utf-8")
    (tmp_path / "news" / "notes.pdf").write_bytes(b"%PDF")
    sources, problems = expand_sources([str(tmp_path / "news")])
    assert problems == []
    assert [(Path(s.location).name, s.extension) for s in sources] == [
        ("b.jsonl.gz", ".jsonl.gz"),
        ("a.txt", ".txt"),
    ]
    globbed, _ = expand_sources([str(tmp_path / "news" / "**" / "*.txt")])
    assert [Path(s.location).name for s in globbed] == ["a.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError) as info:
        expand_sources([str(empty)])
    assert str(info.value) == (
        f"No articles found in {empty} (looked for .txt .md .html .htm .json .jsonl .jsonl.gz "
        ".xml .rss .atom): pass a file or folder with articles"
    )
    with pytest.raises(InputError, match=r"^No articles found in \./nowhere \(no such file"):
        expand_sources(["./nowhere"])
    mixed, problems = expand_sources([str(tmp_path / "missing"), str(tmp_path / "news")])
    assert len(mixed) == 2
    assert problems == [
        InputProblem(
            str(tmp_path / "missing"),
            f"No articles found in {tmp_path / 'missing'} (no such file or folder): "
            "pass a file, folder, glob or URL with articles",
        )
    ]


def test_a_recursive_glob_does_not_follow_links_to_folders_above(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A link to a folder above made `**` repeat the tree forever (millions of paths); it now
    descends into real folders only, as a folder's walk does. Hidden names stay out."""
    deep = tmp_path / "tree" / "a" / "b"
    deep.mkdir(parents=True)
    (deep.parent / "one.txt").write_text("One\nText.", encoding="utf-8")
    (deep / "two.txt").write_text("Two\nText.", encoding="utf-8")
    (deep / ".three.txt").write_text("Three\nText.", encoding="utf-8")
    (deep / "loop").symlink_to("../..")
    monkeypatch.chdir(tmp_path)
    for pattern in ("tree/**/*.txt", str(tmp_path / "tree" / "**" / "*.txt"), "**/*.txt"):
        found, _ = expand_sources([pattern])
        assert sorted(Path(s.location).name for s in found) == ["one.txt", "two.txt"], pattern


def test_an_empty_argument_is_a_problem_not_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.txt").write_text("Title\nText.", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=r"^'': an empty argument names no input$"):
        expand_sources([""])
    found, problems = expand_sources(["  ", "a.txt"])
    assert [Path(s.location).name for s in found] == ["a.txt"]
    assert problems == [InputProblem("'  '", "an empty argument names no input")]


# --- records, ids, dates, cleaning ----------------------------------------------------------------


def test_article_ids_and_content_hash() -> None:
    base: dict[str, Any] = {"origin": "o", "text": "Some text.", "title": "T", "source": "S"}
    own, _ = build_article(**base, own_id=" rtqa-1 ", url="https://a.org/x")
    assert own.article_id == "rtqa-1"
    by_url, _ = build_article(**base, url="HTTPS://A.org/x/?utm_source=feed#top")
    same_url, _ = build_article(**base, url="https://a.org/x")
    assert by_url.article_id == same_url.article_id
    assert normalise_url("HTTPS://A.org/x/?b=1&utm_medium=x#f") == "https://a.org/x?b=1"
    no_url, _ = build_article(**base)
    edited, _ = build_article(**{**base, "text": "Other text."})
    assert no_url.article_id != edited.article_id  # content-derived without a url
    assert no_url.content_hash != edited.content_hash
    again, _ = build_article(**base)
    assert (again.article_id, again.content_hash) == (no_url.article_id, no_url.content_hash)
    assert own.to_meta().content_hash == own.content_hash


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022-06-12", "2022-06-12"),
        ("20220612", "2022-06-12"),
        ("2022-06-12T10:00:00Z", "2022-06-12T10:00:00+00:00"),
        ("Sun, 18 May 2025 21:40:00 +0000", "2025-05-18T21:40:00+00:00"),
        (date(2020, 1, 2), "2020-01-02"),
        (1_600_000_000, "2020-09-13T12:26:40+00:00"),
        ("", None),
        (None, None),
    ],
)
def test_parse_published(value: object, expected: str | None) -> None:
    assert parse_published(value, today=date(2026, 1, 1)) == expected


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "2031-01-01T00:00:00Z", 1e13])
def test_implausible_dates(value: object) -> None:
    with pytest.raises(ImplausibleDate):
        parse_published(value, today=date(2026, 1, 1))


def test_unreadable_date() -> None:
    with pytest.raises(DateError):
        parse_published("next Tuesday")


def test_cleaning_is_conservative() -> None:
    raw = (
        "Title line\r\n\r\n\r\n\r\nFirst  para\u00a0with\u200b spaces.\t\n"
        "Read More: Something else\nADVERTISEMENT\n"
        "We use cookies to improve your experience. Accept all cookies\n"
        "Sign up for our newsletter to get it in your inbox.\n\nLast para, cafe\u0301."
    )
    assert clean_text(raw) == "Title line\n\nFirst para with spaces.\n\nLast para, café."
    assert boilerplate_kind("Related: other story") == "read-more link"
    assert boilerplate_kind("The cookie jar was accepted as evidence " + "x" * 300) is None
    assert boilerplate_kind("Officials said more could be read later.") is None
    assert normalise("a\r\nb") == "a\nb"


# --- URLs over a real local HTTP server -----------------------------------------------------------


def _routes() -> dict[str, tuple[int, str, bytes]]:
    page = (EXAMPLES_DIR / "kettle-recall.html").read_bytes()
    feed = (EXAMPLES_DIR / "sample-feed.xml").read_bytes()
    text = b"A plain title\n\nThe body of a plain text article served over HTTP."
    return {
        "/page.html": (200, "text/html; charset=utf-8", page),
        "/no-canonical": (200, "text/html", page.replace(b'rel="canonical"', b'rel="x"')),
        "/feed": (200, "application/rss+xml", feed),
        "/feed-sniffed": (200, "application/octet-stream", feed),
        "/plain": (200, "text/plain; charset=utf-8", text),
        "/article.json": (200, "application/json", json.dumps({"text": "json body"}).encode()),
        "/big": (200, "text/html", b"<html>" + b"x" * 5000 + b"</html>"),
        "/empty": (200, "text/html", b""),
        "/image": (200, "image/png", b"\x89PNG\r\n\x1a\nxxxx"),
    }


class _Handler(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, str, bytes]]] = {}

    def do_GET(self) -> None:
        if self.path == "/slow":
            time.sleep(1.5)
        if self.path == "/old":
            self.send_response(301)
            self.send_header("Location", "/no-canonical")
            self.end_headers()
            return
        status, ctype, body = self.routes.get(self.path, (404, "text/plain", b"not found"))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that give up (timeouts, size caps) are expected here


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    _Handler.routes = _routes()
    with serving(_Server(("127.0.0.1", 0), _Handler)) as url:
        yield url


# The test server is on loopback, which URL ingest refuses unless allowed (see test_url_safety).
LOOPBACK = AddressPolicy.from_strings(["127.0.0.0/8"])


def fetch(
    url: str, max_bytes: int = MB, timeout: float = 5
) -> tuple[list[Article], list[InputProblem]]:
    policy = FetchPolicy(addresses=LOOPBACK, max_bytes=max_bytes, timeout=timeout)
    return articles(
        read_sources(
            expand_sources([url])[0], max_bytes=MB, http_timeout=timeout, fetch_policy=policy
        )
    )


def test_url_html_page(server: str) -> None:
    [article], problems = fetch(f"{server}/page.html")
    assert problems == []
    assert article.url == "https://example.org/tech/brightwell-kettle-recall"
    assert article.origin == f"{server}/page.html"
    assert "software fault" in article.text


def test_url_redirect_uses_final_address(server: str) -> None:
    [article], _ = fetch(f"{server}/old")
    assert article.url == f"{server}/no-canonical"


@pytest.mark.parametrize("path", ["/feed", "/feed-sniffed"])
def test_url_feed(server: str, path: str) -> None:
    found, problems = fetch(f"{server}{path}")
    assert problems == []
    assert [a.article_id for a in found] == ["sample-wire-0001", "sample-wire-0002"]
    assert found[0].origin == f"{server}{path}#1"


def test_url_plain_text_and_json(server: str) -> None:
    [plain], _ = fetch(f"{server}/plain")
    assert plain.title == "A plain title"
    assert plain.url == f"{server}/plain"
    [record], _ = fetch(f"{server}/article.json")
    assert record.text == "json body"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/missing", "HTTP 404"),
        ("/big", "larger than the 1000-byte cap"),
        ("/empty", "empty response"),
        ("/image", "unsupported content type 'image/png'"),
        ("/slow", "no answer within 0.5 s"),
    ],
)
def test_url_failures(server: str, path: str, reason: str) -> None:
    found, [problem] = fetch(f"{server}{path}", max_bytes=1000, timeout=0.5)
    assert found == []
    assert problem.origin == f"{server}{path}"
    assert reason in problem.reason


def test_url_refused_connection() -> None:
    found, [problem] = fetch("http://127.0.0.1:9/nothing", timeout=2)
    assert found == []
    assert "cannot fetch" in problem.reason


def test_load_url_direct(server: str) -> None:
    found = list(load_url(f"{server}/feed", policy=FetchPolicy(addresses=LOOPBACK)))
    assert len(found) == 2
