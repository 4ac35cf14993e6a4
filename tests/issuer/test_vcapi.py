"""The W3C VC-API (``/vc-api/…``) in process, on SQLite and PostgreSQL: issuing any VC, status
changes in both body shapes, verifying credentials and presentations. The W3C suites themselves
run against a real server in tests/interop/test_w3c_suites.py."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from issuer.context import Services
from issuer.crypto import keys
from tests.issuer.conftest import ClientFetcher, issue_body, make_issuer
from tests.units import create_api_key, create_issuer
from verifier import Verdict, verify_credential
from verifier.proof import data_integrity

V2 = "https://www.w3.org/ns/credentials/v2"
V1 = "https://www.w3.org/2018/credentials/v1"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"
ISSUE = "/vc-api/issuers/w3c/credentials/issue"
STATUS = "/vc-api/issuers/w3c/credentials/status"
HOLDER = keys.ed25519_from_seed(bytes(range(32)))
HOLDER_DID = keys.did_key(HOLDER)


@pytest.fixture
def issuer(services: Services) -> tuple[str, dict[str, str]]:
    """A did:key issuer ``w3c`` and the headers of a key with every scope."""
    created = create_issuer(services, slug="w3c", name="W3C suites", did_method="key")
    key = create_api_key(services, "w3c", ["issue", "revoke", "read"])
    return created.did, {"Authorization": f"Bearer {key}"}


def _credential(did: str, **extra: Any) -> dict[str, Any]:
    return {
        "@context": [V2, EXAMPLES],
        "id": "https://example.org/credentials/1",
        "type": ["VerifiableCredential", "ExampleDegreeCredential"],
        "issuer": did,
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:alice", "name": "Alice", "degree": "BSc"},
        **extra,
    }


def _issue(client: TestClient, headers: dict[str, str], credential: Any) -> Any:
    return client.post(ISSUE, json={"credential": credential, "options": {}}, headers=headers)


def _verify(client: TestClient, credential: Any) -> Any:
    return client.post("/vc-api/credentials/verify", json={"verifiableCredential": credential})


def test_issue_round_trip_keeps_what_was_sent(
    client: TestClient, issuer: tuple[str, dict[str, str]], fetcher: ClientFetcher
) -> None:
    did, headers = issuer
    sent = _credential(did)
    sent["credentialSubject"] = {"name": "Alice", "id": "did:example:alice", "degree": "BSc"}
    response = _issue(client, headers, sent)
    assert response.status_code == 201, response.text
    signed = response.json()["verifiableCredential"]
    assert signed["@context"] == [V2, EXAMPLES]
    assert list(signed["credentialSubject"].items()) == list(sent["credentialSubject"].items())
    assert signed["credentialStatus"]["type"] == "BitstringStatusListEntry"
    assert signed["credentialStatus"]["statusListIndex"].isdigit()
    (proof,) = signed["proof"]
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["verificationMethod"].startswith(did + "#")
    status_list = client.get(signed["credentialStatus"]["statusListCredential"]).json()
    assert status_list["issuer"] == did  # a string, as the BSL suite wants
    report = verify_credential(signed, fetcher=fetcher, profile="vc")
    assert report.verdict is Verdict.VERIFIED, report.to_dict()

    verified = _verify(client, signed)
    assert verified.status_code == 200, verified.text
    assert verified.json()["verified"] is True
    assert "errors" not in verified.json()
    assert "proof" in verified.json()["checks"]

    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["degree"] = "PhD"
    refused = _verify(client, tampered)
    assert refused.status_code == 422
    assert refused.json()["verified"] is False
    assert any(error["name"] == "proof" for error in refused.json()["errors"])


def test_vcdm11_credential_gets_the_data_integrity_context(
    client: TestClient, issuer: tuple[str, dict[str, str]]
) -> None:
    did, headers = issuer
    sent = {
        "@context": [V1],
        "type": ["VerifiableCredential"],
        "issuer": did,
        "issuanceDate": "2020-03-16T22:37:26.544Z",
        "credentialSubject": {"id": "did:example:alice"},
    }
    response = _issue(client, headers, sent)
    assert response.status_code == 201, response.text
    signed = response.json()["verifiableCredential"]
    assert signed["@context"] == [V1, data_integrity_v2()]
    assert "credentialStatus" not in signed
    assert _verify(client, signed).status_code == 200


def data_integrity_v2() -> str:
    return "https://w3id.org/security/data-integrity/v2"


def test_own_credential_status_is_kept(
    client: TestClient, issuer: tuple[str, dict[str, str]]
) -> None:
    did, headers = issuer
    own = {
        "id": "https://example.com/status/3#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": "https://example.com/status/3",
    }
    response = _issue(client, headers, _credential(did, credentialStatus=own))
    assert response.status_code == 201, response.text
    assert response.json()["verifiableCredential"]["credentialStatus"] == own


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            {
                "@context": [V2],
                "type": ["VerifiableCredential"],
                "credentialSubject": {"id": "did:example:alice", "undefinedTerm": 1},
            },
            "undefinedTerm",
        ),
        ({"type": ["VerifiableCredential", "UndefinedType"], "@context": [V2]}, "not defined"),
        ({"issuer": "did:example:someone-else"}, "this issuer"),
        ({"issuer": {"id": None}}, "this issuer"),
        ({"credentialSubject": {}}, "credentialSubject"),
        ({"@context": [EXAMPLES, V2]}, "first item"),
        ({"id": "https ://not-a-url/1"}, "URL"),
        ({"id": "https://example.org/" + "a" * 2000}, "longer"),
        ({"validFrom": "Sat 25 Feb 2023 07:16:31 PM CST"}, "dateTimeStamp"),
        ({"evidence": {}}, "type"),
        ({"relatedResource": ["https://example.org/a"]}, "object"),
        ({"relatedResource": [{"id": "https://example.org/a"}]}, "digest"),
        (
            {
                "relatedResource": [
                    {"id": "https://example.org/a", "digestSRI": "sha384-x"},
                    {"id": "https://example.org/a", "digestMultibase": "ux"},
                ]
            },
            "twice",
        ),
    ],
)
def test_broken_credentials_are_refused(
    client: TestClient, issuer: tuple[str, dict[str, str]], change: dict[str, Any], words: str
) -> None:
    did, headers = issuer
    response = _issue(client, headers, {**_credential(did), **change})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert words in response.json()["detail"]


def test_scopes_and_keys(
    client: TestClient, services: Services, issuer: tuple[str, dict[str, str]]
) -> None:
    did, _ = issuer
    read_only = {"Authorization": f"Bearer {create_api_key(services, 'w3c', ['read'])}"}
    assert _issue(client, read_only, _credential(did)).status_code == 403
    body = {"credentialId": "urn:uuid:0", "credentialStatus": {"type": "BitstringStatusListEntry"}}
    assert client.post(STATUS, json={**body, "status": True}, headers=read_only).status_code == 403
    assert client.post(ISSUE, json={"credential": _credential(did)}).status_code == 401


@pytest.mark.parametrize("shape", ["vcalm", "dcc"])
def test_status_change_then_verify_shows_revoked(
    client: TestClient, issuer: tuple[str, dict[str, str]], shape: str
) -> None:
    did, headers = issuer
    signed = _issue(client, headers, _credential(did)).json()["verifiableCredential"]
    assert _verify(client, signed).status_code == 200
    body: dict[str, Any] = (
        {
            "credentialId": signed["id"],
            "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
            "status": True,
        }
        if shape == "vcalm"
        else {
            "credentialId": signed["id"],
            "credentialStatus": [{"type": "BitstringStatusListCredential", "status": "revoked"}],
        }
    )
    changed = client.post(STATUS, json=body, headers=headers)
    assert changed.status_code == 200, changed.text
    refused = _verify(client, signed)
    assert refused.status_code == 422
    assert any("revoked" in error["message"] for error in refused.json()["errors"])
    undo = (
        {**body, "status": False}
        if shape == "vcalm"
        else {
            **body,
            "credentialStatus": [{"type": "BitstringStatusListCredential", "status": "active"}],
        }
    )
    assert client.post(STATUS, json=undo, headers=headers).status_code == 409
    unknown = {**body, "credentialId": "https://example.org/credentials/none"}
    assert client.post(STATUS, json=unknown, headers=headers).status_code == 404


def test_verify_refuses_what_is_not_a_credential(client: TestClient) -> None:
    answer = _verify(client, {"type": ["NonconformingDocument"]})
    assert answer.status_code == 422
    assert answer.json()["errors"]
    assert _verify(client, "a string").status_code in (400, 422)


def _presentation(client: TestClient, headers: dict[str, str], did: str) -> dict[str, Any]:
    signed = _issue(client, headers, _credential(did)).json()["verifiableCredential"]
    return {
        "@context": [V2],
        "type": ["VerifiablePresentation"],
        "holder": HOLDER_DID,
        "verifiableCredential": [signed],
    }


def _sign_vp(presentation: dict[str, Any], challenge: str, domain: str) -> dict[str, Any]:
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "verificationMethod": keys.did_key_method(HOLDER),
        "proofPurpose": "authentication",
        "challenge": challenge,
        "domain": domain,
    }
    signature = HOLDER.sign(data_integrity.signing_input(presentation, options))
    return data_integrity.attach_proof(presentation, options, signature)


def _verify_vp(client: TestClient, presentation: Any, **options: Any) -> Any:
    return client.post(
        "/vc-api/presentations/verify",
        json={"verifiablePresentation": presentation, "options": options},
    )


def test_presentation_with_challenge_and_domain(
    client: TestClient, issuer: tuple[str, dict[str, str]]
) -> None:
    did, headers = issuer
    signed = _sign_vp(_presentation(client, headers, did), "c-123", "laurel.test")
    good = _verify_vp(client, signed, challenge="c-123", domain="laurel.test")
    assert good.status_code == 200, good.text
    assert good.json()["credentialResults"][0]["verified"] is True
    for wrong in (
        {"challenge": "other", "domain": "laurel.test"},
        {"challenge": "c-123", "domain": "evil.example"},
    ):
        answer = _verify_vp(client, signed, **wrong)
        assert answer.status_code == 422, answer.text
        assert any(error["name"] == "proof" for error in answer.json()["errors"])
    tampered = copy.deepcopy(signed)
    tampered["holder"] = "did:example:mallory"
    assert _verify_vp(client, tampered, challenge="c-123", domain="laurel.test").status_code == 422


def test_unsigned_presentation_only_without_challenge(
    client: TestClient, issuer: tuple[str, dict[str, str]]
) -> None:
    did, headers = issuer
    unsigned = _presentation(client, headers, did)
    assert _verify_vp(client, unsigned).status_code == 200
    assert _verify_vp(client, unsigned, challenge="c-1").status_code == 422
    no_type = {**unsigned, "type": ["Presentation"]}
    assert _verify_vp(client, no_type).status_code == 422


def test_expired_credential_is_not_verified(
    client: TestClient, issuer: tuple[str, dict[str, str]]
) -> None:
    did, headers = issuer
    past = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    sent = _credential(did, validFrom="2020-01-01T00:00:00Z", validUntil=past)
    signed = _issue(client, headers, sent).json()["verifiableCredential"]
    answer = _verify(client, signed)
    assert answer.status_code == 422
    assert any(error["name"] == "validity" for error in answer.json()["errors"])


def test_a_status_list_error_carries_its_bsl_type(
    client: TestClient, issuer: tuple[str, dict[str, str]]
) -> None:
    """Someone else's credential pointing at this issuer's status list: the list does not speak
    for it, and the error names STATUS_VERIFICATION_ERROR (BSL "Processing Errors"); a failure
    that is not a status-list one has no type."""
    did, headers = issuer
    entry = _issue(client, headers, _credential(did)).json()["verifiableCredential"][
        "credentialStatus"
    ]
    unsigned = _credential(HOLDER_DID, credentialStatus=entry)
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2024-01-01T00:00:00Z",
        "verificationMethod": keys.did_key_method(HOLDER),
        "proofPurpose": "assertionMethod",
    }
    signature = HOLDER.sign(data_integrity.signing_input(unsigned, options))
    answer = _verify(client, data_integrity.attach_proof(unsigned, options, signature))
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert error["name"] == "status", error
    assert "not issued by the credential's issuer" in error["message"]
    assert error["type"] == (
        "https://www.w3.org/ns/credentials/status-list#STATUS_VERIFICATION_ERROR"
    )
    unproven = _verify(client, {**unsigned, "proof": []}).json()["errors"]
    assert [error for error in unproven if error["name"] == "proof"] == [
        {"name": "proof", "message": "the credential has no proof"}
    ]


def test_status_of_a_credential_without_id_by_its_entry_id(
    client: TestClient, issuer: tuple[str, dict[str, str]]
) -> None:
    did, headers = issuer
    sent = _credential(did)
    del sent["id"]
    signed = _issue(client, headers, sent).json()["verifiableCredential"]
    body = {
        "credentialId": signed["credentialStatus"]["id"],
        "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
        "status": True,
    }
    assert client.post(STATUS, json=body, headers=headers).status_code == 200
    assert _verify(client, signed).status_code == 422


def test_api_v1_credentials_are_revoked_through_the_vc_api(
    client: TestClient, services: Services
) -> None:
    headers = make_issuer(services, client, "hrd")
    issued = client.post("/api/v1/issuers/hrd/credentials", json=issue_body(), headers=headers)
    credential_id = issued.json()["id"]
    body = {
        "credentialId": credential_id,
        "credentialStatus": [{"type": "BitstringStatusListCredential", "status": "revoked"}],
    }
    answer = client.post("/vc-api/issuers/hrd/credentials/status", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    listed = client.get("/api/v1/issuers/hrd/credentials?status=revoked", headers=headers)
    assert [item["id"] for item in listed.json()["credentials"]] == [credential_id]
