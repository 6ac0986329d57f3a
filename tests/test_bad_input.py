"""Bad inputs: each is reported with its file (and line) and a reason, and the batch goes on."""

from __future__ import annotations

import gzip
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ingest.article import Article, InputProblem
from ingest.loaders.jsonl import TOO_DEEP
from ingest.sources import expand_sources, read_sources
from newsbot.cli import cli
from newsbot.errors import InputError
from newsbot.factories import build_store
from newsbot.settings import get_settings
from vectorstore.records import ArticleMeta, ChunkText

NOBODY = 65534

GOOD = json.dumps({"id": "good-1", "title": "Good", "text": "A good article."})
CAP = 4096

# file name, content, origin suffix (after the path), words the reason must contain
CASES: list[tuple[str, bytes, str, str]] = [
    ("empty.txt", b"", "", "the file is empty"),
    ("blank.md", b"  \n\n \t\n", "", "the file is empty"),
    ("empty.jsonl", b"", "", "the file is empty"),
    ("empty.html", b"", "", "the file is empty"),
    ("empty.xml", b"", "", "the file is empty"),
    ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "", "binary data (contains NUL bytes)"),
    ("binary.html", b"<html>\x00\x01\x02</html>", "", "binary data"),
    ("binary.jsonl", b'\x00\x00\x00\x01\n{"text": "a"}\n', "", "binary data"),
    ("binary.xml", b"<rss>\x00\x00</rss>", "", "binary data"),
    ("latin1.txt", "Title\nCaf\xe9 prices rose.".encode("latin-1"), "", "not valid UTF-8 (line 2"),
    ("latin1.md", b"# T\n\n\xff\xfe\xfd", "", "not valid UTF-8"),
    ("only-front-matter.md", b"---\ntitle: T\n---\n", "", "no article text"),
    (
        "no-text.json",
        json.dumps({"title": "T", "url": "https://a.org"}).encode(),
        "",
        "no article text",
    ),
    ("broken.json", b'{"title": "T", "text": "abc"', "", "not valid JSON"),
    (
        "nothing.html",
        b"<html><head><title>T</title></head><body></body></html>",
        "",
        "no article text",
    ),
    ("not-a-feed.xml", b"<?xml version='1.0'?><catalog><book>x</book></catalog>", "", "RSS/Atom"),
    ("oversized.txt", b"Title\n" + b"All work and no play. " * 400, "", f"{CAP}-byte cap"),
    ("not-gzip.jsonl.gz", b'{"text": "plain, not compressed"}\n', "", "not a readable gzip file"),
    ("truncated.jsonl.gz", gzip.compress(GOOD.encode() * 50)[:40], "", "not a readable gzip file"),
    ("bomb.jsonl.gz", gzip.compress(b" " * (CAP * 10)), "", f"{CAP}-byte cap"),
]

LINE_CASES: list[tuple[bytes, str]] = [
    (b'{"id": "t", "text": "cut off in the mid', "not valid JSON"),
    (b'{"id": "x", "title": "no text here"}', "no article text (looked for the fields text, body"),
    (b'{"id": "y", "text": "   "}', "no article text"),
    (b"[1, 2, 3]", "expected a JSON object, got list"),
    (b'{"id": "z", "text": ["a", "b"]}', "field 'text' should be text, not list"),
    (b'{"text": "A story.", "url": 42}', "field 'url' should be text, not int"),
    ('{"id": "u", "text": "caf\xe9"}'.encode("latin-1"), "not valid UTF-8"),
]


def read_all(paths: list[str], max_bytes: int = CAP) -> tuple[list[Article], list[InputProblem]]:
    sources, problems = expand_sources(paths)
    found: list[Article] = []
    for item in read_sources(sources, max_bytes=max_bytes, http_timeout=1):
        if isinstance(item, Article):
            found.append(item)
        else:
            problems.append(item)
    return found, problems


