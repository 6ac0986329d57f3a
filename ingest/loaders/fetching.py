"""Fetching one http(s) URL for ingest, safely: checked addresses, redirects by hand, hard caps.

Every TCP connection is opened by `GuardedBackend`, an httpcore network backend that resolves the
host itself, checks every address against the `AddressPolicy` (`checked_addresses`) and connects
to a checked address, never to the name again: a DNS answer that changes between the check and
the connect (rebinding) has no second lookup to slip into. Every wait of a connection ends by the
fetch's `Deadline`, so a server that drips a byte at a time cannot hold a fetch past its time cap;
name resolution (`getaddrinfo` has no timeout) runs in a helper thread the fetch stops waiting
for. Redirects are followed here, not by the HTTP library: each hop's URL is checked (http or
https only) and connects through the same backend. The body is capped in bytes after
decompression (a gzip bomb stops at the cap). Proxy settings from the environment are not used:
a proxy would connect on our behalf, out of reach of the address check.
"""

from __future__ import annotations

import email.message
import ssl
import threading
import time
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import httpcore
import httpx

from ingest.article import ArticleInputError
from ingest.cleaning import printable
from ingest.loaders.addresses import (
    AddressPolicy,
    AddressRefused,
    ResolveError,
    Resolver,
    checked_addresses,
    system_resolver,
)
from ingest.loaders.reading import too_large

USER_AGENT = "newsbot/0.1 (news question answering; +https://github.com/)"
_REDIRECTS = {301, 302, 303, 307, 308}
_ACCEPT = "text/html, application/xhtml+xml, application/rss+xml, application/atom+xml, */*;q=0.5"
MAX_REASON_CHARS = 80
"""Most characters of a server's reason phrase ("Not Found") kept in a failure's message."""


class HTTPStatusError(ArticleInputError):
    """The server answered with an HTTP error (`status` 4xx or 5xx, or a redirect without a
    `Location`); the reason quotes the status line."""

    def __init__(self, origin: str, reason: str, status: int) -> None:
        super().__init__(origin, reason)
        self.status = status


class FetchTimeout(ArticleInputError):
    """A fetch the server did not answer in time (a connect or read timeout, or the whole
    download's `max_seconds`)."""


class OutOfTime(Exception):
    """The whole fetch took longer than `FetchPolicy.max_seconds`."""


class Deadline:
    """The moment a fetch must be over by."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    @property
    def passed(self) -> bool:
        return time.monotonic() >= self.end

    def clamp(self, timeout: float | None) -> float:
        """`timeout` shortened to the time left; raises `OutOfTime` when none is left."""
        left = self.end - time.monotonic()
        if left <= 0:
            raise OutOfTime
        return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A connection whose every wait ends by the fetch's deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            return self._inner.read(max_bytes, self._deadline.clamp(timeout))
        except httpcore.ReadTimeout:
            if self._deadline.passed:
                raise OutOfTime from None
            raise

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        try:
            self._inner.write(buffer, self._deadline.clamp(timeout))
        except httpcore.WriteTimeout:
            if self._deadline.passed:
                raise OutOfTime from None
            raise

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        tls = self._inner.start_tls(ssl_context, server_hostname, self._deadline.clamp(timeout))
        return DeadlineStream(tls, self._deadline)

    def get_extra_info(self, info: str) -> object:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Opens TCP connections only to addresses the policy allows, checked at connect time."""

    def __init__(self, policy: AddressPolicy, resolver: Resolver, deadline: Deadline) -> None:
        self._policy = policy
        self._resolver = resolver
        self._deadline = deadline
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        failure: Exception | None = None
        for address in checked_addresses(host, port, self._policy, self._resolve_in_time):
            # An IPv4-mapped address was checked as its IPv4 address: connect to exactly that.
            mapped = getattr(address, "ipv4_mapped", None)
            target = str(mapped or address)
            try:
                stream = self._inner.connect_tcp(
                    target, port, self._deadline.clamp(timeout), local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                if self._deadline.passed:
                    raise OutOfTime from exc
                failure = exc  # try the host's next (also checked) address
                continue
            return DeadlineStream(stream, self._deadline)
        assert failure is not None  # checked_addresses never returns an empty list
        raise failure

    def _resolve_in_time(self, host: str, port: int) -> Sequence[str]:
        """The resolver's answer, or `OutOfTime` when it is not back by the deadline."""
        answer: list[Sequence[str]] = []
        failure: list[BaseException] = []

        def resolve() -> None:
            try:
                answer.append(self._resolver(host, port))
            except BaseException as exc:  # handed to the waiting thread, which raises it
                failure.append(exc)

        # A daemon thread: a lookup that never returns must not keep the process alive.
        worker = threading.Thread(target=resolve, name=f"resolve {host}", daemon=True)
        worker.start()
        worker.join(self._deadline.clamp(None))
        if failure:
            raise failure[0]
        if not answer:
            raise OutOfTime
        return answer[0]


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
    """A fetched body, with the final URL (after redirects) and what the server said it is.

    `status` is 304 (and `body` empty) when a conditional fetch found the resource unchanged;
    `etag` and `last_modified` are the validators to send next time (`fetch`'s `validators`).
    """

    url: str
    content_type: str
    charset: str | None
    body: bytes
    status: int = 200
    etag: str | None = None
    last_modified: str | None = None


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


def without_password(url: httpx.URL) -> str:
    """`url` with its password (if any) shown as ***, for a message."""
    return str(url.copy_with(username=url.username, password="***")) if url.password else str(url)


def _parse(text: str, origin: str, hop: bool) -> httpx.URL:
    try:
        url = httpx.URL(text)
        host = url.host  # an invalid international name ("xn--.com") fails only here
    except (httpx.InvalidURL, ValueError) as exc:
        where = f"the redirect to {text!r} is" if hop else "refused:"
        raise ArticleInputError(origin, f"{where} not a valid URL ({exc})") from exc
    what = f"redirected to {text}, which" if hop else "the URL"
    if url.scheme not in ("http", "https"):
        raise ArticleInputError(origin, f"{what} is not an http(s) URL; only those are fetched")
    if not host:
        raise ArticleInputError(origin, f"{what} names no host")
    if url.userinfo:  # never sent, and a password must not end up in a stored article's link
        hidden = (
            str(url.copy_with(username=url.username, password="***")) if url.password else str(url)
        )
        where = f"redirected to {hidden}, which" if hop else "the URL"
        raise ArticleInputError(
            origin if hop else hidden,
            f"{where} carries a user name or password, which newsbot does not send",
        )
    return url


def _request(
    url: httpx.URL, conditions: Sequence[tuple[bytes, bytes]] = ()
) -> tuple[httpcore.URL, list[tuple[bytes, bytes]]]:
    core = httpcore.URL(
        scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
    )
    headers = [
        (b"Host", url.netloc),  # with brackets for IPv6, which httpcore's default leaves out
        (b"User-Agent", USER_AGENT.encode()),
        (b"Accept", _ACCEPT.encode()),
        (b"Accept-Encoding", b"gzip, deflate"),
        *conditions,
    ]
    return core, headers


def _conditions(etag: str | None, last_modified: str | None) -> list[tuple[bytes, bytes]]:
    """The If-None-Match / If-Modified-Since headers of a conditional GET (latin-1, as HTTP)."""
    pairs = [(b"If-None-Match", etag), (b"If-Modified-Since", last_modified)]
    return [(name, value.encode("latin-1", "replace")) for name, value in pairs if value]


def _headers(response: httpcore.Response) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in response.headers}


