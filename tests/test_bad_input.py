"""Bad inputs: each is reported with its file (and line) and a reason, and the batch goes on."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from ingest.article import Article, InputProblem
from ingest.sources import expand_sources, read_sources

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
    found, problems = read_all([str(bom), str(utf16)])
    assert problems == []
    assert [a.title for a in found] == ["Title", "Title"]
