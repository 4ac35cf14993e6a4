"""The CLR 2.0 export (issuer/services/clr.py): credentials issued over the HTTP API, bundled in a
signed ClrCredential, checked with Laurel's verifier against what the app publishes (DID document,
status lists) and with the Digital Bazaar / DCC libraries, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import re
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from issuer.context import Services
from issuer.core.errors import BadRequest
from issuer.effects import work
from issuer.institutes.issuers import get_issuer, profile
from issuer.issuing.clr import CLR_CONTEXTS, build_clr
from issuer.issuing.credentials import parse_id
from issuer.models import Credential, Learner, LearnerEmail
from tests.interop.dcc import dcc_verify, ensure_node_modules
from tests.issuer.conftest import ACHIEVEMENT, ClientFetcher, issue_body, make_issuer
from tests.units import create_api_key, create_issuer
from verifier import Outcome, Report, Verdict, verify_credential

EMAIL = "learner@example.org"


def _learner_id(session: Session, email: str) -> int:
    return session.exec(select(LearnerEmail.learner_id).where(LearnerEmail.email == email)).one()


SECOND = {
    **ACHIEVEMENT,
    "key": "leading-change",
    "name": "Leading Change",
    "description": "LEAD Certificate Program course on leading change.",
    "creditsAvailable": 16,
}

requires_node = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="the DCC interop harness needs node and npm on PATH",
)


def _issuer(
    services: Services, client: TestClient, slug: str, did_method: str = "web"
) -> dict[str, str]:
    """An issuer with two achievements (``leading-people``, ``leading-change``)."""
    if did_method == "web":
        headers = make_issuer(services, client, slug)
    else:
        create_issuer(services, slug=slug, name=f"{slug.upper()} Institute", did_method=did_method)
        headers = {"Authorization": f"Bearer {create_api_key(services, slug, ['admin'])}"}
        response = client.post(
            f"/api/v1/issuers/{slug}/achievements", json=ACHIEVEMENT, headers=headers
        )
        assert response.status_code == 201, response.text
    response = client.post(f"/api/v1/issuers/{slug}/achievements", json=SECOND, headers=headers)
    assert response.status_code == 201, response.text
    return headers


def _issue(
    client: TestClient, headers: dict[str, str], slug: str, achievement: str, email: str = EMAIL
) -> dict[str, Any]:
    body = issue_body(email, achievement=achievement)
    response = client.post(f"/api/v1/issuers/{slug}/credentials", json=body, headers=headers)
    assert response.status_code == 201, response.text
    issued: dict[str, Any] = response.json()
    return issued


def _transcript(
    client: TestClient, headers: dict[str, str], slug: str
) -> tuple[list[dict[str, Any]], list[str]]:
    """Three credentials for one learner (one achievement twice); their ids in issuing order."""
    issued = [
        _issue(client, headers, slug, "leading-people"),
        _issue(client, headers, slug, "leading-change"),
        _issue(client, headers, slug, "leading-people"),
    ]
    return issued, [credential["id"] for credential in issued]


def _build(
    services: Services, slug: str, ids: list[str], email: str = EMAIL, **kwargs: Any
) -> dict[str, Any]:
    """``build_clr`` for the learner with ``email`` over the credentials ``ids`` (any learner's)."""
    with Session(services.engine) as session:
        issuer = get_issuer(session, slug)
        learner = session.get(Learner, _learner_id(session, email))
        assert learner is not None
        rows = _credentials(session, ids)
        return build_clr(session, services, issuer, learner, rows, **kwargs)


def _credentials(session: Session, ids: list[str]) -> list[Credential]:
    """The stored credentials ``ids``, in order; the test fails if one is missing."""
    rows = [session.get(Credential, parse_id(i)) for i in ids]
    found = [row for row in rows if row is not None]
    assert len(found) == len(rows)
    return found


def _now() -> datetime:
    """The pinned clock for building and verifying: a minute ahead of the credentials issued
    just before, so that a timestamp taken from the wall clock instead of ``now`` shows."""
    return datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)


