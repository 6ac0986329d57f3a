"""Which IP addresses a URL fetch may connect to: host spellings read, addresses judged.

A news URL should point at the public internet. Loopback, private, link-local (including the cloud
metadata address 169.254.169.254), unspecified, multicast and reserved addresses are refused, in
every spelling a URL can give them (`127.1`, `2130706433`, `0x7f.1`, `[::ffff:127.0.0.1]`, `[::]`)
and also when an IPv6 address carries one inside it (IPv4-mapped, IPv4-compatible, NAT64, 6to4,
Teredo). The user may allow networks explicitly (`AddressPolicy.allowed`); `PRIVATE_NETWORKS` is
what `newsbot ingest --allow-private` allows: loopback and private ranges, never link-local.

`checked_addresses` resolves a host (numeric spellings without the resolver, names with it) and
refuses the host when any of its addresses is refused, so the caller connects only to an address
that was checked, which is what defeats DNS rebinding.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

Resolver = Callable[[str, int], Sequence[str]]
"""Resolves `(host, port)` to IP address strings; tests pass a stub, the default asks the system."""

PRIVATE_NETWORKS: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(net)
    for net in (
        "127.0.0.0/8",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "::1/128",
        "fc00::/7",
    )
)

ALLOW_HINT = (
    "newsbot fetches only public addresses unless you allow the network "
    "(NEWSBOT_FETCH_ALLOW_NETWORKS, or `newsbot ingest --allow-private` for a local feed)"
)

# Cloud metadata services (hand out credentials): AWS, GCP, Azure, OpenStack on 169.254.169.254,
# AWS over IPv6 (inside fc00::/7, so --allow-private must not open it), Alibaba Cloud.
_METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_COMPATIBLE = ipaddress.ip_network("::/96")
_NUMERIC = re.compile(r"[0-9a-fx.]+")


class AddressRefused(Exception):
    """A host that resolves to an address the policy refuses; `reason` is one line for a person."""

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(reason)
        self.host = host
        self.reason = reason


class ResolveError(Exception):
    """A host name that does not resolve; the message is one line for a person."""


def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses as the operating system resolves them (DNS, /etc/hosts)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ResolveError(f"cannot resolve the host {host!r} ({exc})") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """`127.1`, `2130706433`, `0x7f.0.0.1`, `0177.0.0.1`... as the address they mean, else None.

    These are the inet_aton forms (1 to 4 parts in decimal, 0x hex or 0 octal, the last filling
    the remaining bytes) that the system resolver and browsers accept, so a refusal cannot be
    dodged by respelling an address.
    """
    name = host.removesuffix(".")  # a trailing dot
    if not _NUMERIC.fullmatch(name):  # inet_aton stops at a space: nothing may follow
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(name))
    except OSError:
        return None


def ip_literal(host: str) -> IPAddress | None:
    """The address a URL host spells directly (IPv4 in any numeric form, IPv6 with or without
    brackets and zone), or None when the host is a name to resolve."""
    bare = host.strip().lower()
    if bare.startswith("[") and bare.endswith("]"):
        bare = bare[1:-1]
    if ":" in bare:
        try:
            return ipaddress.IPv6Address(bare.split("%", 1)[0])
        except ValueError:
            return None
    return _numeric_ipv4(bare)


def _kind(ip: IPAddress) -> str | None:
    """What kind of non-public address `ip` is, or None for a public one."""
    if ip.is_unspecified:
        return "an unspecified"
    if ip.is_loopback:
        return "a loopback"
    if ip in _METADATA:
        return "a link-local (cloud metadata)" if ip.is_link_local else "a cloud metadata"
    if ip.is_link_local:
        return "a link-local"
    if ip.is_multicast:
        return "a multicast"
    if ip.is_reserved:
        return "a reserved"
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return "a site-local"
    if ip.is_private:
        return "a private"
    if not ip.is_global:
        return "a non-public"
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (compatible, NAT64, 6to4, Teredo), if any."""
    if ip in _COMPATIBLE or any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


@dataclass(frozen=True)
class AddressPolicy:
    """The networks a fetch may reach besides the public internet (empty: public only)."""

    allowed: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_strings(cls, networks: Iterable[str], *, allow_private: bool = False) -> AddressPolicy:
        """A policy from CIDR strings (`10.0.0.0/8`, `::1`), plus `PRIVATE_NETWORKS` if asked.

        Raises:
            ValueError: a string is not an IP network.
        """
        parsed = tuple(ipaddress.ip_network(n.strip(), strict=False) for n in networks)
        return cls(parsed + (PRIVATE_NETWORKS if allow_private else ()))

    def _allows(self, ip: IPAddress) -> bool:
        if ip in _METADATA:  # only a network the user named, never --allow-private's ranges
            chosen = (net for net in self.allowed if net not in PRIVATE_NETWORKS)
            return any(ip.version == net.version and ip in net for net in chosen)
        return any(ip.version == net.version and ip in net for net in self.allowed)

    def refusal(self, ip: IPAddress) -> tuple[IPAddress, str] | None:
        """Why `ip` may not be fetched: the address judged and what it is ("a loopback address");
        None when it may be fetched."""
        # An IPv4-mapped address is the IPv4 address itself to a dual-stack socket.
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if self._allows(ip):
            return None
        kind = _kind(ip)
        if kind is not None:
            return ip, f"{kind} address"
        if isinstance(ip, ipaddress.IPv6Address):
            inner = _embedded_ipv4(ip)
            if inner is not None and not self._allows(inner):
                inner_kind = _kind(inner)
                if inner_kind is not None:
                    return ip, f"an address that carries {inner}, {inner_kind} address"
        return None


def checked_addresses(
    host: str, port: int, policy: AddressPolicy, resolver: Resolver
) -> list[IPAddress]:
    """The addresses to connect to for `host`, every one of them allowed by `policy`.

    A numeric host is read directly; a name goes to `resolver`. When any address of a name is
    refused the whole host is: a name that mixes public and private addresses is not trusted.

    Raises:
        AddressRefused: an address is refused (the reason names host, address and kind).
        ResolveError: the name does not resolve, or resolves to something that is not an address.
    """
    literal = ip_literal(host)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        addresses = []
        for text in resolver(host, port):
            try:
                addresses.append(ipaddress.ip_address(text.split("%", 1)[0]))
            except ValueError as exc:
                raise ResolveError(
                    f"the host {host!r} resolved to {text!r}, not an address"
                ) from exc
        if not addresses:
            raise ResolveError(f"the host {host!r} has no addresses")
    for address in addresses:
        refused = policy.refusal(address)
        if refused is not None:
            judged, what = refused
            if literal is not None:
                reason = f"{judged} is {what}"
            else:
                reason = f"{host} resolves to {judged}, {what}"
            raise AddressRefused(host, f"{reason}; {ALLOW_HINT}")
    return addresses
