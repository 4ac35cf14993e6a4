"""Binding a badge to the holder who collects it (``issuer.issuing.holders``): the wallet's DID
becomes ``credentialSubject.id``, the badge is signed again with everything else kept — id,
status entry, dates, claims — and verifies; binding is once, to one DID, never for a revoked
badge; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from issuer.context import Services
from issuer.core.errors import BadRequest, Conflict, NotFound
from issuer.effects import work
from issuer.issuing import credentials
from issuer.issuing.holders import bind_to_holder
from issuer.models import AuditEntry, Credential
from tests.issuer.conftest import ClientFetcher, issue_body, make_issuer
from tests.units import revoke
from verifier import Verdict, verify_credential

HOLDER = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
OTHER = "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG"


def _issued(client: TestClient, services: Services, **extra: Any) -> dict[str, Any]:
    headers = make_issuer(services, client, "hrd")
    issued = client.post(
        "/api/v1/issuers/hrd/credentials", json=issue_body(**extra), headers=headers
    )
    assert issued.status_code == 201, issued.text
    document: dict[str, Any] = issued.json()
    return document


def _bind(services: Services, credential_id: str, holder: str) -> Credential:
    with work(services) as db:
        bound = bind_to_holder(db, services, credential_id, holder, actor="test")
        db.expunge(bound)
        return bound


def test_binding_names_the_holder_keeps_the_rest_and_verifies(
    client: TestClient, services: Services, fetcher: ClientFetcher
) -> None:
    original = _issued(client, services)
    with work(services) as db:  # the VC-JWT form exists before binding…
        credentials.as_jwt(db, services, credentials.get_credential(db, original["id"]))
    bound = _bind(services, original["id"], HOLDER)
    document = bound.document
    assert document["credentialSubject"]["id"] == HOLDER
    assert next(iter(document["credentialSubject"])) == "id"
    outside = ("credentialSubject", "proof")
    unchanged = {k: v for k, v in document.items() if k not in outside}
    assert unchanged == {k: v for k, v in original.items() if k not in outside}
    subject = {k: v for k, v in document["credentialSubject"].items() if k != "id"}
    assert original["credentialSubject"]["id"].startswith("urn:uuid:")  # Laurel's stand-in
    assert subject == {k: v for k, v in original["credentialSubject"].items() if k != "id"}
    assert document["credentialStatus"] == original["credentialStatus"]
    assert document["proof"] != original["proof"]
    assert bound.holder_id == HOLDER and bound.bound_at is not None
    assert bound.jwt is None  # …and is signed again, with the holder as ``sub``, when asked

    report = verify_credential(
        document, now=datetime.now(UTC) + timedelta(minutes=1), fetcher=fetcher
    )
    assert report.verdict is Verdict.VERIFIED, report.to_dict()
    served = client.get(f"/api/v1/credentials/{original['id']}", headers=_read(client, services))
    assert served.status_code == 200 and served.json()["credentialSubject"]["id"] == HOLDER
    with Session(services.engine) as db:
        entry = db.exec(select(AuditEntry).where(AuditEntry.action == "credential.bind")).one()
        assert entry.subject == original["id"] and entry.details == {"holder": HOLDER}


def _read(client: TestClient, services: Services) -> dict[str, str]:
    from tests.units import create_api_key

    return {"Authorization": f"Bearer {create_api_key(services, 'hrd', ['read'])}"}


def test_binding_is_once_and_to_one_holder(client: TestClient, services: Services) -> None:
    original = _issued(client, services)
    first = _bind(services, original["id"], HOLDER)
    again = _bind(services, original["id"], HOLDER)
    assert again.document == first.document  # the same holder collects it again: unchanged
    with pytest.raises(Conflict, match="already names its subject"):
        _bind(services, original["id"], OTHER)


def test_a_badge_issued_to_a_did_binds_only_to_that_did(
    client: TestClient, services: Services
) -> None:
    original = _issued(
        client,
        services,
        recipient={"email": "learner@example.org", "name": "Kim Min-jun", "did": HOLDER},
    )
    assert original["credentialSubject"]["id"] == HOLDER
    with pytest.raises(Conflict):
        _bind(services, original["id"], OTHER)
    bound = _bind(services, original["id"], HOLDER)
    assert bound.holder_id == HOLDER and bound.document == original  # not signed again


@pytest.mark.parametrize(
    "holder",
    [
        "not a did",
        "did:key:z6Mk#key-1",
        "did:web:example.org/path",
        "https://example.org/me",
        "did:key:" + "z" * 2100,
        "did:key:z6Mk\u0000",
    ],
)
def test_a_holder_that_is_not_a_plain_did_is_refused(
    client: TestClient, services: Services, holder: str
) -> None:
    original = _issued(client, services)
    with pytest.raises(BadRequest, match="must be a DID"):
        _bind(services, original["id"], holder)


def test_revoked_and_unknown_badges_are_not_bound(client: TestClient, services: Services) -> None:
    original = _issued(client, services)
    revoke(services, original["id"], "issued in error")
    with pytest.raises(Conflict, match="revoked"):
        _bind(services, original["id"], HOLDER)
    with pytest.raises(NotFound):
        _bind(services, "urn:uuid:00000000-0000-4000-8000-000000000000", HOLDER)