def _verify(clr: dict[str, Any], fetcher: ClientFetcher, at: datetime, **kwargs: Any) -> Report:
    return verify_credential(clr, now=at, fetcher=fetcher, **kwargs)


def _outcome(report: Report, name: str) -> Outcome:
    check = report.check(name)
    assert check is not None, (name, report.to_dict())
    return check.outcome


def _nested(clr: dict[str, Any]) -> list[dict[str, Any]]:
    nested: list[dict[str, Any]] = clr["credentialSubject"]["verifiableCredential"]
    return nested


# --------------------------------------------------------------- building and verifying


def test_clr_bundles_the_learners_credentials_and_verifies(
    client: TestClient, services: Services, fetcher: ClientFetcher
) -> None:
    headers = _issuer(services, client, "hrd")
    issued, ids = _transcript(client, headers, "hrd")
    at = _now()
    clr = _build(services, "hrd", ids, now=at)

    assert clr["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert clr["@context"] == CLR_CONTEXTS
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", clr["id"])
    assert clr["id"] not in ids
    assert clr["type"] == ["VerifiableCredential", "ClrCredential"]
    assert clr["name"] == "HRD Institute — transcript of Kim Min-jun"
    assert (
        clr["issuer"]
        == issued[0]["issuer"]
        == {
            "id": "did:web:laurel.test:issuers:hrd",
            "type": ["Profile"],
            "name": "HRD Institute",
            "url": "https://hrd.example.org",
        }
    )
    assert clr["validFrom"] == at.isoformat().replace("+00:00", "Z")
    assert "credentialStatus" not in clr and "validUntil" not in clr
    [proof] = clr["proof"]
    assert (proof["cryptosuite"], proof["created"]) == ("eddsa-rdfc-2022", clr["validFrom"])
    assert proof["verificationMethod"] == "did:web:laurel.test:issuers:hrd#key-1"

    subject = clr["credentialSubject"]
    assert subject["id"] == issued[0]["credentialSubject"]["id"]
    assert subject["type"] == ["ClrSubject"]
    # The stored signed documents, byte for byte what the API serves for each id.
    served = [client.get(f"/api/v1/credentials/{i}", headers=headers).json() for i in ids]
    assert _nested(clr) == served == issued
    # Each achievement once (leading-people was earned twice), in order of first award.
    assert subject["achievement"] == [
        issued[0]["credentialSubject"]["achievement"],
        issued[1]["credentialSubject"]["achievement"],
    ]
    [email_identifier] = subject["identifier"]
    assert email_identifier == issued[0]["credentialSubject"]["identifier"][0]
    assert email_identifier["identityType"] == "emailAddress"
    assert email_identifier["identityHash"].startswith("sha256$")
    assert EMAIL not in str(clr)

    report = _verify(clr, fetcher, at, email=EMAIL)
    assert report.verdict is Verdict.VERIFIED, report.to_dict()
    for name in ("context", "type", "proof", "issuer", "validity", "recipient"):
        assert _outcome(report, name) is Outcome.PASSED, (name, report.to_dict())
    assert _outcome(report, "status") is Outcome.SKIPPED
    # No CLR 2.0 JSON Schema is bundled with the verifier (verifier/schemas/index.json), so the
    # schema check has nothing to apply; it must not fail either.
    assert _outcome(report, "schema") is Outcome.SKIPPED
    nested = report.check("nested credentials")
    assert nested is not None
    assert (nested.outcome, nested.reason) == (Outcome.PASSED, "3 credential(s) verified")
    assert report.warnings == ()
    # The nested credentials' status lists were fetched from the app, not taken on trust.
    status_list = issued[0]["credentialStatus"]["statusListCredential"]
    assert status_list in fetcher.urls
    assert "https://laurel.test/issuers/hrd/did.json" in fetcher.urls


def test_a_nested_credential_revoked_after_export_is_a_warning(
    client: TestClient, services: Services, fetcher: ClientFetcher
) -> None:
    # The outer proof still holds (the export was genuine), but the verifier reports the
    # nested credential that is no longer valid.
    headers = _issuer(services, client, "hrd")
    _, ids = _transcript(client, headers, "hrd")
    at = _now()
    clr = _build(services, "hrd", ids, now=at)
    response = client.post(
        f"/api/v1/credentials/{ids[1]}/revoke", json={"reason": "issued in error"}, headers=headers
    )
    assert response.status_code == 200, response.text
    report = _verify(clr, fetcher, at)
    assert report.verdict is Verdict.VERIFIED, report.to_dict()
    assert _outcome(report, "proof") is Outcome.PASSED
    nested = report.check("nested credentials")
    assert nested is not None and nested.outcome is Outcome.FAILED, report.to_dict()
    assert nested.reason.startswith("credential 2: ") and "revoked" in nested.reason


# --------------------------------------------------------------- tampering


def _rename(clr: dict[str, Any]) -> None:
    clr["name"] = clr["name"].replace("Kim Min-jun", "Someone Else")


def _nested_achievement(clr: dict[str, Any]) -> None:
    _nested(clr)[1]["credentialSubject"]["achievement"]["name"] += " (edited)"


def _nested_credits(clr: dict[str, Any]) -> None:
    _nested(clr)[0]["credentialSubject"]["creditsEarned"] = 240


def _drop_nested(clr: dict[str, Any]) -> None:
    del _nested(clr)[2]


TAMPERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "CLR name": _rename,
    "nested achievement name": _nested_achievement,
    "nested creditsEarned": _nested_credits,
    "nested credential removed": _drop_nested,
}


