"""Issuer identity as an instance sees it: its own issuers are known to it; another instance sees
them as linked (did:web on the first instance's domain, or their own website's DID Configuration)
or, given the first instance's published trust list, as known."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from issuer.app import create_app
from issuer.context import Services
from issuer.core.db import make_engine
from issuer.core.settings import Settings
from tests.issuer.conftest import BASE_URL, ClientFetcher, issue_body, make_issuer
from verifier.fetch import MappingFetcher
from verifier.keys import DefaultKeyResolver
from verifier.linkage import check_domain_linkage

OTHER_URL = "https://other.test"


def issued(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    response = client.post("/api/v1/issuers/lead/credentials", json=issue_body(), headers=headers)
    assert response.status_code == 201, response.text
    document: dict[str, Any] = response.json()
    return document


@pytest.fixture
def other(tmp_path: Path, fetcher: ClientFetcher) -> Iterator[Any]:
    """A second Laurel instance at https://other.test, whose network reaches the first."""

    def make(trust_lists: str = "", network: Any = fetcher) -> TestClient:
        database = f"sqlite:///{tmp_path / 'other.db'}"
        settings = Settings(
            database_url=database,
            keys_dir=tmp_path / "other-keys",
            key_passphrase="test-passphrase",
            base_url=OTHER_URL,
            trust_lists=trust_lists,
        )
        services = Services.from_settings(settings, make_engine(database))
        services.network = network
        made.append(services)
        return TestClient(create_app(services=services), base_url=OTHER_URL)

    made: list[Services] = []
    yield make
    for services in made:
        services.engine.dispose()


