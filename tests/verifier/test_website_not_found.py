"""A website with no DID Configuration answers 404 to every verification of its issuer's badges;
one that drops Laurel's requests answers nothing until the fetch's timeout. The service's one
``HttpFetcher`` keeps either answer for a short while (docs/verifier.md, "Caching"), so the page
views of a badge do not each make Laurel ask the institute's website again, and do not each wait
for it."""

from __future__ import annotations

import socket
import ssl
import time
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
import trustme

from issuer.crypto.keys import did_key, did_key_method, generate_ed25519
from issuer.crypto.signing import sign_data_integrity
from tests.issuer.credentials import make_credential
from tests.verifier.local_servers import (
    FakeDns,
    Internet,
    Recording,
    answering,
    http_server,
    server_tls,
)
from verifier import Verdict, verify_credential
from verifier.fetch import HttpFetcher
from verifier.identity import IdentityState

NOW = datetime(2026, 6, 1, tzinfo=UTC)
PUBLIC_IP = "93.184.215.14"
SITE = "www.university.example"
CONFIGURATION = f"https://{SITE}/.well-known/did-configuration.json"


def _badge() -> dict[str, Any]:
    key = generate_ed25519()
    credential = make_credential(did_key(key))
    credential["issuer"]["url"] = f"https://{SITE}/about"
    return sign_data_integrity(credential, key, did_key_method(key))


class Silent(Recording):
    """A website that takes the request and answers nothing for a second."""

    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Host")))
        time.sleep(1.0)


@pytest.mark.parametrize(
    ("website", "timeout", "reason"),
    [(answering({}), 5.0, "HTTP 404"), (Silent, 0.3, "ReadTimeout")],  # answering: 404 for all
    ids=["no DID Configuration", "drops the requests"],
)
def test_a_website_is_asked_once_for_many_verifications(
    monkeypatch: pytest.MonkeyPatch,
    ca: trustme.CA,
    client_tls: ssl.SSLContext,
    website: type[Recording],
    timeout: float,
    reason: str,
) -> None:
    badge = _badge()
    monkeypatch.setattr(socket, "getaddrinfo", FakeDns({SITE: [PUBLIC_IP]}))
    with http_server(website, server_tls(ca, SITE)) as port:
        fetcher = HttpFetcher(
            ssl_context=client_tls, backend=Internet({PUBLIC_IP: port}), timeout=timeout
        )
        reports = [verify_credential(badge, now=NOW, fetcher=fetcher) for _ in range(3)]
        assert website.seen == [("/.well-known/did-configuration.json", SITE)]
    for report in reports:
        assert report.verdict is Verdict.VERIFIED
        assert report.identity.state is IdentityState.UNCONFIRMED
        assert report.identity.not_checked == (
            f"https://{SITE}: could not fetch {CONFIGURATION}: {reason}",
        )
    assert reports[0].to_dict() == reports[2].to_dict()
