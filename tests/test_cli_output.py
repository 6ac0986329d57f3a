"""What the terminal commands print (issue 13, the terminal): `newsbot list` in aligned columns
with one date format, whole values in a pipe and cut to the width of a terminal; a folder ingest
that names the unsupported files it skipped; `newsbot eval`'s table whole in a log; and `newsbot
serve` saying where it serves.

Everything runs through the real CLI (click's runner, or a subprocess on a real pseudo-terminal)
on a real data dir in a temp folder, with the bundled embedder and no chat model.
"""

from __future__ import annotations

import fcntl
import json
import logging
import math
import os
import pty
import queue
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from rich.cells import cell_len

from newsbot.cli import cli
from newsbot.factories import build_store
from newsbot.settings import get_settings
from tests.conftest import MINI_DIR
from vectorstore.records import ArticleMeta, ChunkText

COMMAND = "from newsbot.cli import main; main()"
# No chat model is started: these commands never ask one (an address nothing listens on).
NO_MODEL = {
    "NEWSBOT_LLM_PROVIDER": "openai_compatible",
    "NEWSBOT_LLM_BASE_URL": "http://127.0.0.1:9/v1",
}

LONG_TITLE = (
    "Storm 🌀 floods the harbour road as the council argues for a third night over who pays "
    "for the sea wall that was promised in 2019 and never built"
)
# id, title, date as the input wrote it, source; then the day `list` must show.
ARTICLES = [
    ("short", "Short", "2025-03-11", "Reuters", "2025-03-11"),
    (
        "記事-1",
        "東京で新しい図書館が開館した",
        "2025-06-05T12:15:00+00:00",
        "朝日新聞",
        "2025-06-05",
    ),
    ("storm-2", LONG_TITLE, "Thu, 05 Jun 2025 09:00:00 GMT", "The Harbour Gazette", "2025-06-05"),
    ("plain-3", "No date on this one", None, "", "undated"),
]
ESC = "\x1b[31m"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def store_samples(folder: Path) -> None:
    """Ingest ARTICLES through the CLI, plus one stored by an older version (raw title and date)."""
    folder.mkdir()
    with (folder / "news.jsonl").open("w", encoding="utf-8") as out:
        for article_id, title, published, source, _ in ARTICLES:
            record = {
                "id": article_id,
                "title": title,
                "text": f"{title}. The body.",
                "source": source,
            }
            if published:
                record["date"] = published
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    result = invoke("ingest", str(folder))
    assert result.exit_code == 0, result.stderr
    legacy = ArticleMeta(
        "legacy-4", f"Old {ESC}title", "", "Wire", "Mon, 02 Dec 2024 10:00:00 GMT", "hash"
    )
    build_store(get_settings()).put_articles([(legacy, [ChunkText(0, "Old body.", 0, 9, 3)])])


EXPECTED = [(a, t, s or "-", day) for a, t, _, s, day in ARTICLES] + [
    ("legacy-4", "Old \\x1b[31mtitle", "Wire", "2024-12-02")  # escaped, and its day
]


def columns_of(line: str, values: tuple[str, ...]) -> list[int]:
    """The terminal cell where each of `values` starts in `line`, found left to right."""
    starts, at = [], 0
    for value in values:
        at = line.index(value, at)
        starts.append(cell_len(line[:at]))
        at += len(value)
    return starts


def from_cell(line: str, cell: int) -> str:
    """What `line` shows from terminal cell `cell` on."""
    index = next(i for i in range(len(line) + 1) if cell_len(line[:i]) >= cell)
    return line[index:]


def test_list_lines_up_columns_and_shows_every_date_as_a_day(tmp_path: Path) -> None:
    store_samples(tmp_path / "news")
    result = invoke("list")
    assert result.exit_code == 0
    header, *lines = result.stdout.splitlines()
    assert header.split() == ["ID", "PUBLISHED", "SOURCE", "TITLE"]
    starts = columns_of(header, ("ID", "PUBLISHED", "SOURCE", "TITLE"))
    assert len(lines) == len(EXPECTED)
    for article_id, title, source, day in EXPECTED:
        [line] = [ln for ln in lines if ln.startswith(article_id + " ")]
        # Whole values (not a terminal: nothing cut), each starting where its header does.
        assert columns_of(line, (article_id, day, source, title)) == starts, line
        assert line.endswith(title)
    days = [from_cell(line, starts[1]).split()[0] for line in lines]
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}|undated", d) for d in days), days
    assert "\x1b" not in result.stdout
    assert "…" not in result.stdout