def identity_of(client: TestClient, credential: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/verify", content=json.dumps(credential))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["verdict"] == "verified", report
    result: dict[str, Any] = report["issuerIdentity"]
    return result


def test_an_instances_own_issuer_is_known_to_it(client: TestClient, services: Services) -> None:
    headers = make_issuer(services, client, "lead")
    identity = identity_of(client, issued(client, headers))
    assert identity["state"] == "known"
    assert identity["evidence"]["registry"] == "Laurel at laurel.test"
    assert identity["evidence"]["entry"]["name"] == "LEAD Institute"
    assert identity["evidence"]["entry"]["url"] == "https://lead.example.org"


def test_another_instance_sees_it_linked_to_the_issuing_domain(
    client: TestClient, services: Services, other: Any
) -> None:
    headers = make_issuer(services, client, "lead")
    credential = issued(client, headers)
    identity = identity_of(other(), credential)
    assert identity["state"] == "linked", identity
    # its DID document is under a path of the instance's domain (/issuers/lead/did.json); the
    # instance's own DID Configuration, which lists every issuer it hosts, links the two
    assert identity["evidence"] == {"linkedDomain": BASE_URL, "linkage": "did-configuration"}
    # lead.example.org (its website) publishes nothing yet: noted, not trusted
    assert any("lead.example.org" in item for item in identity["notChecked"])


def test_the_institutes_website_confirms_it(
    client: TestClient, services: Services, other: Any, fetcher: ClientFetcher
) -> None:
    headers = make_issuer(services, client, "lead")
    credential = issued(client, headers)
    response = client.get("/api/v1/issuers/lead/did-configuration", headers=headers)
    assert response.status_code == 200, response.text
    website = {"https://lead.example.org/.well-known/did-configuration.json": response.content}

    def network(url: str) -> bytes:
        return website[url] if url in website else fetcher(url)

    identity = identity_of(other(network=network), credential)
    assert identity["state"] == "linked"
    assert identity["evidence"] == {
        "linkedDomain": "https://lead.example.org",
        "linkage": "did-configuration",
    }


def test_its_published_trust_list_makes_it_known_elsewhere(
    client: TestClient, services: Services, other: Any, tmp_path: Path
) -> None:
    headers = make_issuer(services, client, "lead")
    client.patch("/api/v1/issuers/lead", json={"location": "Jincheon, Korea"}, headers=headers)
    credential = issued(client, headers)
    published = client.get("/trust/registry.json")
    assert published.status_code == 200
    registry = published.json()
    assert registry["meta"]["name"] == "Laurel at laurel.test"
    did = credential["issuer"]["id"]
    assert registry["registry"][did] == {
        "name": "LEAD Institute",
        "location": "Jincheon, Korea",
        "url": "https://lead.example.org",
    }
    path = tmp_path / "laurel-test.json"
    path.write_bytes(published.content)
    identity = identity_of(other(trust_lists=str(path)), credential)
    assert identity["state"] == "known"
    assert identity["evidence"]["entry"] == {
        "registry": "Laurel at laurel.test",
        "name": "LEAD Institute",
        "location": "Jincheon, Korea",
        "url": "https://lead.example.org",
    }


def test_the_instance_publishes_a_did_configuration_for_its_did_web_issuers(
    client: TestClient, services: Services, fetcher: ClientFetcher
) -> None:
    make_issuer(services, client, "lead")
    make_issuer(services, client, "hrd")
    configuration = client.get("/.well-known/did-configuration.json").json()
    assert len(configuration["linked_dids"]) == 2
    for slug in ("lead", "hrd"):
        did = f"did:web:laurel.test:issuers:{slug}"
        reason = check_domain_linkage(
            did, BASE_URL, fetcher=fetcher, resolve_key=DefaultKeyResolver(fetcher)
        )
        assert "laurel.test" in reason
        document = client.get(f"/issuers/{slug}/did.json").json()
        assert document["service"] == [
            {
                "id": f"{did}#linked-domain",
                "type": "LinkedDomains",
                "serviceEndpoint": {"origins": [BASE_URL, f"https://{slug}.example.org"]},
            }
        ]


def test_changing_the_website(client: TestClient, services: Services) -> None:
    headers = make_issuer(services, client, "lead")
    bad = client.patch(
        "/api/v1/issuers/lead", json={"url": "http://lead.example.org"}, headers=headers
    )
    assert bad.status_code == 422  # the request model says https (the OpenAPI description too)
    assert bad.headers["content-type"] == "application/problem+json"
    unknown = client.patch("/api/v1/issuers/lead", json={"slug": "x"}, headers=headers)
    assert unknown.status_code == 422
    changed = client.patch(
        "/api/v1/issuers/lead", json={"url": "https://www.lead.example"}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["url"] == "https://www.lead.example"
    assert issued(client, headers)["issuer"]["url"] == "https://www.lead.example"
    reader = {"Authorization": headers["Authorization"]}
    from tests.units import create_api_key

    reader = {"Authorization": f"Bearer {create_api_key(services, 'lead', ['read'])}"}
    assert (
        client.patch("/api/v1/issuers/lead", json={"name": "X"}, headers=reader).status_code == 403
    )
    assert client.get("/api/v1/issuers/lead/did-configuration", headers=reader).status_code == 403


def test_a_did_configuration_for_another_origin(client: TestClient, services: Services) -> None:
    headers = make_issuer(services, client, "lead")
    response = client.get(
        "/api/v1/issuers/lead/did-configuration",
        params={"origin": "https://portal.lead.example"},
        headers=headers,
    )
    document = response.json()
    did = "did:web:laurel.test:issuers:lead"
    table = {
        "https://portal.lead.example/.well-known/did-configuration.json": response.content,
        "https://laurel.test/issuers/lead/did.json": client.get("/issuers/lead/did.json").content,
    }
    fetcher = MappingFetcher(table)
    reason = check_domain_linkage(
        did, "https://portal.lead.example", fetcher=fetcher, resolve_key=DefaultKeyResolver(fetcher)
    )
    assert "portal.lead.example" in reason
    assert document["@context"] == "https://identity.foundation/.well-known/did-configuration/v1"
    for origin, status in (
        ("http://portal.lead.example", 422),  # not https: the parameter's own limits
        ("https://portal.lead.example/path", 400),  # an https URL, but not an origin
        ("nonsense", 422),
    ):
        answer = client.get(
            "/api/v1/issuers/lead/did-configuration", params={"origin": origin}, headers=headers
        )
        assert answer.status_code == status, origin
    answer = client.get(  # a domain in Korean: the name verifiers look up is its ASCII form
        "/api/v1/issuers/lead/did-configuration",
        params={"origin": "https://한국.kr"},
        headers=headers,
    )
    assert answer.status_code == 400
    assert "https://xn--3e0b707e.kr" in answer.json()["detail"]
