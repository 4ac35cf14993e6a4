"""The server's own verifications (``issuer.verification.fetching.LocalFirstFetcher``): what it
does not answer from its database goes through the guarded ``HttpFetcher``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import Session

from issuer.context import Services
from issuer.core.settings import Settings
from issuer.institutes import issuers
from issuer.verification.fetching import LocalFirstFetcher, shared_network
from tests.issuer.conftest import BASE_URL, make_issuer
from tests.verifier.local_servers import record_connections
from verifier.errors import FetchError
from verifier.fetch import HttpFetcher


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


def test_the_service_has_one_network_fetcher_and_an_operation_fetches_a_url_once(
    services: Services,
) -> None:
    services.network = None  # the production default
    with Session(services.engine) as session:
        first, second = LocalFirstFetcher(session, services), LocalFirstFetcher(session, services)
    assert isinstance(first.network, HttpFetcher) and first.network is second.network
    assert shared_network(services) is first.network  # what every verification's cache is

    calls: list[str] = []

    def network(url: str) -> bytes:
        calls.append(url)
        if url.endswith("/gone"):
            raise FetchError(url, "unreachable")
        return url.encode()

    with Session(services.engine) as session:
        operation = LocalFirstFetcher(session, services, network)
        for _ in range(3):
            assert operation("https://other.example/did.json") == b"https://other.example/did.json"
            with pytest.raises(FetchError):
                operation("https://other.example/gone")  # a failure is not kept
        assert calls.count("https://other.example/did.json") == 1
        assert calls.count("https://other.example/gone") == 3
        LocalFirstFetcher(session, services, network)("https://other.example/did.json")
    assert calls.count("https://other.example/did.json") == 2  # the next operation asks again


def test_how_long_the_service_keeps_documents_is_a_setting(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    services.network = None
    assert shared_network(services).cache_seconds == 300
    services.cache.clear()
    monkeypatch.setattr(services.settings, "fetch_cache_seconds", 0.0)
    assert shared_network(services).cache_seconds == 0
    monkeypatch.setenv("LAUREL_FETCH_CACHE_SECONDS", "-1")
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        Settings(key_passphrase="a passphrase of some length")


def test_another_hosts_ttl_reaches_the_shared_cache(services: Services) -> None:
    """A status list's ``ttl`` (``verifier.status``) goes to the process's ``HttpFetcher``, whose
    kept copy serves every verification; this instance's own lists are read afresh anyway."""
    told: list[tuple[str, float]] = []

    class Network:
        def __call__(self, url: str) -> bytes:
            return b"{}"

        def refresh_within(self, url: str, seconds: float) -> None:
            told.append((url, seconds))

    with Session(services.engine) as session:
        fetcher = LocalFirstFetcher(session, services, Network())
        fetcher.refresh_within("https://other.example/status/1", 60.0)
        fetcher.refresh_within(f"{BASE_URL}/status/1", 60.0)
        LocalFirstFetcher(session, services, lambda url: b"{}").refresh_within(
            "https://other.example/status/2", 1.0
        )  # a network that keeps nothing is told nothing
    assert told == [("https://other.example/status/1", 60.0)]
