"""The server's own verifications (``issuer.verification.fetching.LocalFirstFetcher``): what it
does not answer from its database goes through the guarded ``HttpFetcher``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from issuer.context import Services
from issuer.institutes import issuers
from issuer.verification.fetching import LocalFirstFetcher
from tests.issuer.conftest import BASE_URL, make_issuer
from tests.verifier.local_servers import record_connections
from verifier.errors import FetchError


@pytest.fixture
def local_first(services: Services) -> Iterator[LocalFirstFetcher]:
    services.network = None  # the production default
    with Session(services.engine) as session:
        yield LocalFirstFetcher(session, services)


def test_what_the_server_does_not_answer_itself_goes_through_the_guarded_fetcher(
    monkeypatch: pytest.MonkeyPatch, local_first: LocalFirstFetcher
) -> None:
    sockets = record_connections(monkeypatch)
    for url in ("https://169.254.169.254/latest/", "https://10.0.0.7/status/1"):
        with pytest.raises(FetchError, match="private or local address"):
            local_first(url)
    with pytest.raises(FetchError, match="ConnectError"):
        local_first("https://[2606:4700:4700::1111]/did.json")
    assert sockets == [("2606:4700:4700::1111", 443)]


def test_a_did_document_is_built_once_per_fetcher(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_issuer(services, client, "once")
    built: list[str] = []
    real = issuers.did_document

    def counting(*args: Any, **kwargs: Any) -> dict[str, Any]:
        built.append("x")
        return real(*args, **kwargs)

    monkeypatch.setattr(issuers, "did_document", counting)
    url = f"{BASE_URL}/issuers/once/did.json"
    with Session(services.engine) as session:
        fetcher = LocalFirstFetcher(session, services)
        assert fetcher(url) == fetcher(url)
        assert json.loads(fetcher(url))["id"] == "did:web:laurel.test:issuers:once"
        assert len(built) == 1
        assert LocalFirstFetcher(session, services)(url) == fetcher(url)  # a new one builds again
        assert len(built) == 2
