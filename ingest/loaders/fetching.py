"""Fetching one http(s) URL for ingest, safely: checked addresses, redirects by hand, hard caps.

Every TCP connection is opened by `connections.GuardedBackend`, which connects only to addresses
the `AddressPolicy` allows, checked at connect time (so DNS rebinding cannot reach a refused
address), and within the fetch's deadline. Redirects are followed here, not by the HTTP library:
each hop's URL is checked (http or https only) and its connection goes through the same backend;
at most `max_redirects` of them. The body is capped in bytes after decompression (a gzip bomb
stops at the cap) and the whole fetch, redirects included, in seconds. Proxy settings from the
environment are not used: a proxy would connect on our behalf, out of reach of the address check.
"""

from __future__ import annotations

import email.message
import zlib
from dataclasses import dataclass, field

import httpcore
import httpx

from ingest.article import ArticleInputError
from ingest.loaders.addresses import (
    AddressPolicy,
    AddressRefused,
    ResolveError,
    Resolver,
    system_resolver,
)
from ingest.loaders.connections import Deadline, GuardedBackend, OutOfTime
from ingest.loaders.reading import too_large

USER_AGENT = "newsbot/0.1 (news question answering; +https://github.com/)"
_REDIRECTS = {301, 302, 303, 307, 308}
_ACCEPT = "text/html, application/xhtml+xml, application/rss+xml, application/atom+xml, */*;q=0.5"


@dataclass(frozen=True)
class FetchPolicy:
    """What one URL fetch may reach and spend.

    Attributes:
        addresses: the networks allowed besides the public internet.
        max_bytes: largest body accepted, after decompression.
        timeout: seconds for each connect, read or write.
        max_seconds: seconds for the whole fetch, redirects included.
        max_redirects: most redirects followed.
        resolver: turns a host name into addresses (a stub in tests).
    """

    addresses: AddressPolicy = field(default_factory=AddressPolicy)
    max_bytes: int = 20_000_000
    timeout: float = 20.0
    max_seconds: float = 60.0
    max_redirects: int = 5
    resolver: Resolver = system_resolver


@dataclass(frozen=True)
class Fetched:
    """A fetched body, with the final URL (after redirects) and what the server said it is."""

    url: str
    content_type: str
    charset: str | None
    body: bytes


class _Body:
    """The response body, decompressed (gzip, deflate) into at most `max_bytes` bytes."""

    def __init__(self, encoding: str, origin: str, max_bytes: int) -> None:
        self.origin = origin
        self.max_bytes = max_bytes
        self.data = bytearray()
        self._deflate = False
        name = encoding.strip().lower()
        if name in ("", "identity"):
            self._inflater: zlib._Decompress | None = None
        elif name in ("gzip", "x-gzip"):
            self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif name == "deflate":
            self._inflater, self._deflate = zlib.decompressobj(), True
        else:
            raise ArticleInputError(origin, f"the server used an unsupported encoding {encoding!r}")

    def _append(self, piece: bytes) -> None:
        self.data.extend(piece)
        if len(self.data) > self.max_bytes:
            raise too_large(
                self.origin,
                f"more than {self.max_bytes}",
                self.max_bytes,
                "NEWSBOT_FETCH_MAX_BYTES",
            )

    def feed(self, chunk: bytes) -> None:
        if self._inflater is None:
            self._append(chunk)
            return
        pending = chunk
        while pending:
            room = self.max_bytes + 1 - len(self.data)  # never inflate more than the cap allows
            try:
                piece = self._inflater.decompress(pending, room)
            except zlib.error as exc:
                if self._deflate and not self.data:  # some servers send raw deflate
                    self._inflater, self._deflate = zlib.decompressobj(-zlib.MAX_WBITS), False
                    continue
                raise ArticleInputError(
                    self.origin, f"the compressed body is corrupt ({exc})"
                ) from exc
            self._append(piece)
            pending = self._inflater.unconsumed_tail