def read_terminal(master: int, timeout: float = math.inf) -> bytes:
    """What the program on a pseudo-terminal writes until it closes its side (or `timeout`)."""
    shown = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the terminal's other side closed
            break
        if not data:
            break
        shown += data
    return shown


def run_in_terminal(args: list[str], columns: int) -> str:
    """Run the CLI with its stdout on a pseudo-terminal `columns` cells wide; what it showed."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    process = subprocess.Popen(
        [sys.executable, "-c", COMMAND, *args],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(slave)
    shown = read_terminal(master)
    os.close(master)
    _, errors = process.communicate(timeout=120)
    assert process.returncode == 0, errors.decode()
    return shown.decode().replace("\r\n", "\n")


def test_list_on_a_terminal_cuts_long_values_to_its_width(tmp_path: Path) -> None:
    store_samples(tmp_path / "news")
    header, *lines = run_in_terminal(["list"], columns=80).splitlines()
    starts = columns_of(header, ("ID", "PUBLISHED", "SOURCE", "TITLE"))
    assert len(lines) == len(EXPECTED)
    for line in [header, *lines]:
        assert cell_len(line) <= 80, line
    [storm] = [ln for ln in lines if ln.startswith("storm-2 ")]
    assert storm.endswith("…")
    assert LONG_TITLE.startswith(storm[storm.index("Storm") : -1].rstrip())
    for article_id, title, _, day in EXPECTED:
        [line] = [ln for ln in lines if ln.startswith(article_id + " ")]  # ids are never cut
        assert columns_of(line, (article_id, day, title[:4])) == [starts[0], starts[1], starts[3]]


def test_list_says_when_nothing_is_stored(clean_environ: Path) -> None:
    clean_environ.mkdir()  # a data dir with no store in it yet
    result = invoke("list")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "No articles are stored: add some with `newsbot ingest PATH`" in result.stderr


# --- ingest: unsupported files in a folder --------------------------------------------------------


def test_folder_ingest_counts_and_names_the_unsupported_files_it_skips(tmp_path: Path) -> None:
    folder = tmp_path / "news"
    (folder / "pics").mkdir(parents=True)
    (folder / "story.txt").write_text("Bridge reopens\nThe bridge reopened on Monday.\n")
    (folder / "notes.pdf").write_bytes(b"%PDF-1.7")
    (folder / "pics" / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    (folder / ".DS_Store").write_bytes(b"\x00")  # hidden: not the user's article, not counted
    result = invoke("ingest", str(folder))
    assert result.exit_code == 0, result.stderr  # skipped files in a folder are not failures
    assert "1 new, 0 updated, 0 unchanged, 0 failed" in result.stderr
    assert (
        f"skipped 2 unsupported files: {folder}/notes.pdf, {folder}/pics/photo.jpg "
        "(newsbot reads .txt .md .html .htm .json .jsonl .jsonl.gz .xml .rss .atom)"
    ) in result.stderr
    as_json = json.loads(invoke("ingest", "--json", str(folder)).stdout)
    assert as_json["unsupported"] == [f"{folder}/notes.pdf", f"{folder}/pics/photo.jpg"]
    assert as_json["failed"] == 0

    globbed = invoke("ingest", f"{folder}/*")  # a quoted glob is expanded like a folder
    assert globbed.exit_code == 0, globbed.stderr
    assert f"skipped 1 unsupported file: {folder}/notes.pdf (newsbot reads" in globbed.stderr

    named = invoke("ingest", str(folder / "notes.pdf"), str(folder / "story.txt"))
    assert named.exit_code == 2  # a file named on the command line is still an error
    assert f"failed {folder / 'notes.pdf'}: unsupported file type" in named.stderr
    assert "skipped" not in named.stderr


def test_bytes_that_are_not_utf8_are_named_in_one_line(tmp_path: Path) -> None:
    """A file name or an argument from a terminal of another encoding (Python keeps its bytes as
    lone surrogates): the file is a failure that says why, the rest of the batch is stored, and
    an argument is a one-line error."""
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "story.txt").write_text("Bridge reopens\nThe bridge reopened on Monday.\n")
    latin1 = os.fsdecode(b"caf\xe9.txt")
    (folder / latin1).write_text("Cafe opens\nA cafe opened in the square on Monday.\n")
    result = invoke("ingest", str(folder))
    assert result.exit_code == 2
    assert "1 new, 0 updated, 0 unchanged, 1 failed" in result.stderr
    assert "caf\\udce9.txt: its name is not UTF-8 text: rename it" in result.stderr

    for args in (("list", "--search", "caf\udce9"), ("delete", "caf\udce9")):
        refused = invoke(*args)
        assert refused.exit_code == 1
        assert refused.stderr == (
            "Error: an argument or line holds bytes that are not UTF-8 text (b'\\xe9'): set your "
            "terminal to UTF-8, or rename the file\n"
        )


def test_a_folder_of_only_unsupported_files_names_them_in_its_error(
    tmp_path: Path, clean_environ: Path
) -> None:
    clean_environ.mkdir()  # not a first run: the error is all it says
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "page1.png").write_bytes(b"\x89PNG")
    result = invoke("ingest", str(folder))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: No articles found in {folder}, only 1 unsupported file: {folder}/page1.png "
        "(newsbot reads .txt .md .html .htm .json .jsonl .jsonl.gz .xml .rss .atom): pass a file "
        "or folder with articles"
    )


def test_a_long_list_of_unsupported_files_is_cut_after_ten_names(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "story.md").write_text("# Bridge reopens\n\nThe bridge reopened on Monday.\n")
    for n in range(13):
        (folder / f"scan{n:02d}.tif").write_bytes(b"II*\x00")
    result = invoke("ingest", str(folder))
    assert result.exit_code == 0
    [line] = [ln for ln in result.stderr.splitlines() if ln.startswith("skipped")]
    assert line.startswith(f"skipped 13 unsupported files: {folder}/scan00.tif, ")
    assert f"{folder}/scan09.tif and 3 more (newsbot reads" in line
    assert "scan10" not in line


# --- eval: the summary table in a log -------------------------------------------------------------


def test_eval_table_is_whole_when_its_output_is_not_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in NO_MODEL.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("COLUMNS", raising=False)
    # A finished run's predictions: the rerun resumes them all and asks no model.
    lines = (MINI_DIR / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    queries = [json.loads(line) for line in lines]
    preds = tmp_path / "preds.jsonl"
    with preds.open("w", encoding="utf-8") as out:
        for query, choice in zip(queries[:2], (queries[0]["answer_idx"][0], None), strict=True):
            record = {"id": query["id"], "choice_idx": choice, "answer": "B", "grounded": False}
            record |= {"retrieved": [], "cited": [], "ttft_s": 0.42, "total_s": 1.25}
            out.write(json.dumps(record | {"prompt_tokens": 90, "completion_tokens": 2}) + "\n")
    args = ["eval", str(MINI_DIR), "--mode", "closed_book", "--limit", "2", "--out", str(preds)]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    header = next(ln for ln in result.stdout.splitlines() if "run" in ln and "acc" in ln)
    for column in ("n", "acc", "95% CI", "unparsed", "ans@5", "ev@5", "cite prec", "TTFT p50"):
        assert f" {column} " in header
    assert "total p50" in header
    [row] = [ln for ln in result.stdout.splitlines() if "closed_book (k=0)" in ln]
    cells = [c.strip() for c in row.strip("│ ").split("│")]
    assert cells[:3] == ["closed_book (k=0)", "2", "0.500"]
    assert cells[-2:] == ["0.420", "1.250"]  # TTFT and total p50, whole


# --- serve: where to open it ----------------------------------------------------------------------


def test_serving_line_names_a_url_that_opens() -> None:
    from bot.web.server import serving_line

    assert serving_line("127.0.0.1", 7860) == (
        "newsbot is serving on http://127.0.0.1:7860/ (widget: /widget/, API: /api/docs); "
        "Ctrl-C stops it"
    )
    assert "http://[::1]:8000/" in serving_line("::1", 8000)
    assert "every address of this machine, here http://127.0.0.1:80/" in serving_line("0.0.0.0", 80)


SERVING = re.compile(
    r"newsbot is serving on http://127\.0\.0\.1:(\d+)/ \(widget: /widget/, API: /api/docs\); "
    r"Ctrl-C stops it"
)


@contextmanager
def serving(*options: str) -> Iterator[tuple[str, list[str]]]:
    """`newsbot serve OPTIONS` on a free port, no chat model; yields the URL it printed and the
    lines it has written so far (stdout and stderr: uvicorn logs requests to stdout). Stopped
    with Ctrl-C (SIGINT) after the block, which must stop it cleanly with no traceback."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"} | NO_MODEL
    process = subprocess.Popen(
        [sys.executable, "-c", COMMAND, "serve", "--port", "0", *options],  # a free port
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    output = process.stdout
    reader = threading.Thread(target=lambda: [lines.put(ln) for ln in output], daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 300  # building the app imports Gradio: slow on a busy box
        match = None
        while match is None:
            if "Uvicorn running on" in "".join(seen):
                deadline = min(deadline, time.monotonic() + 10)  # ours follows uvicorn's at once
            try:
                line = lines.get(timeout=max(deadline - time.monotonic(), 0.1))
            except queue.Empty:
                pytest.fail("no line saying where it serves:\n" + "".join(seen))
            seen.append(line)
            match = SERVING.fullmatch(line.strip())
        yield f"http://127.0.0.1:{match.group(1)}/", seen
        process.send_signal(signal.SIGINT)  # "Ctrl-C stops it"
        assert process.wait(timeout=60) == 0
        reader.join(timeout=10)  # the pipe's end reached
        while not lines.empty():
            seen.append(lines.get())
        assert "Traceback" not in "".join(seen)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(timeout=10)
        output.close()


def browse_and_ask(url: str) -> None:
    """What a browser does for one question: the page and its assets, then the question (the
    store is empty: it is refused before any model is asked)."""
    page = httpx.get(url, timeout=30)
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="(?:\./|/)?(assets/[^"]+|[^":]+\.(?:js|css))"', page.text)
    for asset in {*assets, "config", "gradio_api/info", "theme.css", "widget/", "api/docs"}:
        httpx.get(url + asset, timeout=30)
    assert assets, page.text[:2000]
    asked = httpx.post(url + "api/ask", json={"question": "Who won the final?"}, timeout=60)
    assert asked.status_code == 200, asked.text


def requests_logged(lines: list[str]) -> list[str]:
    return [line.strip() for line in lines if re.search(r'"(GET|POST|HEAD) /', line)]


def test_the_access_log_keeps_questions_and_failures_not_the_pages_own_events() -> None:
    """Found by a review: each open page logged `POST /gradio_api/run/predict` every 15 s (the
    header's refresh), so the log was no longer a line per question."""
    from bot.web.server import ActionsOnly

    def kept(method: str, path: str, status: int) -> bool:
        args = ("127.0.0.1:5000", method, path, "1.1", status)
        record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, "%s", args, None)
        return ActionsOnly().filter(record)

    assert kept("POST", "/gradio_api/queue/join", 200)  # a question to the chat
    assert kept("POST", "/api/ask", 200)
    assert kept("POST", "/login", 303)
    assert not kept("POST", "/gradio_api/run/predict", 200)
    assert not kept("POST", "/newsbot/gradio_api/run/predict?x=1", 200)  # under a root path
    assert kept("POST", "/gradio_api/run/predict", 500)  # a failure is always logged
    assert not kept("GET", "/assets/index.js", 200)
    assert kept("GET", "/no-such-page", 404)


@pytest.mark.server
def test_serve_prints_the_url_and_logs_a_line_per_question_and_none_per_asset(
    clean_environ: Path,
) -> None:
    """At the default log level: the URL printed opens, a first run creates the data dir, and
    the question is logged but not the pages or their assets. One server for all of it, since
    each start imports Gradio and builds the app (seconds of the suite)."""
    with serving() as (url, seen):
        assert httpx.get(url, timeout=30).status_code == 200  # the URL printed opens
        assert httpx.get(url + "api/docs", timeout=30).status_code == 200
        assert httpx.get(url + "widget/", timeout=30).status_code == 200
        browse_and_ask(url)
    # A first run may start here: the Library tab stores the first articles.
    assert f"Created the data dir {clean_environ}\n" in seen
    assert clean_environ.is_dir()
    logged = requests_logged(seen)
    assert len(logged) == 1, logged
    assert '"POST /api/ask HTTP/1.1" 200' in logged[0]


@pytest.mark.server
def test_serve_quiet_logs_no_request_and_still_says_where_it_serves() -> None:
    with serving("--quiet") as (url, seen):
        browse_and_ask(url)
        assert httpx.get(url + "no-such-page", timeout=30).status_code == 404
    assert requests_logged(seen) == []
    assert not any("Uvicorn running" in line for line in seen)
