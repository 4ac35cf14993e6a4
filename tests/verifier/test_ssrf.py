"""A credential cannot make the verifier fetch from its own network (docs/verifier.md, "Fetching").

Every special-purpose range, written every way a URL can write it (dotted, decimal and hex
integers, IPv4-mapped IPv6, exploded IPv6, a zone id, a host name that resolves to it), is
refused before any connection is opened; so is a redirect from an allowed host to a refused one.
A host is resolved once and connected to at the address that was checked: a DNS answer that
changes after the check (rebinding) does not reach the listener it points at. TLS still checks
the certificate against the host name.

Offline: public addresses are played by local servers through ``Internet`` (see local_servers).
"""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, ip_address

import httpx
import pytest
import trustme

from tests.verifier.local_servers import (
    FakeDns,
    Internet,
    Trap,
    answering,
    http_server,
    server_tls,
)
from tests.verifier.test_addresses import REFUSED
from verifier.errors import FetchError
from verifier.fetch import HttpFetcher
from verifier.httpcache import CachingHttpClient
from verifier.transport import Resolver, system_resolver

PUBLIC_IP = "93.184.215.14"
OTHER_PUBLIC_IP = "93.184.215.15"
DOCUMENT = json.dumps({"id": "did:web:issuer.example"}).encode()
JSON = {"Content-Type": "application/json"}

IPV4 = [a for addresses in REFUSED.values() for a in addresses if ":" not in a]
IPV6 = [a for addresses in REFUSED.values() for a in addresses if ":" in a and "%" not in a]


def resolver(table: dict[str, list[str]]) -> Resolver:
    def resolve(host: str, port: int) -> Sequence[str]:
        return table.get(host, [])

    return resolve


def spellings_v4(address: str) -> list[str]:
    number = int(IPv4Address(address))
    high, low = number >> 16, number & 0xFFFF
    return [
        address,
        str(number),
        f"0x{number:08x}",
        f"[::ffff:{address}]",
        f"[::ffff:{high:x}:{low:x}]",
        f"[0:0:0:0:0:ffff:{address}]",
    ]


def spellings_v6(address: str) -> list[str]:
    parsed = ip_address(address)
    return [f"[{parsed.compressed}]", f"[{parsed.exploded}]", f"[{parsed.exploded.upper()}]"]


def refuses_without_connecting(
    url: str, *, resolve: Resolver = system_resolver, allow_loopback_http: bool = False
) -> str:
    internet = Internet()
    fetcher = HttpFetcher(
        backend=internet, resolver=resolve, allow_loopback_http=allow_loopback_http
    )
    with pytest.raises(FetchError) as caught:
        fetcher(url)
    assert internet.opened == []
    return str(caught.value)


@pytest.mark.parametrize("address", IPV4)
def test_every_ipv4_spelling_of_a_special_address_is_refused(address: str) -> None:
    for host in spellings_v4(address):
        reason = refuses_without_connecting(f"https://{host}/did.json")
        assert "private or local address" in reason, (host, reason)


@pytest.mark.parametrize("address", IPV6)
def test_every_ipv6_spelling_of_a_special_address_is_refused(address: str) -> None:
    for host in spellings_v6(address):
        reason = refuses_without_connecting(f"https://{host}/did.json")
        assert "private or local address" in reason, (host, reason)


@pytest.mark.parametrize("address", IPV4 + IPV6)
def test_a_host_name_that_resolves_to_a_special_address_is_refused(address: str) -> None:
    table = {"issuer.example": [PUBLIC_IP, address]}
    reason = refuses_without_connecting("https://issuer.example/did.json", resolve=resolver(table))
    assert "issuer.example does not resolve to a public address" in reason
    assert address not in reason  # the internal address is not told (audit round 9)


def test_a_private_name_and_a_name_that_does_not_resolve_are_refused_alike() -> None:
    """Whoever names a host (a webhook, a badge URL on the public verify page) cannot tell an
    internal name from one that does not exist, nor learn its address (audit round 9)."""
    table = {"db-primary.corp.example": ["10.20.30.40"]}
    internal = refuses_without_connecting(
        "https://db-primary.corp.example/x", resolve=resolver(table)
    )
    unknown = refuses_without_connecting("https://nowhere.corp.example/x", resolve=resolver(table))
    assert internal.replace("db-primary", "nowhere") == unknown
    assert "10.20.30.40" not in internal


@pytest.mark.parametrize(
    "host",
    [
        "0177.0.0.1",  # octal: not a URL httpx accepts
        "0x7f.0.0.1",
        "0x7f.1",
        "127.1",
        "127.0.0.1.",
        "2130706433.",
        "localhost",
        "LOCALHOST",
        "localhost.",
        "[fe80::1%25eth0]",
        "[fe80::1%25lo]",
        "[::ffff:127.0.0.1%25lo]",
        "0",
        "[::]",
        "%31%32%37.0.0.1",
    ],
)
def test_odd_spellings_are_refused_or_do_not_resolve(host: str) -> None:
    refuses_without_connecting(f"https://{host}/did.json")


