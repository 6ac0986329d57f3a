"""The connections a URL fetch makes: only to checked addresses, and all within one deadline.

`GuardedBackend` is an httpcore network backend. Asked to connect to a host, it resolves the host
itself, checks every address against the `AddressPolicy` (`checked_addresses`) and connects to a
checked address, never to the name again: a DNS answer that changes between a check and a connect
(rebinding) has no second lookup to slip into. Every connection it returns shortens each wait to
the time left on the fetch's `Deadline`, so a server that drips a byte at a time cannot hold a
fetch past its total time cap. Name resolution has no timeout of its own (`getaddrinfo` blocks),
so it runs in a helper thread that the fetch stops waiting for when the deadline passes.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterable, Sequence

import httpcore

from ingest.loaders.addresses import AddressPolicy, Resolver, checked_addresses


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
