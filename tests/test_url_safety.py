"""URL ingest cannot be turned against the machine or its network (SSRF), and stays within caps.

Everything real except name resolution: the allowed cases fetch from a real HTTP server on
127.0.0.1; names go through a stub resolver. Every test runs with `socket.create_connection`
wrapped so that a connection to anything but 127.0.0.1 fails the test instead of leaving the
machine: a refused address must be decided before any connection, and these tests prove it.
"""

from __future__ import annotations

import gzip
import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner

from ingest.article import Article, InputProblem
from ingest.loaders.addresses import PRIVATE_NETWORKS, AddressPolicy
from ingest.loaders.fetching import FetchPolicy
from ingest.sources import expand_sources, read_sources
from newsbot.cli import cli
from newsbot.errors import InputError
from newsbot.factories import build_store
from newsbot.library import StoreLibrary
from newsbot.settings import get_settings
from tests.conftest import EXAMPLES_DIR
from tests.loopback_http import serving

LOOPBACK_ONLY = AddressPolicy.from_strings(["127.0.0.1/32"])
FEED = (EXAMPLES_DIR / "sample-feed.xml").read_bytes()


# --- a real server on 127.0.0.1 that counts what reaches it ------------------------------------


class _Handler(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []
    port: ClassVar[int] = 0

    def do_GET(self) -> None:
        _Handler.hits.append(self.path)
        redirects = {
            "/to-metadata": "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
            "/to-private": "http://10.0.0.1/admin",
            "/to-ipv6-loopback": f"http://[::1]:{self.port}/feed.xml",
            "/to-other-loopback": f"http://127.0.0.2:{self.port}/feed.xml",
            "/to-decimal-loopback": f"http://2130706433:{self.port}/feed.xml",
            "/to-file": "file:///etc/passwd",
            "/to-credentials": f"http://editor:hunter2@127.0.0.1:{self.port}/feed.xml",
            "/to-feed": "/feed.xml",
            "/loop": "/loop",
        }
        if self.path in redirects:
            self.send_response(302)
            self.send_header("Location", redirects[self.path])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/feed.xml":
            self._send(FEED, "application/rss+xml")
        elif self.path == "/bomb":
            # 20 MB of spaces in about 20 KB: the cap must hold after decompression.
            body = gzip.compress(b" " * 20_000_000, compresslevel=9)
            self._send(body, "text/plain", {"Content-Encoding": "gzip"})
        elif self.path == "/drip":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            for _ in range(40):  # a byte every 0.1 s: every read is quick, the whole is not
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.1)
        else:
            self._send(b"not found", "text/plain", status=404)

    def _send(
        self, body: bytes, ctype: str, headers: dict[str, str] | None = None, status: int = 200
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gives up at a cap is expected


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    _Handler.port = httpd.server_address[1]
    with serving(httpd):
        yield _Handler.port


@pytest.fixture(autouse=True)
def connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every TCP connection made; one to anything but 127.0.0.1 fails the test before it is made."""
    made: list[tuple[str, int]] = []
    real = socket.create_connection

    def guarded(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        made.append((address[0], address[1]))
        if address[0] != "127.0.0.1":
            raise AssertionError(f"the code under test tried to connect to {address}")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)
    _Handler.hits.clear()
    return made


class StubResolver:
    """Names to addresses from a table (a list per name: one answer per call, the last repeats)."""

    def __init__(self, table: dict[str, list[list[str]]]) -> None:
        self.table = table
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        answers = self.table[host]
        return answers[min(self.calls.count(host), len(answers)) - 1]


def read(url: str, policy: FetchPolicy) -> tuple[list[Article], list[InputProblem]]:
    found: list[Article] = []
    problems: list[InputProblem] = []
    for item in read_sources(
        expand_sources([url])[0], max_bytes=10**7, http_timeout=5, fetch_policy=policy
    ):
        (found if isinstance(item, Article) else problems).append(item)  # type: ignore[arg-type]
    return found, problems


def refusal(url: str, policy: FetchPolicy) -> str:
    found, [problem] = read(url, policy)
    assert found == []
    assert problem.origin == url
    assert "\n" not in problem.reason
    return problem.reason


# --- refused before connecting -------------------------------------------------------------------


SPELLINGS = [
    ("http://127.0.0.1:{port}/feed.xml", "127.0.0.1 is a loopback address"),
    ("HTTP://127.0.0.1:{port}/feed.xml", "127.0.0.1 is a loopback address"),
    ("http://127.1:{port}/feed.xml", "127.0.0.1 is a loopback address"),
    ("http://2130706433:{port}/feed.xml", "127.0.0.1 is a loopback address"),
    ("http://0x7f.1:{port}/feed.xml", "127.0.0.1 is a loopback address"),
    ("http://0177.0.0.1:{port}/feed.xml", "not a valid URL (Invalid IPv4 address"),
    ("http://127.0.0.1.:{port}/feed.xml", "127.0.0.1 is a loopback address"),
    ("http://[::ffff:127.0.0.1]:{port}/feed.xml", "127.0.0.1 is a loopback address"),
    ("http://[::1]:{port}/feed.xml", "::1 is a loopback address"),
    ("http://0.0.0.0:{port}/feed.xml", "0.0.0.0 is an unspecified address"),
    ("http://0:{port}/feed.xml", "0.0.0.0 is an unspecified address"),
    ("http://[::]:{port}/feed.xml", ":: is an unspecified address"),
    ("http://localhost:{port}/feed.xml", "localhost resolves to 127.0.0.1, a loopback address"),
    ("http://169.254.169.254/latest/meta-data/", "a link-local (cloud metadata) address"),
    ("http://metadata.internal/computeMetadata/v1/", "resolves to 169.254.169.254"),
    ("http://0xA9FEA9FE/latest/", "169.254.169.254 is a link-local (cloud metadata) address"),
    ("http://2852039166/latest/", "169.254.169.254 is a link-local (cloud metadata) address"),
    ("http://[::ffff:a9fe:a9fe]/latest/", "169.254.169.254 is a link-local (cloud metadata)"),
    ("https://169.254.169.254./latest/", "169.254.169.254 is a link-local (cloud metadata)"),
    ("http://10.0.0.1/", "10.0.0.1 is a private address"),
    ("http://172.16.5.4/", "172.16.5.4 is a private address"),
    ("http://192.168.1.1/", "192.168.1.1 is a private address"),
    ("http://100.64.0.1/", "100.64.0.1 is a non-public address"),
    ("http://[fe80::1%25eth0]/", "fe80::1 is a link-local address"),
    ("http://[fd00::1]/", "fd00::1 is a private address"),
    ("http://224.0.0.1/", "224.0.0.1 is a multicast address"),
    ("http://[2002:7f00:1::]/", "carries 127.0.0.1, a loopback address"),
    ("http://mixed.example/", "mixed.example resolves to 10.0.0.5, a private address"),
]


@pytest.mark.parametrize(("template", "reason"), SPELLINGS, ids=[s[0] for s in SPELLINGS])
def test_non_public_addresses_are_refused_in_every_spelling(
    server: int, connections: list[tuple[str, int]], template: str, reason: str
) -> None:
    resolver = StubResolver(
        {
            "localhost": [["127.0.0.1", "::1"]],
            "metadata.internal": [["169.254.169.254"]],
            # A name with one public and one private address is not trusted with either.
            "mixed.example": [["93.184.216.34", "10.0.0.5"]],
        }
    )
    url = template.format(port=server)
    message = refusal(url, FetchPolicy(resolver=resolver))
    assert message.startswith("refused: ")
    assert reason in message
    if "not a valid URL" not in reason:
        assert "NEWSBOT_FETCH_ALLOW_NETWORKS" in message  # says how to allow it on purpose
    assert connections == []
    assert _Handler.hits == []
    if resolver.calls:  # only names are resolved; numeric spellings are read directly
        assert resolver.calls == [url.split("//")[1].split(":")[0].split("/")[0]]


def test_only_http_and_https_are_fetched(tmp_path: Path) -> None:
    # Other schemes are not URLs to ingest: they are looked up as (missing) paths, nothing fetched.
    with pytest.raises(InputError, match="no such file or folder"):
        expand_sources(["file:///etc/passwd"])


def test_the_allow_list_lets_one_network_through(server: int) -> None:
    found, problems = read(
        f"http://127.0.0.1:{server}/feed.xml", FetchPolicy(addresses=LOOPBACK_ONLY)
    )
    assert problems == []
    assert [a.article_id for a in found] == ["sample-wire-0001", "sample-wire-0002"]
    # --allow-private's networks are loopback and private ones, never link-local (metadata).
    allow_private = AddressPolicy.from_strings([], allow_private=True)
    assert allow_private.allowed == PRIVATE_NETWORKS
    assert "cloud metadata" in refusal(
        "http://169.254.169.254/latest/meta-data/", FetchPolicy(addresses=allow_private)
    )


def test_an_ipv4_mapped_spelling_is_judged_and_connected_as_its_ipv4_address(
    server: int, connections: list[tuple[str, int]]
) -> None:
    policy = FetchPolicy(addresses=LOOPBACK_ONLY)
    found, problems = read(f"http://[::ffff:127.0.0.1]:{server}/feed.xml", policy)
    assert problems == []
    assert len(found) == 2
    assert connections == [("127.0.0.1", server)]


# --- redirects: every hop is checked -------------------------------------------------------------

# Allowing a network allows every port on it: the allow list is about where a request may go,
# not which service answers. So the allowed server here is 127.0.0.1/32 alone, and the refused
# redirects go outside it: other loopback addresses, IPv6 loopback, private and metadata ranges.
REDIRECTS = [
    ("/to-metadata", "169.254.169.254 is a link-local (cloud metadata) address"),
    ("/to-private", "10.0.0.1 is a private address"),
    ("/to-ipv6-loopback", "::1 is a loopback address"),
    ("/to-other-loopback", "127.0.0.2 is a loopback address"),
    ("/to-file", "which is not an http(s) URL"),
    ("/to-credentials", "editor:***@127.0.0.1"),
    ("/loop", "more than 5 redirects"),
]


@pytest.mark.parametrize(("path", "reason"), REDIRECTS, ids=[r[0] for r in REDIRECTS])
def test_a_redirect_from_an_allowed_server_is_checked_again(
    server: int, connections: list[tuple[str, int]], path: str, reason: str
) -> None:
    url = f"http://127.0.0.1:{server}{path}"
    message = refusal(url, FetchPolicy(addresses=LOOPBACK_ONLY))
    assert reason in message
    if path != "/loop":
        assert message.startswith("redirected to ")
        assert _Handler.hits == [path]  # the first hop only: the refused one never connected
    assert all(host == "127.0.0.1" for host, _ in connections)


def test_a_url_with_a_password_is_refused_and_the_password_never_shown(
    server: int, connections: list[tuple[str, int]]
) -> None:
    """Found by a review: the user name and password of a URL were never sent, and were kept
    in the stored article's link, which every citation of it shows."""
    found, [problem] = read(
        f"http://editor:hunter2@127.0.0.1:{server}/feed.xml", FetchPolicy(addresses=LOOPBACK_ONLY)
    )
    assert found == []
    assert problem.origin == f"http://editor:***@127.0.0.1:{server}/feed.xml"
    assert problem.reason == "the URL carries a user name or password, which newsbot does not send"
    assert connections == []
    message = refusal(
        f"http://127.0.0.1:{server}/to-credentials", FetchPolicy(addresses=LOOPBACK_ONLY)
    )
    assert "hunter2" not in message


def test_a_redirect_within_the_allowed_network_is_followed(server: int) -> None:
    found, problems = read(
        f"http://127.0.0.1:{server}/to-feed", FetchPolicy(addresses=LOOPBACK_ONLY)
    )
    assert problems == []
    assert len(found) == 2
    assert _Handler.hits == ["/to-feed", "/feed.xml"]


def test_metadata_stays_refused_with_allow_private(server: int) -> None:
    policy = FetchPolicy(addresses=AddressPolicy.from_strings([], allow_private=True))
    message = refusal(f"http://127.0.0.1:{server}/to-metadata", policy)
    assert "169.254.169.254 is a link-local (cloud metadata) address" in message
    # AWS's IPv6 metadata address lies in fc00::/7, one of --allow-private's ranges.
    message = refusal("http://[fd00:ec2::254]/latest/meta-data/", policy)
    assert "fd00:ec2::254 is a cloud metadata address" in message
    # Only a network the user names lets a metadata address through.
    named = FetchPolicy(addresses=AddressPolicy.from_strings(["fd00:ec2::/32"]))
    assert named.addresses.refusal(ipaddress.ip_address("fd00:ec2::254")) is None


# --- DNS rebinding: the address checked is the address connected to ----------------------------


def test_the_connection_goes_to_the_checked_address_not_the_name(
    server: int, connections: list[tuple[str, int]]
) -> None:
    # A rebinding name answers an allowed address first, then the metadata address. The fetch
    # resolves once per connection and connects to that very address, so the second answer
    # cannot slip in between a check and a connect.
    resolver = StubResolver({"rebind.test": [["127.0.0.1"], ["169.254.169.254"]]})
    policy = FetchPolicy(addresses=LOOPBACK_ONLY, resolver=resolver)
    found, problems = read(f"http://rebind.test:{server}/feed.xml", policy)
    assert problems == []
    assert len(found) == 2
    assert connections == [("127.0.0.1", server)]  # an address, never the name
    assert resolver.calls == ["rebind.test"]
    message = refusal(f"http://rebind.test:{server}/feed.xml", policy)
    assert "rebind.test resolves to 169.254.169.254, a link-local (cloud metadata)" in message
    assert connections == [("127.0.0.1", server)]  # nothing new


# --- caps on size and time -----------------------------------------------------------------------


def test_a_compressed_body_is_capped_after_decompression(server: int) -> None:
    policy = FetchPolicy(addresses=LOOPBACK_ONLY, max_bytes=100_000)
    message = refusal(f"http://127.0.0.1:{server}/bomb", policy)
    assert "larger than the 100000-byte cap (raise NEWSBOT_FETCH_MAX_BYTES" in message


def test_a_slow_drip_is_cut_at_the_total_time_cap(server: int) -> None:
    policy = FetchPolicy(addresses=LOOPBACK_ONLY, timeout=2, max_seconds=1)
    started = time.monotonic()
    message = refusal(f"http://127.0.0.1:{server}/drip", policy)
    assert time.monotonic() - started < 2.5  # the body alone would take 4 s
    assert "took longer than the 1 s allowed" in message
    assert "NEWSBOT_FETCH_MAX_SECONDS" in message


def test_a_name_that_never_resolves_is_cut_at_the_total_time_cap() -> None:
    release = threading.Event()

    def hanging(host: str, port: int) -> list[str]:
        release.wait(10)  # a DNS server that does not answer
        return ["127.0.0.1"]

    started = time.monotonic()
    try:
        message = refusal("http://slow-dns.test/", FetchPolicy(resolver=hanging, max_seconds=0.5))
    finally:
        release.set()
    assert time.monotonic() - started < 2
    assert "took longer than the 0.5 s allowed" in message


# --- the entry points: CLI (with and without --allow-private) and the web Library ---------------


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_cli_refuses_a_local_feed_unless_allowed(server: int) -> None:
    url = f"http://127.0.0.1:{server}/feed.xml"
    refused = invoke("ingest", url)
    assert refused.exit_code == 2
    [line] = [ln for ln in refused.stderr.splitlines() if ln.startswith("failed")]
    assert line.startswith(f"failed {url}: refused: 127.0.0.1 is a loopback address")
    assert "Traceback" not in refused.stderr
    assert _Handler.hits == []

    allowed = invoke("ingest", "--allow-private", url)
    assert allowed.exit_code == 0, allowed.stderr
    assert "2 new" in allowed.stderr
    listed = invoke("list")
    assert "Riverside United win cup final" in listed.stdout


def test_web_library_url_ingest_uses_the_same_checks(
    server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"http://127.0.0.1:{server}/to-metadata"
    monkeypatch.setenv("NEWSBOT_FETCH_ALLOW_NETWORKS", '["127.0.0.1/32"]')
    settings = get_settings()
    library = StoreLibrary(settings, build_store(settings))
    with pytest.raises(InputError) as refused:
        library.ingest([url])
    assert f"{url}: redirected to http://169.254.169.254/" in str(refused.value)
    assert "cloud metadata" in str(refused.value)
    # The settings' network is allowed for the Library too.
    summary = library.ingest([f"http://127.0.0.1:{server}/feed.xml"])
    assert summary.startswith("2 new")


def test_settings_refuse_a_malformed_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_FETCH_ALLOW_NETWORKS", '["10.0.0.0/8", "intranet"]')
    result = invoke("ingest", "http://example.invalid/")
    assert result.exit_code == 1
    assert "NEWSBOT_FETCH_ALLOW_NETWORKS" in result.stderr
    assert "'intranet' is not an IP network" in result.stderr