def test_a_zone_id_is_refused_with_a_reason() -> None:
    reason = refuses_without_connecting("https://[fe80::1%25eth0]/did.json")
    assert "fe80::1%25eth0 has a '%' (an IPv6 zone id" in reason


def test_a_public_host_is_connected_to_at_the_address_that_was_checked() -> None:
    """The socket layer is asked for the checked address, never for the host name."""
    internet = Internet()
    table = {"issuer.example": [PUBLIC_IP, "2606:4700:4700::1111"]}
    with pytest.raises(FetchError, match="ConnectError"):
        HttpFetcher(backend=internet, resolver=resolver(table))("https://issuer.example/x")
    assert internet.opened == [(PUBLIC_IP, 443), ("2606:4700:4700::1111", 443)]


def test_an_ipv4_mapped_public_address_is_allowed() -> None:
    internet = Internet()
    with pytest.raises(FetchError, match="ConnectError"):
        HttpFetcher(backend=internet)("https://[::ffff:8.8.8.8]:8443/x")
    assert internet.opened == [("::ffff:8.8.8.8", 8443)]


def test_allowing_loopback_http_does_not_allow_private_networks() -> None:
    """What ``laurel verify`` used to do: loopback HTTP allowed every private address."""
    for url in ("https://10.1.2.3/x", "https://169.254.169.254/latest/", "https://[fd00::1]/x"):
        assert "private or local" in refuses_without_connecting(url, allow_loopback_http=True)


# --- the same host name, resolved once -----------------------------------------------------


@pytest.fixture
def trap() -> Iterator[Trap]:
    listener = Trap()
    yield listener
    listener.close()


@dataclass
class Site:
    port: int
    seen: list[tuple[str, str | None]]
    """(path, Host header) of each request the site answered."""


@pytest.fixture
def issuer_site(ca: trustme.CA, trap: Trap) -> Iterator[Site]:
    """issuer.example's web server (a local TLS server with a certificate from the test CA)."""
    routes = {
        "/did.json": (200, JSON, DOCUMENT),
        "/to-private": (302, {"Location": "https://10.0.0.1/did.json"}, b""),
        "/to-metadata": (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
        "/to-internal": (302, {"Location": f"https://internal.example:{trap.port}/x"}, b""),
        "/to-mapped": (302, {"Location": f"https://[::ffff:7f00:1]:{trap.port}/x"}, b""),
    }
    handler = answering(routes)
    with http_server(handler, server_tls(ca, "issuer.example")) as port:
        yield Site(port, handler.seen)


def test_dns_rebinding_does_not_reach_the_listener_on_127_0_0_1(
    monkeypatch: pytest.MonkeyPatch, client_tls: ssl.SSLContext, issuer_site: Site, trap: Trap
) -> None:
    """issuer.example resolves to a public address the first time and to 127.0.0.1 after that;
    the trap listens on 127.0.0.1 at the URL's port. The fetch gets the public server's answer,
    the name was resolved once, and the trap got no connection."""
    dns = FakeDns({"issuer.example": [PUBLIC_IP, "127.0.0.1"]})
    monkeypatch.setattr(socket, "getaddrinfo", dns)
    internet = Internet({PUBLIC_IP: issuer_site.port})
    fetcher = HttpFetcher(ssl_context=client_tls, backend=internet)
    assert fetcher(f"https://issuer.example:{trap.port}/did.json") == DOCUMENT
    assert issuer_site.seen == [("/did.json", f"issuer.example:{trap.port}")]
    assert dns.asked == ["issuer.example"]
    assert internet.opened == [(PUBLIC_IP, trap.port)]
    assert trap.connections() == 0


def test_the_rebinding_harness_reaches_the_trap_when_a_name_is_resolved_twice(
    monkeypatch: pytest.MonkeyPatch, client_tls: ssl.SSLContext, trap: Trap
) -> None:
    """Control for the test above: check-then-let-httpx-resolve (the old fetcher) is caught."""
    dns = FakeDns({"issuer.example": [PUBLIC_IP, "127.0.0.1"]})
    monkeypatch.setattr(socket, "getaddrinfo", dns)
    checked = socket.getaddrinfo("issuer.example", trap.port)[0][4][0]
    assert not ip_address(checked).is_private  # the check passes ...
    with (
        httpx.Client(verify=client_tls, trust_env=False) as client,
        pytest.raises(httpx.HTTPError),
    ):
        client.get(f"https://issuer.example:{trap.port}/did.json")
    assert trap.connections() == 1  # ... and the second resolution reaches the trap


def test_tls_checks_the_certificate_against_the_host_name(
    monkeypatch: pytest.MonkeyPatch, ca: trustme.CA, client_tls: ssl.SSLContext
) -> None:
    """The connection goes to an IP address, but the certificate must be issuer.example's: a
    certificate for another name from the same trusted CA is refused."""
    with http_server(
        answering({"/did.json": (200, JSON, DOCUMENT)}), server_tls(ca, "other.example")
    ) as port:
        internet = Internet({PUBLIC_IP: port})
        fetcher = HttpFetcher(
            ssl_context=client_tls,
            backend=internet,
            resolver=resolver({"issuer.example": [PUBLIC_IP]}),
        )
        with pytest.raises(FetchError, match="ConnectError") as caught:
            fetcher("https://issuer.example/did.json")
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value.__cause__)
    assert internet.opened == [(PUBLIC_IP, 443)]


