"""Sharing through the OB 3.0 API host: a credential a learner's app stored with
``/ims/ob/v3p0/credentials`` is shared with their organisation (``POST /api/v1/me/shares``, with
the same OAuth access token) and withdrawn (``DELETE``); one from an issuer the organisation does
not trust is refused with 403 problem+json, and nothing is stored."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from issuer.context import Services
from issuer.models import SharedCredential
from tests.issuer.org_api_fixtures import ORG, University, small_org
from tests.issuer.test_oauth import READ, UPSERT
from tests.issuer.test_ob_api import EMAIL, bearer, token
from tests.units import create_issuer
from tests.web.conftest import Inbox
from tests.web.conftest import mail_services as mail_services  # the fixtures, for these tests
from tests.web.conftest import mailbox as mailbox
from tests.web.conftest import site as site

API = "/ims/ob/v3p0"
OTHER_ID = "urn:uuid:00000000-0000-4000-8000-00000000000a"


def _shared(services: Services) -> list[SharedCredential]:
    with Session(services.engine) as db:
        return list(db.exec(select(SharedCredential)))


def test_a_credential_stored_through_the_ob_api_is_shared_and_withdrawn(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    university = University()
    create_issuer(mail_services, slug="ministry", name="Ministry")
    headers = bearer(token(site, mailbox, (READ, UPSERT)))
    small_org(mail_services, "ministry", [EMAIL], university)
    signed = university.credential(EMAIL)
    stored = site.post(f"{API}/credentials", json=signed, headers=headers)
    assert stored.status_code == 201, stored.text

    shared = site.post(
        "/api/v1/me/shares", json={"organisation": ORG, "credential": signed["id"]}, headers=headers
    )
    assert shared.status_code == 201, shared.text
    body = shared.json()
    assert (body["source"], body["hours"], body["state"]) == ("obapi", 16.0, "counting")
    [row] = _shared(mail_services)
    assert (row.issuer_ref, row.achievement_name) == (university.did, "Data Literacy")

    stranger = University(name="Diploma Mill")
    other = stranger.credential(EMAIL, id=OTHER_ID)
    assert site.post(f"{API}/credentials", json=other, headers=headers).status_code == 201
    refused = site.post(
        "/api/v1/me/shares", json={"organisation": ORG, "credential": OTHER_ID}, headers=headers
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "Diploma Mill" in refused.json()["detail"]
    assert len(_shared(mail_services)) == 1

    unknown = site.post(
        "/api/v1/me/shares", json={"organisation": ORG, "credential": "urn:x"}, headers=headers
    )
    assert unknown.status_code == 404
    withdrawn = site.delete(
        "/api/v1/me/shares",
        params={"organisation": ORG, "credential": signed["id"]},
        headers=headers,
    )
    assert withdrawn.status_code == 204
    [row] = _shared(mail_services)
    assert row.withdrawn_at is not None
    no_token = site.post("/api/v1/me/shares", json={"organisation": ORG, "credential": "x"})
    assert no_token.status_code == 401


def test_two_issuers_credentials_with_one_id_are_shared_by_naming_the_issuer(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    """Credentials of two issuers may share an id (OB 3.0 equality: issuer and id): sharing one
    by its id alone is then refused (409) rather than sharing whichever came first; naming the
    issuer shares that one."""
    university, mill = University(), University(name="Diploma Mill")
    create_issuer(mail_services, slug="ministry", name="Ministry")
    headers = bearer(token(site, mailbox, (READ, UPSERT)))
    small_org(mail_services, "ministry", [EMAIL], university)
    first = mill.credential(EMAIL, id=OTHER_ID)
    second = university.credential(EMAIL, id=OTHER_ID)
    for signed in (first, second):
        assert site.post(f"{API}/credentials", json=signed, headers=headers).status_code == 201
    body = {"organisation": ORG, "credential": OTHER_ID}
    ambiguous = site.post("/api/v1/me/shares", json=body, headers=headers)
    assert ambiguous.status_code == 409, ambiguous.text
    assert "name its issuer" in ambiguous.json()["detail"] and _shared(mail_services) == []
    named = site.post("/api/v1/me/shares", json={**body, "issuer": university.did}, headers=headers)
    assert named.status_code == 201, named.text
    [row] = _shared(mail_services)
    assert row.issuer_ref == university.did
    unknown = site.post(
        "/api/v1/me/shares", json={**body, "issuer": "did:key:z6Mk"}, headers=headers
    )
    assert unknown.status_code == 404
