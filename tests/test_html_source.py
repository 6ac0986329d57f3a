"""Issue 26, source rendering: an HTML page's site name is its source, and its headline the title.

The source is, in order: `og:site_name`; the `<title>`'s site suffix when the page confirms it
(the rest is its headline, or the suffix is its og:site_name or domain); the domain of the page's
url; else none. A separator alone proves nothing: "Pakistan - US talks end with deal" is a whole
headline. Pages are written here; URLs are served on 127.0.0.1 only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner

from ingest.article import Article
from ingest.loaders.addresses import AddressPolicy
from ingest.loaders.fetching import FetchPolicy
from ingest.loaders.urls import load_url
from ingest.sources import load_file
from newsbot.cli import cli
from tests.loopback_http import serving

MB = 10_000_000

BODY = "".join(
    f"<p>{sentence}</p>"
    for sentence in (
        "The harbour council voted on Tuesday evening to repair the old swing bridge, which has "
        "been stuck half open since a storm bent one of its hinges in early spring.",
        "Engineers told the meeting that the work would take eleven weeks and that ferries would "
        "carry foot passengers across the channel while the crossing stayed closed.",
        "Shop owners on the east quay said trade had fallen by a third since the bridge jammed, "
        "and several asked the council to start the repairs before the summer markets open.",
        "The vote passed by nine to two; the two members against wanted a new bridge instead, "
        "arguing that a repaired one would need the same work again within ten years.",
    )
)


def page(title: str, *, head: str = "", h1: str | None = None) -> str:
    """An article page: `<title>`, extra `<head>` markup, and an optional `<h1>` over the body."""
    heading = f"<h1>{h1}</h1>" if h1 else ""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>{head}</head>"
        f"<body><article>{heading}{BODY}</article></body></html>"
    )


def load_page(tmp_path: Path, html: str, name: str = "story.html") -> Article:
    path = tmp_path / name
    path.write_text(html, encoding="utf-8")
    [article] = [a for a in load_file(path, max_bytes=MB) if isinstance(a, Article)]
    return article


HEADLINE = "Council votes to repair the swing bridge"
CANONICAL = '<link rel="canonical" href="https://www.harbourgazette.example/news/swing-bridge">'


# --- from the page's own markup ----------------------------------------------------------------


def test_og_site_name_is_the_source_before_a_title_suffix_and_the_domain(tmp_path: Path) -> None:
    html = page(
        f"{HEADLINE} | Harbour Gazette",
        head=f'<meta property="og:site_name" content="The Harbour Gazette">{CANONICAL}',
        h1=HEADLINE,
    )
    article = load_page(tmp_path, html)
    assert article.source == "The Harbour Gazette"
    assert article.title == HEADLINE


@pytest.mark.parametrize("separator", ["|", "-", "\u2013", "\u2014", "\u00b7"])
def test_title_suffix_is_the_source_when_the_rest_is_the_headline(
    tmp_path: Path, separator: str
) -> None:
    article = load_page(tmp_path, page(f"{HEADLINE} {separator} Harbour Gazette", h1=HEADLINE))
    assert article.source == "Harbour Gazette"
    assert article.title == HEADLINE


def test_title_suffix_is_taken_off_an_og_title_that_carries_it(tmp_path: Path) -> None:
    full = f"{HEADLINE} | Harbour Gazette"
    og = f'<meta property="og:title" content="{full}">'
    html = page(full, head=og + '<meta property="og:site_name" content="Harbour Gazette">')
    article = load_page(tmp_path, html)
    assert (article.title, article.source) == (HEADLINE, "Harbour Gazette")


@pytest.mark.parametrize(
    ("url", "site"),
    [
        ("https://www.harbourgazette.example/news/swing-bridge", "Harbour Gazette"),
        ("https://quay.co.uk/news/swing-bridge", "Quay Evening News"),
    ],
)
def test_title_suffix_that_spells_the_domain_is_the_source(
    tmp_path: Path, url: str, site: str
) -> None:
    # No <h1> or og:title names the headline; the suffix is the site the canonical url is on.
    html = page(f"{HEADLINE} - {site}", head=f'<link rel="canonical" href="{url}">')
    article = load_page(tmp_path, html)
    assert (article.title, article.source, article.url) == (HEADLINE, site, url)


def test_title_suffix_that_only_shares_letters_with_the_domain_is_not_taken(
    tmp_path: Path,
) -> None:
    html = page(
        f"{HEADLINE} - News", head='<link rel="canonical" href="https://harbournews.example/a">'
    )
    article = load_page(tmp_path, html)
    assert (article.title, article.source) == (f"{HEADLINE} - News", "harbournews.example")


@pytest.mark.parametrize(
    "head",
    [CANONICAL, '<meta property="og:url" content="https://harbourgazette.example/news/swing">'],
)
def test_domain_of_the_declared_url_when_nothing_names_the_site(tmp_path: Path, head: str) -> None:
    article = load_page(tmp_path, page(HEADLINE, head=head, h1=HEADLINE))
    assert article.source == "harbourgazette.example"
    assert article.title == HEADLINE


def test_no_site_name_and_no_url_leaves_the_source_empty(tmp_path: Path) -> None:
    article = load_page(tmp_path, page(HEADLINE, h1=HEADLINE))
    assert (article.title, article.source, article.url) == (HEADLINE, "", "")


# --- separators that are not a site suffix -----------------------------------------------------

PAKISTAN = "Pakistan - US talks end with deal"


@pytest.mark.parametrize(
    "head",
    [f'<meta property="og:title" content="{PAKISTAN}">', ""],
    ids=["og-title-equal", "title-only"],
)
def test_dash_in_a_headline_is_not_a_site_suffix(tmp_path: Path, head: str) -> None:
    # trafilatura alone keeps "Pakistan" when nothing else states the headline.
    article = load_page(tmp_path, page(PAKISTAN, head=head))
    assert article.title == PAKISTAN
    assert article.source == ""


def test_dash_in_a_headline_stated_by_its_h1_is_not_a_site_suffix(tmp_path: Path) -> None:
    article = load_page(tmp_path, page(PAKISTAN, h1=PAKISTAN, head=CANONICAL))
    assert article.title == PAKISTAN
    assert article.source == "harbourgazette.example"


def test_unconfirmed_suffix_keeps_the_whole_title(tmp_path: Path) -> None:
    # A bar with nothing on the page to say what either side is: the headline keeps its words.
    article = load_page(tmp_path, page(f"{HEADLINE} | Live updates"))
    assert article.title == f"{HEADLINE} | Live updates"
    assert article.source == ""


def test_dotted_headline_part_is_neither_site_nor_title(tmp_path: Path) -> None:
    # trafilatura alone takes a part with a dot for the site and the other part for the title.
    article = load_page(tmp_path, page("St. Louis council backs bridge plan - Metro desk"))
    assert article.title == "St. Louis council backs bridge plan - Metro desk"
    assert article.source == ""


def test_site_name_first_is_not_a_suffix(tmp_path: Path) -> None:
    article = load_page(tmp_path, page(f"Harbour Gazette: {HEADLINE}", h1=HEADLINE))
    assert article.title == HEADLINE
    assert article.source == ""


# --- an explicit source wins -------------------------------------------------------------------


def test_explicit_source_wins_over_the_domain(tmp_path: Path) -> None:
    url = "https://www.harbourgazette.example/news/swing-bridge"
    markdown = tmp_path / "story.md"
    markdown.write_text(
        f"---\ntitle: {HEADLINE}\nsource: Quay Wire\nurl: {url}\n---\n\nThe council voted.\n",
        encoding="utf-8",
    )
    record = tmp_path / "story.json"
    record.write_text(
        json.dumps(
            {"title": HEADLINE, "text": "The council voted.", "url": url, "site": "Quay Wire"}
        ),
        encoding="utf-8",
    )
    for path in (markdown, record):
        [article] = [a for a in load_file(path, max_bytes=MB) if isinstance(a, Article)]
        assert (article.source, article.url) == ("Quay Wire", url), path.name


# --- URLs served on 127.0.0.1 ------------------------------------------------------------------


class _Pages(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, str]] = {}

    def do_GET(self) -> None:
        body = self.routes.get(self.path, "").encode("utf-8")
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    _Pages.routes = {
        "/suffix": page(f"{HEADLINE} | Harbour Gazette", h1=HEADLINE),
        "/bare": page(HEADLINE, h1=HEADLINE),
    }
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _Pages)) as url:
        yield url


def fetch_one(url: str) -> Article:
    policy = FetchPolicy(addresses=AddressPolicy.from_strings(["127.0.0.1/32"]))
    [article] = [a for a in load_url(url, policy=policy) if isinstance(a, Article)]
    return article


def test_url_page_title_suffix_is_the_source(site: str) -> None:
    article = fetch_one(f"{site}/suffix")
    assert (article.title, article.source) == (HEADLINE, "Harbour Gazette")


def test_url_page_without_a_site_name_takes_the_domain(site: str) -> None:
    # The host, without the port trafilatura keeps ("127.0.0.1:54321").
    article = fetch_one(f"{site}/bare")
    assert article.source == "127.0.0.1"
    assert article.url == f"{site}/bare"


# --- end to end: ingest, then list -------------------------------------------------------------


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_cli_list_shows_the_site_name_of_an_ingested_page(tmp_path: Path) -> None:
    path = tmp_path / "swing-bridge.html"
    path.write_text(page(f"{HEADLINE} \u2014 Harbour Gazette", h1=HEADLINE), encoding="utf-8")

    assert json.loads(run("ingest", "--json", str(path)))["new"] == 1
    listed = run("list")

    [row] = [line for line in listed.splitlines() if HEADLINE in line]
    assert "Harbour Gazette" in row
    assert "\u2014 Harbour Gazette" not in row  # the title is the headline alone
    assert json.loads(run("ingest", "--json", str(path)))["unchanged"] == 1


def test_cli_list_shows_the_site_name_of_an_ingested_url(site: str) -> None:
    assert json.loads(run("ingest", "--json", "--allow-private", f"{site}/suffix"))["new"] == 1
    [row] = [line for line in run("list").splitlines() if HEADLINE in line]
    assert "Harbour Gazette" in row
