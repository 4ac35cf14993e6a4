"""Issuing over the HTTP API, verified with Laurel's own verifier against what the app publishes
(DID document, status lists), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from issuer.context import Services
from tests.issuer.conftest import ClientFetcher, issue_body, make_issuer
from verifier import Outcome, Verdict, verify_credential


def _verify(source: Any, fetcher: ClientFetcher, **kwargs: Any) -> Any:
    # the time of the check, not of the module's import: a long run issues after the import
    now = datetime.now(UTC) + timedelta(minutes=1)
    return verify_credential(source, now=now, fetcher=fetcher, **kwargs)


def test_issue_verify_revoke(
    client: TestClient, services: Services, fetcher: ClientFetcher
) -> None:
    headers = make_issuer(services, client, "hrd")
    response = client.post("/api/v1/issuers/hrd/credentials", json=issue_body(), headers=headers)
    assert response.status_code == 201, response.text
    credential = response.json()
    assert credential["issuer"]["id"] == "did:web:laurel.test:issuers:hrd"
    assert credential["credentialSubject"]["creditsEarned"] == 24
    assert "learner@example.org" not in response.text
    report = _verify(credential, fetcher, email=" Learner@Example.org")
    assert report.verdict is Verdict.VERIFIED, report.to_dict()
    assert report.check("status").outcome is Outcome.PASSED

    status_url = credential["credentialStatus"]["statusListCredential"].removeprefix(
        "https://laurel.test"
    )
    etag = client.get(status_url).headers["etag"]
    assert client.get(status_url, headers={"If-None-Match": etag}).status_code == 304

    revoked = client.post(
        f"/api/v1/credentials/{credential['id']}/revoke",
        json={"reason": "issued in error"},
        headers=headers,
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked"
    assert client.get(status_url).headers["etag"] != etag
    report = _verify(credential, ClientFetcher(client))
    assert report.verdict is Verdict.NOT_VERIFIED
    assert "revoked" in report.check("status").reason

    again = client.post(
        f"/api/v1/credentials/{credential['id']}/revoke", json={"reason": "twice"}, headers=headers
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


def test_vc_jwt_form_verifies(
    client: TestClient, services: Services, fetcher: ClientFetcher
) -> None:
    headers = make_issuer(services, client, "hrd")
    credential = client.post(
        "/api/v1/issuers/hrd/credentials", json=issue_body(), headers=headers
    ).json()
    uuid = credential["id"].removeprefix("urn:uuid:")
    for path in (credential["id"], uuid):
        response = client.get(
            f"/api/v1/credentials/{path}", headers={**headers, "Accept": "application/vc+jwt"}
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/vc+jwt")
        report = _verify(response.text, fetcher)
        assert report.verdict is Verdict.VERIFIED, report.to_dict()
    as_json = client.get(f"/api/v1/credentials/{uuid}", headers=headers)
    assert as_json.json() == credential


def test_idempotency_key(client: TestClient, services: Services) -> None:
    headers = make_issuer(services, client, "hrd")
    keyed = {**headers, "Idempotency-Key": "enrolment-42"}
    first = client.post("/api/v1/issuers/hrd/credentials", json=issue_body(), headers=keyed)
    second = client.post("/api/v1/issuers/hrd/credentials", json=issue_body(), headers=keyed)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    other = client.post(
        "/api/v1/issuers/hrd/credentials", json=issue_body("someone@example.org"), headers=keyed
    )
    assert other.status_code == 409
    listed = client.get("/api/v1/issuers/hrd/credentials", headers=headers).json()
    assert listed["total"] == 1


def test_publications(client: TestClient, services: Services) -> None:
    make_issuer(services, client, "hrd")
    profile = client.get("/issuers/hrd").json()
    assert profile["id"] == "did:web:laurel.test:issuers:hrd"
    assert profile["type"] == ["Profile"]
    did = client.get("/issuers/hrd/did.json").json()
    assert did["id"] == profile["id"]
    assert {m["type"] for m in did["verificationMethod"]} == {"Multikey", "JsonWebKey"}
    jwks = client.get("/.well-known/jwks.json").json()
    assert all(key["iss"] == profile["id"] and key["kid"] for key in jwks["keys"])
    assert all("d" not in key for key in jwks["keys"])
    assert client.get("/issuers/nobody").status_code == 404


def test_key_rotation_keeps_old_credentials_verifiable(
    client: TestClient, services: Services, fetcher: ClientFetcher
) -> None:
    from tests.units import rotate_keys

    headers = make_issuer(services, client, "hrd")
    old = client.post("/api/v1/issuers/hrd/credentials", json=issue_body(), headers=headers).json()
    new_kids = rotate_keys(services, "hrd")
    new = client.post(
        "/api/v1/issuers/hrd/credentials", json=issue_body("b@example.org"), headers=headers
    ).json()
    assert new["proof"][0]["verificationMethod"] in new_kids
    assert old["proof"][0]["verificationMethod"] != new["proof"][0]["verificationMethod"]
    for credential in (old, new):
        assert _verify(credential, fetcher).verdict is Verdict.VERIFIED


def test_list_filters_and_paging(client: TestClient, services: Services) -> None:
    headers = make_issuer(services, client, "hrd")
    for number in range(5):
        client.post(
            "/api/v1/issuers/hrd/credentials",
            json=issue_body(f"p{number}@example.org"),
            headers=headers,
        )
    page = client.get("/api/v1/issuers/hrd/credentials?limit=2&offset=2", headers=headers)
    assert page.json()["total"] == 5 and len(page.json()["credentials"]) == 2
    assert page.headers["x-total-count"] == "5"
    one = client.get("/api/v1/issuers/hrd/credentials?email=P3@example.org", headers=headers)
    assert one.json()["total"] == 1
    by_achievement = client.get(
        "/api/v1/issuers/hrd/credentials?achievement=leading-people", headers=headers
    )
    assert by_achievement.json()["total"] == 5
    assert (
        client.get("/api/v1/issuers/hrd/credentials?status=revoked", headers=headers).json()[
            "total"
        ]
        == 0
    )
