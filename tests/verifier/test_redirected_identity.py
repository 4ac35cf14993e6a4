"""A web domain vouches only for what it serves itself. A document that reached Laurel through a
redirect to another site (``https://victim.example/.well-known/did.json`` answering 302 to
``https://attacker.example/did.json``: an open redirect, a catch-all rule) was served by that
site: the signature is the attacker's own and verifies, but the report must not say the
university's domain vouches for the issuer — for a did:web, an https issuer or a DID
Configuration. A redirect to the same host with or without ``www.`` is the domain's own.
(docs/verifier.md, "Issuer identity")"""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import trustme

from issuer.crypto.keys import did_key, did_key_method, generate_ed25519, multikey
from issuer.crypto.signing import did_configuration, sign_data_integrity, sign_domain_linkage
from tests.issuer.credentials import make_credential
from tests.verifier.local_servers import FakeDns, Internet, answering, http_server, server_tls
from verifier import Verdict, verify_credential
from verifier.errors import FetchError
from verifier.fetch import Fetched, HttpFetcher, served_from
from verifier.identity import IdentityState, same_site

NOW = datetime(2026, 6, 1, tzinfo=UTC)
VICTIM_IP, ATTACKER_IP = "93.184.215.14", "93.184.215.15"
KEY = generate_ed25519()


class Redirecting:
    """A table fetcher whose answers may come through a redirect: URL -> (served from, JSON)."""

    def __init__(self, table: Mapping[str, tuple[str, Any]]) -> None:
        self.table = dict(table)

    def __call__(self, url: str) -> bytes:
        if url not in self.table:
            raise FetchError(url, "HTTP 404")
        where, document = self.table[url]
        body = json.dumps(document).encode()
        return body if where == url else Fetched(body, where)


def did_document(did: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": did,
        "verificationMethod": [
            {
                "id": f"{did}#key-1",
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": multikey(KEY),
            }
        ],
        "assertionMethod": [f"{did}#key-1"],
        **extra,
    }


def badge(issuer: str, method: str, key: Any = KEY, **profile: Any) -> dict[str, Any]:
    credential = make_credential(issuer)
    credential["issuer"].update(name="Seoul National University", **profile)
    return sign_data_integrity(credential, key, method)


def test_same_site_is_the_origin_with_or_without_www() -> None:
    url = "https://victim.example/.well-known/did.json"
    assert same_site(url, url)
    assert same_site(url, "https://www.victim.example/.well-known/did.json")
    assert same_site("https://www.victim.example/a", "https://victim.example/b")
    assert same_site(url, "https://VICTIM.example:443/x")
    for other in (
        "https://attacker.example/did.json",
        "https://victim.example.attacker.example/did.json",
        "https://keys.victim.example/did.json",
        "https://victim.example:8443/did.json",
        "http://victim.example/did.json",
        "https://www.www.victim.example/did.json",
    ):
        assert not same_site(url, other), other


def test_a_did_web_served_through_a_redirect_to_another_site_is_not_linked_to_its_domain() -> None:
    """(A did:web under a path, ``did:web:victim.example:go:attacker.example``, is not linked to
    the domain in any case: test_identity.py.)"""
    did = "did:web:victim.example"
    url = "https://victim.example/.well-known/did.json"
    fetcher = Redirecting({url: ("https://attacker.example/did.json", did_document(did))})
    report = verify_credential(badge(did, f"{did}#key-1"), now=NOW, fetcher=fetcher)
    assert report.verdict is Verdict.VERIFIED  # the attacker's own signature, on their own DID
    who = report.identity
    assert who.state is IdentityState.UNCONFIRMED, who
    assert who.linked_domain is None
    assert any(
        "served by another site, attacker.example, through a redirect" in note for note in who.notes
    ), who.notes
    assert "victim.example" not in who.reason


def test_a_did_web_served_by_its_www_host_is_linked() -> None:
    did = "did:web:university.example"
    url = "https://university.example/.well-known/did.json"
    fetcher = Redirecting(
        {url: ("https://www.university.example/.well-known/did.json", did_document(did))}
    )
    who = verify_credential(badge(did, f"{did}#key-1"), now=NOW, fetcher=fetcher).identity
    assert who.state is IdentityState.LINKED, who
    assert (who.linked_domain, who.linkage) == ("https://university.example", "did:web")