@pytest.mark.parametrize("tamper", list(TAMPERS))
def test_a_changed_clr_is_not_verified(
    client: TestClient, services: Services, fetcher: ClientFetcher, tamper: str
) -> None:
    headers = _issuer(services, client, "hrd")
    _, ids = _transcript(client, headers, "hrd")
    at = _now()
    clr = _build(services, "hrd", ids, now=at)
    assert _verify(clr, ClientFetcher(client), at).verdict is Verdict.VERIFIED
    changed = copy.deepcopy(clr)
    TAMPERS[tamper](changed)
    assert changed != clr
    report = _verify(changed, fetcher, at)
    assert report.verdict is Verdict.NOT_VERIFIED, report.to_dict()
    proof = report.check("proof")
    assert proof is not None
    assert (proof.outcome, proof.reason) == (
        Outcome.FAILED,
        "the signature does not match the credential",
    )
    nested = report.check("nested credentials")
    assert nested is not None
    if tamper.startswith("nested") and tamper != "nested credential removed":
        # The nested credential's own proof catches the change too.
        assert nested.outcome is Outcome.FAILED, report.to_dict()
    else:
        assert nested.outcome is Outcome.PASSED, report.to_dict()


# --------------------------------------------------------------- what goes in


def test_revoked_and_other_peoples_credentials_are_left_out(
    client: TestClient, services: Services, fetcher: ClientFetcher
) -> None:
    headers = _issuer(services, client, "hrd")
    other_headers = _issuer(services, client, "academy")
    kept = _issue(client, headers, "hrd", "leading-change")
    revoked = _issue(client, headers, "hrd", "leading-people")
    someone_else = _issue(client, headers, "hrd", "leading-people", email="other@example.org")
    other_issuer = _issue(client, other_headers, "academy", "leading-people")
    ids = [c["id"] for c in (revoked, someone_else, kept, other_issuer)]
    with Session(services.engine, expire_on_commit=False) as session:
        issuer = get_issuer(session, "hrd")
        learner = session.get(Learner, _learner_id(session, EMAIL))
        rows = _credentials(session, ids)
    assert learner is not None
    # Revoked after the rows were loaded: build_clr reads the database, not the stale rows.
    response = client.post(
        f"/api/v1/credentials/{revoked['id']}/revoke", json={"reason": "withdrawn"}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert rows[0] is not None and rows[0].revoked_at is None

    at = _now()
    with Session(services.engine) as session:
        clr = build_clr(session, services, issuer, learner, rows, now=at)
    assert _nested(clr) == [kept]
    assert clr["credentialSubject"]["achievement"] == [kept["credentialSubject"]["achievement"]]
    assert clr["issuer"] == profile(issuer)
    report = _verify(clr, fetcher, at)
    assert report.verdict is Verdict.VERIFIED, report.to_dict()
    nested = report.check("nested credentials")
    assert nested is not None and nested.reason == "1 credential(s) verified"


def test_no_credentials_is_a_bad_request(client: TestClient, services: Services) -> None:
    headers = _issuer(services, client, "hrd")
    revoked = _issue(client, headers, "hrd", "leading-people")
    response = client.post(
        f"/api/v1/credentials/{revoked['id']}/revoke", json={"reason": "withdrawn"}, headers=headers
    )
    assert response.status_code == 200, response.text
    someone_else = _issue(client, headers, "hrd", "leading-people", email="other@example.org")
    for ids in ([], [revoked["id"]], [someone_else["id"]]):
        with pytest.raises(BadRequest, match="HRD Institute has no unrevoked credentials"):
            _build(services, "hrd", ids)


def test_a_learner_without_a_name_or_email_identifier(
    client: TestClient, services: Services, fetcher: ClientFetcher
) -> None:
    headers = _issuer(services, client, "hrd")
    body = {"recipient": {"email": EMAIL}, "achievement": "leading-people"}
    response = client.post("/api/v1/issuers/hrd/credentials", json=body, headers=headers)
    assert response.status_code == 201, response.text
    issued = response.json()
    at = _now()
    with work(services) as db:  # a name the learner gave herself is not the issuer's to sign
        learner = db.exec(select(Learner)).one()
        learner.name = "Lee Ji-eun (PhD, summa cum laude)"
        db.add(learner)
    clr = _build(services, "hrd", [issued["id"]], now=at)
    assert clr["name"] == "HRD Institute — transcript of a learner"
    assert clr["credentialSubject"]["identifier"] == issued["credentialSubject"]["identifier"]
    assert _verify(clr, fetcher, at).verdict is Verdict.VERIFIED


# --------------------------------------------------------------- interop: Digital Bazaar / DCC


@pytest.fixture
def node_modules() -> None:
    ensure_node_modules()


@requires_node
@pytest.mark.usefixtures("node_modules")
@pytest.mark.parametrize("did_method", ["web", "key"])
def test_clr_verifies_in_dcc(
    client: TestClient, services: Services, fetcher: ClientFetcher, did_method: str
) -> None:
    headers = _issuer(services, client, "hrd", did_method)
    _, ids = _transcript(client, headers, "hrd")
    at = _now()
    clr = _build(services, "hrd", ids, now=at)
    vms = None
    if did_method == "web":
        # The harness does not fetch did:web; give it the keys the app publishes.
        document = client.get("/issuers/hrd/did.json").json()
        vms = {vm["id"]: vm for vm in document["verificationMethod"] if vm["type"] == "Multikey"}
        assert clr["proof"][0]["verificationMethod"] in vms
    else:
        assert clr["issuer"]["id"].startswith("did:key:z6Mk")
    now = at.isoformat().replace("+00:00", "Z")
    assert _verify(clr, fetcher, at).verdict is Verdict.VERIFIED
    assert dcc_verify(clr, vms, now=now) == (True, [])
    changed = copy.deepcopy(clr)
    _nested_achievement(changed)
    assert dcc_verify(changed, vms, now=now) == (False, ["Invalid signature."])


def test_a_record_over_the_verifiers_limit_is_refused_with_a_reason(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record with more credentials than verifiers check (MAX_NESTED_CREDENTIALS, here
    lowered to 2) is not signed: verifiers would leave some unchecked. The learner is told to
    export in parts."""
    import issuer.issuing.clr as clr_module

    headers = _issuer(services, client, "hrd")
    _, ids = _transcript(client, headers, "hrd")
    monkeypatch.setattr(clr_module, "MAX_NESTED_CREDENTIALS", 2)
    with pytest.raises(BadRequest, match=r"at most 2 credentials .* has 3 .* in parts"):
        _build(services, "hrd", ids)