def _read(
    origin: str,
    url: httpx.URL,
    response: httpcore.Response,
    max_bytes: int,
    conditional: bool = False,
) -> Fetched:
    headers = _headers(response)
    etag, last_modified = headers.get("etag"), headers.get("last-modified")
    if response.status == 304 and conditional:
        return Fetched(str(url), "", None, b"", 304, etag, last_modified)
    if response.status >= 300:
        # The server's own words: shown as text, printable and short (it is the server's to
        # choose; a page shows it escaped, `bot.web.render.markdown_text`).
        phrase = response.extensions.get("reason_phrase", b"").decode("latin-1", "replace")
        phrase = printable(phrase)[:MAX_REASON_CHARS]
        raise HTTPStatusError(
            origin, f"the server answered HTTP {response.status} {phrase}", response.status
        )
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
    charset = message.get_content_charset()
    return Fetched(
        str(url), content_type, charset, bytes(body.data), response.status, etag, last_modified
    )


def fetch(
    url: str,
    policy: FetchPolicy,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Fetched:
    """The body at `url`, fetched under `policy` (addresses, redirects, size and time).

    With `etag` or `last_modified` (the validators of an earlier `Fetched`) the GET is
    conditional: an unchanged resource comes back as status 304 with an empty body.

    Raises:
        ArticleInputError: the URL or a redirect is refused, unreachable, too slow
            (`FetchTimeout`), too large, or answered with an error; the reason is one line
            naming the hop and why.
    """
    current = _parse(url, url, hop=False)
    deadline = Deadline(policy.max_seconds)
    backend = GuardedBackend(policy.addresses, policy.resolver, deadline)
    timeouts = {k: policy.timeout for k in ("connect", "read", "write", "pool")}
    hop = ""  # names the redirect being followed, for messages; "" for the URL itself
    conditions = _conditions(etag, last_modified)

    try:
        with httpcore.ConnectionPool(network_backend=backend, retries=0) as pool:
            for _ in range(policy.max_redirects + 1):
                target, headers = _request(current, conditions)
                with pool.stream(
                    "GET", target, headers=headers, extensions={"timeout": timeouts}
                ) as response:
                    location = _headers(response).get("location")
                    if response.status not in _REDIRECTS or not location:
                        return _read(url, current, response, policy.max_bytes, bool(conditions))
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
        raise FetchTimeout(
            url,
            f"took longer than the {policy.max_seconds:g} s allowed for one download "
            "(raise NEWSBOT_FETCH_MAX_SECONDS to wait longer)",
        ) from exc
    except httpcore.TimeoutException as exc:
        raise FetchTimeout(
            url,
            f"no answer within {policy.timeout:g} s (raise NEWSBOT_HTTP_TIMEOUT to wait longer)",
        ) from exc
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as exc:
        raise ArticleInputError(url, f"cannot fetch the URL ({exc or type(exc).__name__})") from exc