@pytest.mark.parametrize(("name", "content", "suffix", "reason"), CASES, ids=[c[0] for c in CASES])
def test_bad_file_is_reported(
    tmp_path: Path, name: str, content: bytes, suffix: str, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    found, [problem] = read_all([str(path)])
    assert found == []
    assert problem.origin == f"{path}{suffix}"
    assert reason in problem.reason
    assert problem.skipped


@pytest.mark.parametrize(("line", "reason"), LINE_CASES, ids=[r for _, r in LINE_CASES])
def test_bad_json_line_is_reported_and_the_rest_goes_on(
    tmp_path: Path, line: bytes, reason: str
) -> None:
    path = tmp_path / "mixed.jsonl"
    after = json.dumps({"id": "good-2", "text": "After the bad line."}).encode()
    path.write_bytes(GOOD.encode() + b"\n" + line + b"\n" + after + b"\n")
    found, [problem] = read_all([str(path)])
    assert [a.article_id for a in found] == ["good-1", "good-2"]
    assert problem.origin == f"{path}:2"
    assert reason in problem.reason


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31T00:00:00Z", "not a date"])
def test_absurd_date_is_dropped_with_a_warning(tmp_path: Path, value: str) -> None:
    path = tmp_path / "dates.jsonl"
    path.write_text(json.dumps({"id": "d", "text": "Dated.", "date": value}) + "\n")
    [article], [warning] = read_all([str(path)])
    assert article.published is None  # never invented
    assert warning.origin == f"{path}:1"
    assert not warning.skipped
    assert "date" in warning.reason


def test_unclosed_front_matter_is_stored_as_text_with_a_warning(tmp_path: Path) -> None:
    """Found by a review: it was stored as the article's text, and nothing said so."""
    path = tmp_path / "strike.md"
    path.write_text("---\ntitle: Ferry strike ends\ndate: 2026-11-02\n\nThe strike ended.\n")
    [article], [warning] = read_all([str(path)])
    assert "The strike ended." in article.text
    assert not warning.skipped
    assert warning.reason.startswith("its front matter has no closing --- line")
    closed = tmp_path / "closed.md"
    closed.write_text("---\ntitle: Ferry strike ends\n---\nThe strike ended.\n")
    [article], problems = read_all([str(closed)])
    assert article.title == "Ferry strike ends"
    assert problems == []


def test_a_folder_of_bad_files_still_yields_the_good_ones(tmp_path: Path) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    for name, content, _, _ in CASES:
        (folder / name).write_bytes(content)
    (folder / "good.jsonl").write_text(GOOD + "\n")
    (folder / "good.md").write_text("# Fine\n\nA fine article.\n")
    found, problems = read_all([str(folder)])
    assert sorted(a.title for a in found) == ["Fine", "Good"]
    assert sorted(Path(p.origin).name for p in problems) == sorted(c[0] for c in CASES)


def test_unsupported_file_type_named_explicitly(tmp_path: Path) -> None:
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(b"%PDF-1.7")
    good = tmp_path / "good.txt"
    good.write_text("Title\nBody.")
    found, [problem] = read_all([str(pdf), str(good)])
    assert len(found) == 1
    assert problem.origin == str(pdf)
    assert "unsupported file type" in problem.reason


def test_utf8_bom_and_utf16_are_read(tmp_path: Path) -> None:
    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbfTitle\nText with a BOM.")
    utf16 = tmp_path / "utf16.txt"
    utf16.write_bytes("Title\nText in UTF-16.".encode("utf-16"))
    lines = tmp_path / "utf16.jsonl"
    records = [{"title": "Line one", "text": "Café."}, {"title": "Line two", "text": "Two."}]
    text = "\n".join(json.dumps(record, ensure_ascii=False) for record in records)
    lines.write_bytes(text.encode("utf-16"))
    found, problems = read_all([str(bom), str(utf16), str(lines)])
    assert problems == []
    assert [a.title for a in found] == ["Title", "Title", "Line one", "Line two"]
    assert found[2].text == "Café."
    assert found[3].origin == f"{lines}:2"


# --- issue 12: messages that were untrue, or crashed ---------------------------------------------


@contextmanager
def unprivileged() -> Iterator[None]:
    """Run as user `nobody` for a moment when the tests run as root, so permissions apply."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(NOBODY)
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A folder `nobody` may enter (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="newsbot-perm-"))
    folder.chmod(0o755)
    yield folder
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    shutil.rmtree(folder)


def test_a_path_too_long_for_the_system_is_named_not_a_traceback(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("Title\nBody.")
    long_name = "a" * 304
    found, [problem] = read_all([long_name, str(good)])
    assert len(found) == 1
    assert problem.origin == long_name
    assert "the path is too long for this system" in problem.reason
    with pytest.raises(InputError, match="the path is too long"):
        expand_sources([long_name])


def test_a_path_under_an_unreadable_folder_says_permission_denied(open_dir: Path) -> None:
    (open_dir / "locked" / "sub").mkdir(parents=True)
    target = open_dir / "locked" / "sub" / "a.txt"
    target.write_text("Title\nBody.")
    (open_dir / "locked").chmod(0o000)
    with unprivileged(), pytest.raises(InputError) as error:
        expand_sources([str(target)])
    assert str(error.value) == (
        f"{target}: permission denied: check that you may read it and open every folder above it"
    )


def test_an_unreadable_subfolder_is_reported_not_skipped_silently(open_dir: Path) -> None:
    (open_dir / "ok").mkdir()
    (open_dir / "ok" / "a.txt").write_text("Readable\nBody one.")
    (open_dir / "closed").mkdir()
    (open_dir / "closed" / "b.txt").write_text("Unreadable\nBody two.")
    (open_dir / "closed").chmod(0o000)
    with unprivileged():
        sources, [problem] = expand_sources([str(open_dir)])
    assert [Path(s.location).name for s in sources] == ["a.txt"]
    assert problem.origin == str(open_dir / "closed")
    assert problem.reason.startswith("folder skipped: permission denied")
    assert problem.skipped  # counts as a failure: exit code 2, not 0


def test_a_fifo_is_called_a_fifo_and_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "news.txt"
    os.mkfifo(fifo)
    with pytest.raises(InputError) as error:
        expand_sources([str(fifo)])  # opening it would block forever
    assert str(error.value) == f"{fifo}: a named pipe (FIFO), not a file or folder: pass a file"


def test_rss_year_0000_is_not_stored_as_2000(tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        "<item><title>Zero</title><link>https://e.org/0</link><description>Body.</description>"
        "<pubDate>Sat, 01 Jan 0000 00:00:00 GMT</pubDate></item>"
        "<item><title>Ahead</title><link>https://e.org/1</link><description>Body.</description>"
        "<pubDate>Sat, 01 Jan 2199 00:00:00 GMT</pubDate></item></channel></rss>"
    )
    found, warnings = read_all([str(feed)])
    assert [a.published for a in found] == [None, None]
    assert [w.reason for w in warnings] == [
        "implausible date 'Sat, 01 Jan 0000 00:00:00 GMT' (year 0000); stored without a date",
        "implausible date 'Sat, 01 Jan 2199 00:00:00 GMT' (in the future); stored without a date",
    ]  # quoted as the feed wrote them, never as a Python datetime(...)


def test_one_nul_byte_rejects_only_its_line(tmp_path: Path) -> None:
    path = tmp_path / "nul.jsonl"
    bad = json.dumps({"id": "n", "text": "a NUL here"}).encode().replace(b"NUL", b"\x00")
    path.write_bytes(GOOD.encode() + b"\n" + bad + b"\n" + GOOD.replace("1", "3").encode())
    found, [problem] = read_all([str(path)])
    assert [a.article_id for a in found] == ["good-1", "good-3"]
    assert problem.origin == f"{path}:2"
    assert "NUL bytes" in problem.reason


@pytest.mark.parametrize("name", ["utf16.txt", "utf16.jsonl", "utf16.json", "utf16.html"])
def test_utf16_without_bom_is_named_as_such(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    text = GOOD if ".json" in name else "Title\nSome text in UTF-16 without a BOM."
    path.write_bytes(text.encode("utf-16-le"))
    found, [problem] = read_all([str(path)], max_bytes=10**6)
    assert found == []
    assert "looks like UTF-16 text without a byte-order mark (BOM): save it as UTF-8" in (
        problem.reason
    )
    assert "binary" not in problem.reason


def test_json_syntax_errors_read_as_english(tmp_path: Path) -> None:
    whole = tmp_path / "cut.json"
    whole.write_text('{"id": "t", "text": "cut off')
    lines = tmp_path / "cut.jsonl"
    lines.write_text(GOOD + '\n{"id": "t", "text": "cut off\n')
    _, problems = read_all([str(whole), str(lines)])
    assert [p.reason for p in problems] == [
        "not valid JSON (Unterminated string starting at line 1, column 21)",
        "not valid JSON (Unterminated string starting at column 21)",
    ]


def test_deeply_nested_json_is_said_to_be_too_deep(tmp_path: Path) -> None:
    whole = tmp_path / "deep.json"
    whole.write_text("[" * 100_000 + "]" * 100_000)
    lines = tmp_path / "deep.jsonl"
    lines.write_text(GOOD + '\n{"text": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    found, problems = read_all([str(whole), str(lines)], max_bytes=10**6)
    assert [a.article_id for a in found] == ["good-1"]  # the good line of the same file
    assert [(p.origin, p.reason) for p in problems] == [
        (str(whole), TOO_DEEP),
        (f"{lines}:2", TOO_DEEP),
    ]
    assert "nested too deeply" in TOO_DEEP


def test_deeply_nested_html_is_said_to_be_too_deep(tmp_path: Path) -> None:
    page = tmp_path / "deep.html"
    body = "<p>" + "A sentence of the deep article. " * 30 + "</p>"
    page.write_text("<html><body>" + "<div>" * 600 + body + "</div>" * 600 + "</body></html>")
    found, [problem] = read_all([str(page)], max_bytes=10**6)
    assert found == []
    assert "nests elements more than 255 levels deep" in problem.reason


def test_html_without_an_article_logs_no_stray_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    page = tmp_path / "empty.html"
    page.write_text("<html><body></body></html>")
    with caplog.at_level(logging.WARNING):
        _, [problem] = read_all([str(page)])
    assert problem.reason == "no article text found in the HTML page"  # said once, here
    assert [r for r in caplog.records if r.name.startswith("trafilatura")] == []


# --- issue 12: values from the data printed safely ------------------------------------------------


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_rich_markup_in_names_and_dates_is_printed_literally(tmp_path: Path) -> None:
    folder = tmp_path / "x["
    folder.mkdir()
    (folder / "]y.txt").write_bytes(b"")  # the path reads x[/]y.txt
    (tmp_path / "d.jsonl").write_text(json.dumps({"id": "d", "text": "T.", "date": "[/x]"}))
    (tmp_path / "f.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>[bold]T[/]</title><item>'
        "<title>One</title><link>https://e.org/1</link><description>Body.</description>"
        "<pubDate>[/x]</pubDate></item></channel></rss>"
    )
    result = invoke("ingest", str(folder / "]y.txt"), "d.jsonl", "f.xml")
    assert result.exit_code == 2  # one failure; before the fix: MarkupError, exit 1
    assert f"failed {folder}/]y.txt: the file is empty" in result.stderr
    assert "warning d.jsonl:1: unreadable date '[/x]'" in result.stderr
    assert "warning f.xml#1: unreadable date '[/x]'" in result.stderr


ESCAPES = "\x1b[2J\x1b[31m"  # clear the screen, then red
RLO = "\u202e"  # right-to-left override


def test_terminal_escapes_in_data_never_reach_the_terminal(tmp_path: Path) -> None:
    record = {"id": "e1", "title": f"{ESCAPES}Evil{RLO}txt.exe", "text": "Body.", "source": ESCAPES}
    (tmp_path / "evil.jsonl").write_text(json.dumps(record) + "\n")
    (tmp_path / f"bad{ESCAPES}.txt").write_bytes(b"")
    result = invoke("ingest", str(tmp_path))
    assert result.exit_code == 2
    assert "\x1b" not in result.stderr
    assert RLO not in result.stderr
    assert "bad\\x1b[2J\\x1b[31m.txt: the file is empty" in result.stderr  # shown, escaped
    listed = invoke("list")
    assert "\x1b" not in listed.stdout
    assert RLO not in listed.stdout
    assert "Evil txt.exe" in listed.stdout  # cleaned when stored


def test_list_escapes_values_stored_before_cleaning(tmp_path: Path) -> None:
    # Articles stored by an older version keep their raw titles; `list` must still be safe.
    store = build_store(get_settings())
    meta = ArticleMeta(f"old{ESCAPES}", f"Old{RLO}title{ESCAPES}", "", "", None, "hash")
    store.put_articles([(meta, [ChunkText(0, "Old body.", 0, 9, 3)])])
    listed = invoke("list")
    assert "\x1b" not in listed.stdout
    assert RLO not in listed.stdout
    assert "old\\x1b[2J\\x1b[31m" in listed.stdout
    assert "Old\\u202etitle" in listed.stdout


# --- issue 12: the per-article limit, in every loader ------------------------------------------

LONG = "A sentence of a very long article. " * 100  # 3,500 characters


@pytest.mark.parametrize(
    ("name", "content", "suffix"),
    [
        ("long.txt", f"Title\n{LONG}", ""),
        ("long.jsonl", json.dumps({"id": "l", "text": LONG}) + "\n" + GOOD, ":1"),
        ("long.json", json.dumps([{"id": "l", "text": LONG}, json.loads(GOOD)]), "[0]"),
        (
            "long.xml",
            '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>L'
            f"</title><link>https://e.org/l</link><description>{LONG}</description></item>"
            "</channel></rss>",
            "#1",
        ),
    ],
)
def test_an_article_over_the_limit_is_refused_as_it_is_read(
    tmp_path: Path, name: str, content: str, suffix: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    sources, _ = expand_sources([str(path)])
    items = list(read_sources(sources, max_bytes=10**6, http_timeout=1, max_chars=2000))
    problems = [i for i in items if isinstance(i, InputProblem)]
    [problem] = problems
    assert problem.origin == f"{path}{suffix}"
    assert problem.reason.startswith("the article text is ")
    assert "over the 2,000-character limit per article" in problem.reason
    assert [i.article_id for i in items if isinstance(i, Article)] == (
        ["good-1"] if "json" in name else []
    )


def test_an_html_page_far_larger_than_an_article_is_not_parsed(tmp_path: Path) -> None:
    page = tmp_path / "huge.html"
    page.write_text("<html><body>" + "<p>Paragraph.</p>" * 2000 + "</body></html>")
    sources, _ = expand_sources([str(page)])
    [problem] = list(read_sources(sources, max_bytes=10**6, http_timeout=1, max_chars=1000))
    assert isinstance(problem, InputProblem)
    assert problem.reason.startswith("the HTML page is 34,026 characters, over the 20,000 read")


@pytest.mark.parametrize("pattern", ["~/news/*.md", "~/news/**/*.md"])
def test_a_glob_starting_with_a_tilde_is_read_from_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pattern: str
) -> None:
    """Found by a review: a quoted '~/news/*.md' found nothing, '~/news/**/*.md' worked."""
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "a.md").write_text("Title\n\nSome news text here.\n", encoding="utf-8")
    sources, problems = expand_sources([pattern])
    assert problems == []
    assert [Path(s.location).name for s in sources] == ["a.md"]


def test_a_limit_too_large_for_the_database_is_a_usage_error(tmp_path: Path) -> None:
    """Found by a review: an OverflowError traceback from SQLite."""
    run = CliRunner().invoke(
        cli, ["--data-dir", str(tmp_path), "list", "--limit", "99999999999999999999"]
    )
    assert run.exit_code == 2
    assert "is not in the range 1<=x<=1000000" in run.output
    assert "Traceback" not in run.output


@pytest.mark.parametrize("name", ["", "ab", "bad name!"])
def test_a_collection_name_chroma_cannot_take_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """Found by a review: an empty NEWSBOT_COLLECTION (a blank line of a .env template) failed
    with 'Is a directory: <data dir>/chroma/newsbot-writes'."""
    monkeypatch.setenv("NEWSBOT_COLLECTION", name)
    run = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "stats"])
    assert run.exit_code != 0
    assert f"NEWSBOT_COLLECTION: Value error, {name!r} is not a collection name" in run.output


def test_a_broken_link_in_a_folder_is_reported_and_the_rest_read(tmp_path: Path) -> None:
    """Found by a review: a folder's link to a missing file was skipped without a word."""
    (tmp_path / "good.txt").write_text("Title\n\nSome news text here.\n", encoding="utf-8")
    (tmp_path / "gone.txt").symlink_to(tmp_path / "nowhere" / "target.txt")
    (tmp_path / "gone.bin").symlink_to(tmp_path / "nowhere" / "target.bin")  # not an input
    sources, problems = expand_sources([str(tmp_path)])
    assert [Path(s.location).name for s in sources] == ["good.txt"]
    assert [(Path(p.origin).name, p.reason) for p in problems] == [
        ("gone.txt", "a link to a file that does not exist")
    ]