def test_an_https_issuer_served_through_a_redirect_to_another_site_is_not_linked() -> None:
    issuer = "https://victim.example/"
    fetcher = Redirecting(
        {issuer: ("https://attacker.example/issuer", did_document(issuer))},
    )
    report = verify_credential(badge(issuer, f"{issuer}#key-1"), now=NOW, fetcher=fetcher)
    assert report.verdict is Verdict.VERIFIED
    assert report.identity.state is IdentityState.UNCONFIRMED, report.identity
    honest = Redirecting({issuer: (issuer, did_document(issuer))})
    who = verify_credential(badge(issuer, f"{issuer}#key-1"), now=NOW, fetcher=honest).identity
    assert (who.state, who.linkage) == (IdentityState.LINKED, "https")


def _configuration(did: str, origin: str, key: Any) -> dict[str, Any]:
    linked = sign_domain_linkage(
        did,
        origin,
        key,
        kid=f"{did}#{did.removeprefix('did:key:')}",
        issued=NOW - timedelta(days=1),
        expires=NOW + timedelta(days=30),
    )
    return did_configuration([linked])


def test_a_did_configuration_served_by_another_site_links_nothing() -> None:
    key = generate_ed25519()
    did = did_key(key)
    origin = "https://victim.example"
    url = f"{origin}/.well-known/did-configuration.json"
    credential = badge(did, did_key_method(key), key, url=f"{origin}/about")
    elsewhere = Redirecting(
        {url: ("https://attacker.example/did-configuration.json", _configuration(did, origin, key))}
    )
    report = verify_credential(credential, now=NOW, fetcher=elsewhere)
    assert report.verdict is Verdict.VERIFIED
    assert report.identity.state is IdentityState.UNCONFIRMED, report.identity
    assert any("served by another site" in reason for reason in report.identity.not_checked)
    own = Redirecting(
        {
            url: (
                "https://www.victim.example/.well-known/did-configuration.json",
                _configuration(did, origin, key),
            )
        }
    )
    who = verify_credential(credential, now=NOW, fetcher=own).identity
    assert (who.state, who.linkage) == (IdentityState.LINKED, "did-configuration")


# --- the same over the network: HttpFetcher follows the redirect and says where it ended -----


def test_http_fetcher_says_which_site_served_a_redirected_document(
    monkeypatch: pytest.MonkeyPatch, ca: trustme.CA, client_tls: ssl.SSLContext
) -> None:
    did = "did:web:victim.example"
    document = json.dumps(did_document(did)).encode()
    victim = answering(
        {
            "/.well-known/did.json": (
                302,
                {"Location": "https://attacker.example/did.json"},
                b"",
            ),
            "/own/did.json": (301, {"Location": "/plain.json"}, b""),
            "/plain.json": (200, {"Cache-Control": "max-age=60"}, b"{}"),
        }
    )
    attacker = answering({"/did.json": (200, {"Cache-Control": "max-age=60"}, document)})
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        FakeDns({"victim.example": [VICTIM_IP], "attacker.example": [ATTACKER_IP]}),
    )
    with (
        http_server(victim, server_tls(ca, "victim.example")) as victim_port,
        http_server(attacker, server_tls(ca, "attacker.example")) as attacker_port,
    ):
        fetcher = HttpFetcher(
            ssl_context=client_tls,
            backend=Internet({VICTIM_IP: victim_port, ATTACKER_IP: attacker_port}),
        )
        url = "https://victim.example/.well-known/did.json"
        body = fetcher(url)
        assert body == document
        assert served_from(body, url) == "https://attacker.example/did.json"
        own = "https://victim.example/own/did.json"
        assert served_from(fetcher(own), own) == "https://victim.example/plain.json"
        plain = "https://victim.example/plain.json"
        assert served_from(fetcher(plain), plain) == plain
        reports = [
            verify_credential(badge(did, f"{did}#key-1"), now=NOW, fetcher=fetcher)
            for _ in range(2)  # the second from the fetcher's cache
        ]
        # each URL asked for once (the cache keeps by the URL asked for, with where it ended)
        assert len(victim.seen) == 4 and len(attacker.seen) == 1
    for report in reports:
        assert report.verdict is Verdict.VERIFIED
        assert report.identity.state is IdentityState.UNCONFIRMED, report.identity