def _parse(text: str, origin: str, hop: bool) -> httpx.URL:
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as exc:
        where = f"the redirect to {text!r} is" if hop else "refused:"
        raise ArticleInputError(origin, f"{where} not a valid URL ({exc})") from exc
    what = f"redirected to {text}, which" if hop else "the URL"
    if url.scheme not in ("http", "https"):
        raise ArticleInputError(origin, f"{what} is not an http(s) URL; only those are fetched")
    if not url.host:
        raise ArticleInputError(origin, f"{what} names no host")
    return url


def _request(url: httpx.URL) -> tuple[httpcore.URL, list[tuple[bytes, bytes]]]:
    core = httpcore.URL(
        scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
    )
    headers = [
        (b"Host", url.netloc),  # with brackets for IPv6, which httpcore's default leaves out
        (b"User-Agent", USER_AGENT.encode()),
        (b"Accept", _ACCEPT.encode()),
        (b"Accept-Encoding", b"gzip, deflate"),
    ]
    return core, headers


def _headers(response: httpcore.Response) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in response.headers}


def _read(origin: str, url: httpx.URL, response: httpcore.Response, max_bytes: int) -> Fetched:
    headers = _headers(response)
    if response.status >= 300:
        phrase = response.extensions.get("reason_phrase", b"").decode("latin-1", "replace")
        raise ArticleInputError(origin, f"the server answered HTTP {response.status} {phrase}")
    declared = headers.get("content-length", "")
    encoding = headers.get("content-encoding", "")
    if not encoding and declared.isdigit() and int(declared) > max_bytes:
        raise too_large(origin, int(declared), max_bytes, "NEWSBOT_FETCH_MAX_BYTES")
    body = _Body(encoding, origin, max_bytes)
    for chunk in response.iter_stream():
        body.feed(chunk)
    message = email.message.Message()
    message["content-type"] = headers.get("content-type", "")
    content_type = message.get_content_type() if headers.get("content-type") else ""
    return Fetched(str(url), content_type, message.get_content_charset(), bytes(body.data))


def fetch(url: str, policy: FetchPolicy) -> Fetched:
    """The body at `url`, fetched under `policy` (addresses, redirects, size and time).

    Raises:
        ArticleInputError: the URL or a redirect is refused, unreachable, too slow, too large, or
            answered with an error; the reason is one line naming the hop and why.
    """
    current = _parse(url, url, hop=False)
    deadline = Deadline(policy.max_seconds)
    backend = GuardedBackend(policy.addresses, policy.resolver, deadline)
    timeouts = {k: policy.timeout for k in ("connect", "read", "write", "pool")}
    hop = ""  # names the redirect being followed, for messages; "" for the URL itself

    try:
        with httpcore.ConnectionPool(network_backend=backend, retries=0) as pool:
            for _ in range(policy.max_redirects + 1):
                target, headers = _request(current)
                with pool.stream(
                    "GET", target, headers=headers, extensions={"timeout": timeouts}
                ) as response:
                    location = _headers(response).get("location")
                    if response.status not in _REDIRECTS or not location:
                        return _read(url, current, response, policy.max_bytes)
                try:
                    joined = str(current.join(location))
                except httpx.InvalidURL as exc:
                    raise ArticleInputError(
                        url, f"the redirect to {location!r} is not valid ({exc})"
                    ) from exc
                current = _parse(joined, url, hop=True)
                hop = f"redirected to {current}; "
            raise ArticleInputError(url, f"more than {policy.max_redirects} redirects; gave up")
    except AddressRefused as exc:
        raise ArticleInputError(url, f"{hop}refused: {exc.reason}") from exc
    except ResolveError as exc:
        raise ArticleInputError(url, f"{hop}{exc}") from exc
    except OutOfTime as exc:
        raise ArticleInputError(
            url,
            f"took longer than the {policy.max_seconds:g} s allowed for one download "
            "(raise NEWSBOT_FETCH_MAX_SECONDS to wait longer)",
        ) from exc
    except httpcore.TimeoutException as exc:
        raise ArticleInputError(
            url,
            f"no answer within {policy.timeout:g} s (raise NEWSBOT_HTTP_TIMEOUT to wait longer)",
        ) from exc
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as exc:
        raise ArticleInputError(url, f"cannot fetch the URL ({exc or type(exc).__name__})") from exc
