"""`newsbot follow`, `prune`, `pin` and `unpin` as a person types them: what they print, and a
one-line error (never a traceback) for each mistake. NEWSBOT_KEEP_DAYS prunes from the worker.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from newsbot.cli import cli
from tests.feed_site import Site, article_html, rss, serve_site

OLD_DATE = "Wed, 01 Jan 2020 10:00:00 GMT"
NEW_DATE = formatdate(time.time() - 2 * 86_400, usegmt=True)  # two days ago


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def one_line_error(result: Any) -> str:
    assert result.exit_code != 0
    assert "Traceback" not in result.output + result.stderr
    return str(result.stderr.strip())


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("NEWSBOT_FETCH_ALLOW_NETWORKS", '["127.0.0.1/32"]')
    with serve_site() as served:
        items = [
            ("/old", "Harbour opened", "Short.", OLD_DATE),
            ("/new", "Pier rebuilt", "Short.", NEW_DATE),
        ]
        for path, title, _, _ in items:
            served.put(path, article_html(title, [f"{title} story told at length. " * 40]))
        served.put("/feed.xml", rss(served, items), "application/rss+xml")
        yield served


def test_follow_add_list_run_remove(site: Site) -> None:
    url = site.url("/feed.xml")
    added = invoke("follow", "add", url, "--every", "2h", "--no-full-text")
    assert added.exit_code == 0, added.output
    assert f"Following {url} every 2h" in added.output
    assert "Still following" in invoke("follow", "add", url, "--every", "30m").output

    listed = invoke("follow", "list")
    assert f"{url}  (unknown, every 30m, full text auto)" in listed.output
    assert "last check never" in listed.output

    ran = invoke("follow", "run", "--once")
    assert ran.exit_code == 0, ran.output
    assert f"{url}: 2 new" in ran.output
    [row] = [json.loads(line) for line in invoke("follow", "list", "--json").output.splitlines()]
    assert row["kind"] == "feed"
    assert row["added_last_day"] == 2
    assert row["last_error"] is None
    assert re.search(r"next check in (29|30) min", invoke("follow", "list").output)

    assert invoke("follow", "remove", url).output.startswith(f"Stopped following {url}")
    assert "No followed sources" in invoke("follow", "list").stderr
    assert len(invoke("list", "--json").output.splitlines()) == 2  # its articles stay


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("follow", "add", "ftp://example.com/feed"), "is not an http(s) URL"),
        (("follow", "add", "http://xn--.com/"), "is not a valid URL (Malformed A-label"),
        (("follow", "add", "https://example.com/f", "--every", "soon"), "is not an interval"),
        (("follow", "add", "https://example.com/f", "--every", "0s"), "is too short"),
        (("follow", "add", "https://example.com/f", "--every", "3000000d"), "at least once a year"),
        (("prune", "--older-than", "old"), "is not an age"),
        (("prune",), "newsbot prune --older-than 180d"),
        (("pin", "no-such-id"), "No stored article has the id 'no-such-id'"),
        (("follow", "remove", "https://example.com/f"), "is not followed"),
        (
            ("follow", "add", "https://ed:hunter2@example.com/f"),
            "https://ed:***@example.com/f carries",
        ),
    ],
)
def test_mistakes_are_one_line_errors(
    args: tuple[str, ...], expected: str, clean_environ: Path
) -> None:
    clean_environ.mkdir()
    assert expected in one_line_error(invoke(*args))


def test_one_source_whatever_the_spelling_and_a_failed_check_is_exit_code_2(site: Site) -> None:
    """Found by a review: `HTTP://Host/feed#top` was a second source beside `http://host/feed`,
    and `follow run --once` exited 0 when a check failed, so cron saw nothing wrong."""
    url = site.url("/feed.xml")
    assert invoke("follow", "add", url.replace("http://", "HTTP://") + "#top").exit_code == 0
    assert "Still following" in invoke("follow", "add", url).output
    assert json.loads(invoke("follow", "list", "--json").output)["url"] == url

    site.failing["/feed.xml"] = 500
    ran = invoke("follow", "run", "--once")
    assert ran.exit_code == 2
    assert f"{url}: failed: the server answered HTTP 500" in ran.output
    assert invoke("follow", "remove", url + "#elsewhere").exit_code == 0
    assert "No followed sources" in invoke("follow", "list").stderr


def test_a_source_followed_in_an_older_spelling_is_updated_not_added_again(
    clean_environ: Path,
) -> None:
    """Found by a review: sources followed before URLs were kept in one spelling were followed a
    second time by `follow add` with the same text, their entries read again as new."""
    from newsbot.follow_command import followed_sources
    from newsbot.settings import get_settings

    clean_environ.mkdir()
    sources = followed_sources(get_settings())
    sources.add("https://Example.com:443/feed", 900.0, "auto", time.time())  # as stored before
    added = invoke("follow", "add", "https://Example.com:443/feed", "--every", "1h")
    assert "Still following https://Example.com:443/feed every 1h" in added.output
    assert [s.url for s in sources.all()] == ["https://Example.com:443/feed"]


def test_keep_days_prunes_from_the_worker_and_pins_stay(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert invoke("follow", "add", site.url("/feed.xml")).exit_code == 0
    assert "2 new" in invoke("follow", "run", "--once").output
    rows = [json.loads(line) for line in invoke("list", "--json").output.splitlines()]
    old = next(r for r in rows if r["title"] == "Harbour opened")["article_id"]
    assert invoke("pin", old).output.strip() == f"Pinned {old}"
    assert invoke("pin", old).output.strip() == f"Already pinned: {old}"

    monkeypatch.setenv("NEWSBOT_KEEP_DAYS", "365")
    invoke("follow", "run", "--once")  # nothing due; the retention pass runs all the same
    assert len(invoke("list", "--json").output.splitlines()) == 2  # pinned: kept

    assert invoke("unpin", old).output.strip() == f"Unpinned {old}"
    invoke("follow", "run", "--once")
    titles = [json.loads(line)["title"] for line in invoke("list", "--json").output.splitlines()]
    assert titles == ["Pier rebuilt"]
    pruned = invoke("prune", "--older-than", "30d", "--json")
    assert json.loads(pruned.output)["removed"] == []
    pruned = invoke("prune", "--older-than", "99999999d", "--json")  # before year 1: keeps all
    assert json.loads(pruned.output)["removed"] == []
    pruned = invoke("prune", "--older-than", "1d", "--json")
    assert len(json.loads(pruned.output)["removed"]) == 1
    assert invoke("list", "--json").output == ""