def test_an_untrusted_certificate_is_refused(issuer_site: Site) -> None:
    """The default certificate store does not know the test CA."""
    internet = Internet({PUBLIC_IP: issuer_site.port})
    fetcher = HttpFetcher(backend=internet, resolver=resolver({"issuer.example": [PUBLIC_IP]}))
    with pytest.raises(FetchError, match="ConnectError") as caught:
        fetcher("https://issuer.example/did.json")
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value.__cause__)


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/to-private", "10.0.0.1 is a private or local address"),
        ("/to-metadata", "only https"),
        ("/to-internal", "internal.example does not resolve to a public address"),
        ("/to-mapped", "::ffff:7f00:1 is a private or local address"),
    ],
)
def test_a_redirect_to_a_refused_address_is_refused(
    monkeypatch: pytest.MonkeyPatch,
    client_tls: ssl.SSLContext,
    issuer_site: Site,
    trap: Trap,
    path: str,
    reason: str,
) -> None:
    dns = FakeDns({"issuer.example": [PUBLIC_IP], "internal.example": ["127.0.0.1"]})
    monkeypatch.setattr(socket, "getaddrinfo", dns)
    internet = Internet({PUBLIC_IP: issuer_site.port})
    with pytest.raises(FetchError, match=reason):
        HttpFetcher(ssl_context=client_tls, backend=internet)(f"https://issuer.example{path}")
    assert internet.opened == [(PUBLIC_IP, 443)]
    assert trap.connections() == 0


def test_a_redirect_to_another_public_host_is_resolved_and_checked_again(
    monkeypatch: pytest.MonkeyPatch, ca: trustme.CA, client_tls: ssl.SSLContext
) -> None:
    routes = {"/old": (301, {"Location": "https://new.example/did.json"}, b"")}
    with (
        http_server(answering(routes), server_tls(ca, "old.example")) as old,
        http_server(
            answering({"/did.json": (200, JSON, DOCUMENT)}), server_tls(ca, "new.example")
        ) as new,
    ):
        dns = FakeDns({"old.example": [PUBLIC_IP], "new.example": [OTHER_PUBLIC_IP]})
        monkeypatch.setattr(socket, "getaddrinfo", dns)
        internet = Internet({PUBLIC_IP: old, OTHER_PUBLIC_IP: new})
        fetcher = HttpFetcher(ssl_context=client_tls, backend=internet)
        assert fetcher("https://old.example/old") == DOCUMENT
    assert dns.asked == ["old.example", "new.example"]
    assert internet.opened == [(PUBLIC_IP, 443), (OTHER_PUBLIC_IP, 443)]


# --- trust lists and registries (CachingHttpClient) -----------------------------------------


def test_the_trust_list_client_is_guarded_the_same_way(
    monkeypatch: pytest.MonkeyPatch, ca: trustme.CA, client_tls: ssl.SSLContext, trap: Trap
) -> None:
    routes = {
        "/list.json": (200, JSON, b"[]"),
        "/to-internal": (302, {"Location": f"https://internal.example:{trap.port}/x"}, b""),
    }
    dns = FakeDns(
        {
            "rebinding.example": [PUBLIC_IP, "127.0.0.1"],
            "lists.example": [PUBLIC_IP],
            "internal.example": ["127.0.0.1"],
        }
    )
    monkeypatch.setattr(socket, "getaddrinfo", dns)
    tls = server_tls(ca, "rebinding.example", "lists.example")
    with http_server(answering(routes), tls) as port:
        client = CachingHttpClient(ssl_context=client_tls, backend=Internet({PUBLIC_IP: port}))
        assert client.get(f"https://rebinding.example:{trap.port}/list.json").body == b"[]"
        for url in (
            "https://10.0.0.1/list.json",
            "https://169.254.169.254/latest/",
            f"https://internal.example:{trap.port}/list.json",
            "https://lists.example/to-internal",
        ):
            with pytest.raises(FetchError, match="private or local address"):
                client.get(url)
    assert dns.asked == [
        "rebinding.example",
        "internal.example",
        "lists.example",
        "internal.example",
    ]
    assert trap.connections() == 0


def test_an_operator_may_allow_private_addresses_for_trust_lists() -> None:
    internet = Internet()
    with pytest.raises(FetchError, match="private or local address"):
        CachingHttpClient(backend=internet).get("https://10.0.0.1/list.json")
    assert internet.opened == []
    client = CachingHttpClient(backend=internet, allow_private_addresses=True)
    with pytest.raises(FetchError, match="ConnectError"):
        client.get("https://10.0.0.1/list.json")
    assert internet.opened == [("10.0.0.1", 443)]
