"""Which IP addresses the verifier may connect to: the one list of refused ranges.

A credential names the URLs the verifier fetches (did:web documents, JWKS, status lists, DID
Configurations), so a hostile credential could point them at the verifier's own network: the
cloud metadata service at 169.254.169.254, a database on 10.x, an admin page on 127.0.0.1. Every
address a host name resolves to is therefore checked here before a connection is opened
(``verifier.transport``), and the connection goes to that checked address.

``BLOCKS`` holds every entry of the IANA IPv4 and IPv6 Special-Purpose Address Registries
(https://www.iana.org/assignments/iana-ipv4-special-registry/,
https://www.iana.org/assignments/iana-ipv6-special-registry/), plus IPv4 multicast and the
reserved 240.0.0.0/4. All are refused, whatever the registry's "globally reachable" column says:
no issuer publishes its documents from an anycast relay, a NAT64 prefix or a documentation range,
and several of them (6to4, Teredo, NAT64) are ways to spell an IPv4 address inside an IPv6 one.
IPv6 outside ``2000::/3``, the only range allocated for global unicast (RFC 4291 §2.4, IANA IPv6
Address Space), is refused as well. An IPv4-mapped IPv6 address (``::ffff:a.b.c.d``) is judged
by the IPv4 address inside it.

Host spellings need no rules of their own: a host is judged by the addresses the system resolver
gives for it, and ``2130706433``, ``0x7f.1`` and ``127.1`` all resolve to 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_network

IPAddress = IPv4Address | IPv6Address


@dataclass(frozen=True)
class Block:
    """A refused range, with what it is for and where it is defined."""

    network: IPv4Network | IPv6Network
    purpose: str
    reference: str

    @property
    def loopback(self) -> bool:
        return self.network in LOOPBACK

    def __str__(self) -> str:
        return f"{self.network} {self.purpose}, {self.reference}"


def _block(network: str, purpose: str, reference: str) -> Block:
    return Block(ip_network(network), purpose, reference)


IPV4_BLOCKS: tuple[Block, ...] = (
    _block("0.0.0.0/8", '"this network"', "RFC 791"),
    _block("10.0.0.0/8", "private use", "RFC 1918"),
    _block("100.64.0.0/10", "shared address space (carrier-grade NAT)", "RFC 6598"),
    _block("127.0.0.0/8", "loopback", "RFC 1122"),
    _block("169.254.0.0/16", "link-local (cloud metadata services)", "RFC 3927"),
    _block("172.16.0.0/12", "private use", "RFC 1918"),
    _block("192.0.0.0/24", "IETF protocol assignments (DS-Lite, NAT64 discovery)", "RFC 6890"),
    _block("192.0.2.0/24", "documentation (TEST-NET-1)", "RFC 5737"),
    _block("192.31.196.0/24", "AS112-v4", "RFC 7535"),
    _block("192.52.193.0/24", "AMT", "RFC 7450"),
    _block("192.88.99.0/24", "6to4 relay anycast", "RFC 7526"),
    _block("192.168.0.0/16", "private use", "RFC 1918"),
    _block("192.175.48.0/24", "direct delegation AS112 service", "RFC 7534"),
    _block("198.18.0.0/15", "benchmarking", "RFC 2544"),
    _block("198.51.100.0/24", "documentation (TEST-NET-2)", "RFC 5737"),
    _block("203.0.113.0/24", "documentation (TEST-NET-3)", "RFC 5737"),
    _block("224.0.0.0/4", "multicast", "RFC 5771"),
    _block("240.0.0.0/4", "reserved, and 255.255.255.255 limited broadcast", "RFC 1112, RFC 919"),
)

IPV6_BLOCKS: tuple[Block, ...] = (
    _block("::/128", "unspecified address", "RFC 4291"),
    _block("::1/128", "loopback", "RFC 4291"),
    _block("::/96", "IPv4-compatible (deprecated)", "RFC 4291"),
    _block("::ffff:0:0:0/96", "IPv4-translated", "RFC 2765"),
    _block("64:ff9b::/96", "IPv4/IPv6 translation (NAT64)", "RFC 6052"),
    _block("64:ff9b:1::/48", "local-use IPv4/IPv6 translation", "RFC 8215"),
    _block("100::/64", "discard-only", "RFC 6666"),
    _block("2001::/32", "Teredo", "RFC 4380"),
    _block("2001::/23", "IETF protocol assignments", "RFC 2928"),
    _block("2001:db8::/32", "documentation", "RFC 3849"),
    _block("2002::/16", "6to4", "RFC 3056"),
    _block("2620:4f:8000::/48", "direct delegation AS112 service", "RFC 7534"),
    _block("3fff::/20", "documentation", "RFC 9637"),
    _block("5f00::/16", "segment routing (SRv6) SIDs", "RFC 9602"),
    _block("fc00::/7", "unique local", "RFC 4193"),
    _block("fe80::/10", "link-local", "RFC 4291"),
    _block("fec0::/10", "site-local (deprecated)", "RFC 3879"),
    _block("ff00::/8", "multicast", "RFC 4291"),
)

GLOBAL_UNICAST = ip_network("2000::/3")
_OUTSIDE_GLOBAL_UNICAST = Block(
    ip_network("::/0"), "not in 2000::/3, the IPv6 global unicast range", "RFC 4291"
)
LOOPBACK = (ip_network("127.0.0.0/8"), ip_network("::1/128"))

BLOCKS: tuple[Block, ...] = IPV4_BLOCKS + IPV6_BLOCKS
"""Every refused range (IPv6 outside 2000::/3 is refused too; see the module docstring)."""


def special_block(address: IPAddress) -> Block | None:
    """The special-purpose range ``address`` falls in, or ``None`` for a public address."""
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return special_block(address.ipv4_mapped)
        for block in IPV6_BLOCKS:
            if address in block.network:
                return block
        return None if address in GLOBAL_UNICAST else _OUTSIDE_GLOBAL_UNICAST
    for block in IPV4_BLOCKS:
        if address in block.network:
            return block
    return None


AddressPolicy = Callable[[IPAddress], Block | None]
"""Says which range refuses an address (``None``: the address may be connected to)."""


def public_only(address: IPAddress) -> Block | None:
    """The default: every special-purpose range is refused."""
    return special_block(address)


def public_or_loopback(address: IPAddress) -> Block | None:
    """Also this machine (127.0.0.0/8, ::1): for a Laurel checked from the machine it runs on."""
    block = special_block(address)
    return None if block is not None and block.loopback else block


def any_address(address: IPAddress) -> Block | None:
    """Nothing is refused (development, and trust lists an operator keeps on a private network)."""
    return None
