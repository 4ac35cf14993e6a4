"""The refused ranges (``verifier.addresses``), checked against our own reading of the IANA IPv4
and IPv6 Special-Purpose Address Registries: for each range its first, last and some inner
addresses; public addresses on either side of each range are allowed. The samples are written
out here, not derived from the module's table, so a range missing from the table fails."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from verifier.addresses import any_address, public_only, public_or_loopback, special_block

REFUSED: dict[str, list[str]] = {
    "0.0.0.0/8 this network": ["0.0.0.0", "0.1.2.3", "0.255.255.255"],
    "10.0.0.0/8 private": ["10.0.0.0", "10.1.2.3", "10.255.255.255"],
    "100.64.0.0/10 shared (CGN)": ["100.64.0.0", "100.100.100.100", "100.127.255.255"],
    "127.0.0.0/8 loopback": ["127.0.0.1", "127.1.2.3", "127.255.255.255"],
    "169.254.0.0/16 link-local": ["169.254.0.0", "169.254.169.254", "169.254.255.255"],
    "172.16.0.0/12 private": ["172.16.0.0", "172.20.1.1", "172.31.255.255"],
    "192.0.0.0/24 IETF assignments": ["192.0.0.0", "192.0.0.9", "192.0.0.170", "192.0.0.255"],
    "192.0.2.0/24 TEST-NET-1": ["192.0.2.0", "192.0.2.1", "192.0.2.255"],
    "192.31.196.0/24 AS112-v4": ["192.31.196.1"],
    "192.52.193.0/24 AMT": ["192.52.193.1"],
    "192.88.99.0/24 6to4 relay": ["192.88.99.0", "192.88.99.1", "192.88.99.255"],
    "192.168.0.0/16 private": ["192.168.0.0", "192.168.1.1", "192.168.255.255"],
    "192.175.48.0/24 AS112": ["192.175.48.1"],
    "198.18.0.0/15 benchmarking": ["198.18.0.0", "198.19.255.255"],
    "198.51.100.0/24 TEST-NET-2": ["198.51.100.0", "198.51.100.255"],
    "203.0.113.0/24 TEST-NET-3": ["203.0.113.0", "203.0.113.255"],
    "224.0.0.0/4 multicast": ["224.0.0.1", "239.255.255.250", "239.255.255.255"],
    "240.0.0.0/4 reserved": ["240.0.0.0", "250.1.2.3", "255.255.255.254"],
    "255.255.255.255 broadcast": ["255.255.255.255"],
    ":: unspecified": ["::"],
    "::1 loopback": ["::1"],
    "::ffff:0:0/96 IPv4-mapped (private inside)": [
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "::ffff:0.0.0.0",
        "::ffff:192.88.99.1",
    ],
    "::/96 IPv4-compatible": ["::127.0.0.1", "::8.8.8.8"],
    "64:ff9b::/96 NAT64": ["64:ff9b::8.8.8.8", "64:ff9b::a9fe:a9fe", "64:ff9b::ffff:ffff"],
    "64:ff9b:1::/48 local NAT64": ["64:ff9b:1::1", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff"],
    "100::/64 discard": ["100::", "100::ffff:ffff:ffff:ffff"],
    "2001::/32 Teredo": ["2001::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2"],
    "2001::/23 IETF assignments": ["2001:1::1", "2001:2::1", "2001:20::1", "2001:1ff:ffff::1"],
    "2001:db8::/32 documentation": ["2001:db8::", "2001:db8:ffff:ffff::1"],
    "2002::/16 6to4": ["2002:7f00:1::1", "2002:a9fe:a9fe::1", "2002:808:808::1"],
    "3fff::/20 documentation": ["3fff::1", "3fff:fff::1"],
    "fc00::/7 unique local": ["fc00::1", "fd12:3456:789a::1", "fdff:ffff::1"],
    "fe80::/10 link-local": ["fe80::1", "fe80::1%1", "febf:ffff::1"],
    "fec0::/10 site-local": ["fec0::1"],
    "ff00::/8 multicast": ["ff02::1", "ff0e::1", "ffff::1"],
    "outside 2000::/3": ["4000::1", "5f00::1", "e000::1", "1::1"],
}

PUBLIC = [
    "1.1.1.1",
    "8.8.8.8",
    "9.255.255.255",
    "11.0.0.0",
    "100.63.255.255",
    "100.128.0.0",
    "126.255.255.255",
    "128.0.0.0",
    "169.253.255.255",
    "169.255.0.0",
    "172.15.255.255",
    "172.32.0.0",
    "192.0.1.255",
    "192.0.3.0",
    "192.88.98.255",
    "192.88.100.0",
    "192.167.255.255",
    "192.169.0.0",
    "198.17.255.255",
    "198.20.0.0",
    "203.0.112.255",
    "223.255.255.255",
    "::ffff:8.8.8.8",
    "2001:200::1",
    "2001:4860:4860::8888",
    "2003::1",
    "2606:4700:4700::1111",
    "3ffe:ffff::1",
]


@pytest.mark.parametrize(
    "address",
    [pytest.param(a, id=f"{name}: {a}") for name, addresses in REFUSED.items() for a in addresses],
)
def test_special_purpose_addresses_are_refused(address: str) -> None:
    parsed = ip_address(address)
    assert special_block(parsed) is not None
    assert public_only(parsed) is not None


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert special_block(ip_address(address)) is None


@pytest.mark.parametrize("address", ["127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1"])
def test_loopback_may_be_allowed_alone(address: str) -> None:
    assert public_or_loopback(ip_address(address)) is None


@pytest.mark.parametrize(
    "address", ["10.0.0.1", "169.254.169.254", "192.168.1.1", "fe80::1", "fd00::1", "::"]
)
def test_allowing_loopback_allows_nothing_else(address: str) -> None:
    assert public_or_loopback(ip_address(address)) is not None
    assert any_address(ip_address(address)) is None


def test_a_refusal_names_the_range_and_where_it_is_defined() -> None:
    assert str(special_block(ip_address("169.254.169.254"))) == (
        "169.254.0.0/16 link-local (cloud metadata services), RFC 3927"
    )
    assert "RFC 1918" in str(special_block(ip_address("::ffff:10.0.0.1")))
    assert "Teredo" in str(special_block(ip_address("2001::1")))
