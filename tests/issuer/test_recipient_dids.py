"""Whose DID a credential names (``issuer.people.dids``): the one this request gives, else the
learner's own, else the one this issuer named for her before, else her ``urn:uuid:`` subject id —
never a DID another issuer named. Single and bulk issuing alike; on SQLite and PostgreSQL.

Regression (audit round 5, F2): the learner record is shared by the instance's issuers and kept
the first DID any issuer named for an email, so a tenant that named its own DID for
``victim@example.org`` had every later badge of every issuer bound to a key it held."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update
from sqlmodel import Session, select

from issuer.context import Services
from issuer.core.db import migrate
from issuer.effects import work
from issuer.issuing import bulk, issuance, jobs
from issuer.issuing.holders import bind_to_holder
from issuer.models import BulkJobRow, Credential, Learner, LearnerDid, LearnerEmail
from issuer.models.base import table_of
from tests.issuer.conftest import issue_body, make_issuer

VICTIM = "victim@example.org"
ATTACKER_DID = "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG"
VICTIM_DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
OWN_DID = "did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH"


def _issue(
    client: TestClient, headers: dict[str, Any], slug: str, email: str, did: str | None = None
) -> dict[str, Any]:
    recipient = {"email": email} | ({"did": did} if did else {})
    answer = client.post(
        f"/api/v1/issuers/{slug}/credentials",
        json=issue_body(email, recipient=recipient),
        headers=headers,
    )
    assert answer.status_code == 201, answer.text
    document: dict[str, Any] = answer.json()
    return document


def _bulk(
    client: TestClient, headers: dict[str, Any], slug: str, rows: list[tuple[str, str | None]]
) -> list[dict[str, Any]]:
    body = [
        issue_body(email, recipient={"email": email} | ({"did": did} if did else {}))
        for email, did in rows
    ]
    answer = client.post(f"/api/v1/issuers/{slug}/credentials/bulk", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    report: list[dict[str, Any]] = answer.json()["rows"]
    return report


def _subject(services: Services, credential_id: str) -> str:
    with Session(services.engine) as session:
        credential = session.get(Credential, credential_id.removeprefix("urn:uuid:"))
        assert credential is not None
        subject: str = credential.document["credentialSubject"]["id"]
        return subject


def test_another_issuers_did_is_never_the_subject(client: TestClient, services: Services) -> None:
    """The audit's scenario: what the honest issuer names, or the learner's stand-in id when it
    names nothing — never the DID the other tenant named; and the victim collects that badge."""
    evil = make_issuer(services, client, "evil")
    good = make_issuer(services, client, "good")
    _issue(client, evil, "evil", VICTIM, ATTACKER_DID)
    named = _issue(client, good, "good", VICTIM, VICTIM_DID)
    assert named["credentialSubject"]["id"] == VICTIM_DID
    unnamed = _issue(client, good, "good", "other@example.org")
    assert unnamed["credentialSubject"]["id"].startswith("urn:uuid:")
    third = make_issuer(services, client, "third")
    plain = _issue(client, third, "third", VICTIM)
    assert plain["credentialSubject"]["id"].startswith("urn:uuid:")
    with work(services) as db:
        bound = bind_to_holder(db, services, plain["id"], VICTIM_DID, actor="test")
        assert bound.document["credentialSubject"]["id"] == VICTIM_DID


def test_an_issuer_reuses_the_did_it_named_and_its_newer_one(
    client: TestClient, services: Services
) -> None:
    """Single-issuer behaviour as before: a DID named once is the subject of the issuer's later
    badges without one; naming another replaces it, for this issuer only."""
    hrd = make_issuer(services, client, "hrd")
    other = make_issuer(services, client, "other")
    assert _issue(client, hrd, "hrd", VICTIM, VICTIM_DID)["credentialSubject"]["id"] == VICTIM_DID
    assert _issue(client, hrd, "hrd", VICTIM)["credentialSubject"]["id"] == VICTIM_DID
    stand_in = _issue(client, other, "other", VICTIM)["credentialSubject"]["id"]
    assert stand_in.startswith("urn:uuid:")
    assert _issue(client, hrd, "hrd", VICTIM, OWN_DID)["credentialSubject"]["id"] == OWN_DID
    assert _issue(client, hrd, "hrd", VICTIM)["credentialSubject"]["id"] == OWN_DID
    assert _issue(client, other, "other", VICTIM)["credentialSubject"]["id"] == stand_in


def test_bulk_names_subjects_as_single_issuing_does(client: TestClient, services: Services) -> None:
    evil = make_issuer(services, client, "evil")
    good = make_issuer(services, client, "good")
    _bulk(client, evil, "evil", [(VICTIM, ATTACKER_DID), ("b@example.org", ATTACKER_DID)])
    first = _bulk(client, good, "good", [(VICTIM, VICTIM_DID), ("b@example.org", None)])
    assert [row["status"] for row in first] == ["issued", "issued"]
    assert _subject(services, first[0]["id"]) == VICTIM_DID
    assert _subject(services, first[1]["id"]).startswith("urn:uuid:")
    again = _bulk(client, good, "good", [(VICTIM, None)])
    assert _subject(services, again[0]["id"]) == VICTIM_DID


def test_one_did_for_two_learners_of_one_issuer_is_a_clear_conflict(
    client: TestClient, services: Services
) -> None:
    """An issuer cannot name one DID for two people: 409 naming the DID, and in a bulk request
    the row that named it first; another issuer's use of the DID is no obstacle."""
    hrd = make_issuer(services, client, "hrd")
    evil = make_issuer(services, client, "evil")
    _issue(client, evil, "evil", "someone@example.org", VICTIM_DID)  # blocks nobody else
    _issue(client, hrd, "hrd", VICTIM, VICTIM_DID)
    answer = client.post(
        "/api/v1/issuers/hrd/credentials",
        json=issue_body("b@example.org", recipient={"email": "b@example.org", "did": VICTIM_DID}),
        headers=hrd,
    )
    assert answer.status_code == 409
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["detail"] == (f"the DID {VICTIM_DID} names another learner at this issuer")
    report = _bulk(
        client,
        hrd,
        "hrd",
        [("c@example.org", OWN_DID), ("d@example.org", OWN_DID), (VICTIM, VICTIM_DID)],
    )
    assert [row["status"] for row in report] == ["issued", "error", "issued"]
    assert report[1]["error"] == f"the DID {OWN_DID} names another learner in row 1"
    with Session(services.engine) as session:
        assert (
            session.exec(select(LearnerEmail).where(LearnerEmail.email == "d@example.org")).first()
            is None
        )


def test_the_learners_own_did_comes_before_the_issuers_and_is_kept(
    client: TestClient, services: Services
) -> None:
    """A DID the learner established herself is the subject when the request names none; a
    request that names another is this issuer's statement for this badge and changes hers not."""
    hrd = make_issuer(services, client, "hrd")
    _issue(client, hrd, "hrd", VICTIM, VICTIM_DID)
    with work(services) as db:
        learner_id = db.exec(
            select(LearnerEmail.learner_id).where(LearnerEmail.email == VICTIM)
        ).one()
        db.execute(
            update(table_of(Learner))
            .where(table_of(Learner).c.id == learner_id)
            .values(did=OWN_DID)
        )
    assert _issue(client, hrd, "hrd", VICTIM)["credentialSubject"]["id"] == OWN_DID
    named = _issue(client, hrd, "hrd", VICTIM, ATTACKER_DID)
    assert named["credentialSubject"]["id"] == ATTACKER_DID
    with Session(services.engine) as session:
        learner = session.get(Learner, learner_id)
        assert learner is not None and learner.did == OWN_DID
        assert learner.subject_id.startswith("urn:uuid:")


def test_migration_0017d_keeps_each_did_for_the_issuer_that_named_it(
    client: TestClient, services: Services
) -> None:
    """Records from before: the learner's DID (and subject id) came from the first issuer that
    named one. After the migration it is that issuer's DID for her, the learner's own DID and
    subject id are no longer it, and the issuers that only inherited it issue her stand-in id."""
    evil = make_issuer(services, client, "evil")
    good = make_issuer(services, client, "good")
    first = _issue(client, evil, "evil", VICTIM)
    later = _issue(client, good, "good", VICTIM)
    migrate(services.engine, "0016", down=True)
    with work(services) as db:  # as the code before wrote them: the first issuer's DID for all
        db.execute(text("UPDATE learner SET did = :did, subject_id = :did"), {"did": ATTACKER_DID})
        for document in (first, later):
            row = db.get(Credential, document["id"].removeprefix("urn:uuid:"))
            assert row is not None
            row.document = document | {
                "credentialSubject": document["credentialSubject"] | {"id": ATTACKER_DID}
            }
            db.add(row)
    migrate(services.engine)
    assert _issue(client, evil, "evil", VICTIM)["credentialSubject"]["id"] == ATTACKER_DID
    stand_in = _issue(client, good, "good", VICTIM)["credentialSubject"]["id"]
    assert stand_in.startswith("urn:uuid:")
    with Session(services.engine) as session:
        [learner] = session.exec(select(Learner)).all()
        assert learner.did is None and learner.subject_id == stand_in
    migrate(services.engine, "0016", down=True)
    migrate(services.engine)


def test_merged_learners_keep_each_issuers_did(client: TestClient, services: Services) -> None:
    """Two records of one person merge (``wallet.accounts.merge``): the issuers that named a DID
    for the one removed keep it, unless they named one for the one kept."""
    from issuer.wallet.accounts import merge

    hrd = make_issuer(services, client, "hrd")
    other = make_issuer(services, client, "other")
    _issue(client, hrd, "hrd", VICTIM, VICTIM_DID)
    _issue(client, hrd, "hrd", "b@example.org", ATTACKER_DID)
    _issue(client, other, "other", "b@example.org", OWN_DID)
    with work(services) as db:
        ids = dict(db.exec(select(LearnerEmail.email, LearnerEmail.learner_id)).all())
        merge(db, into=ids[VICTIM], other=ids["b@example.org"])
    assert _issue(client, hrd, "hrd", "b@example.org")["credentialSubject"]["id"] == VICTIM_DID
    assert _issue(client, other, "other", VICTIM)["credentialSubject"]["id"] == OWN_DID


def _remembered(services: Services) -> dict[str, str]:
    """The DIDs issuers named, by the learner's email."""
    with Session(services.engine) as session:
        emails = dict(session.exec(select(LearnerEmail.learner_id, LearnerEmail.email)).all())
        return {emails[row.learner_id]: row.did for row in session.exec(select(LearnerDid))}


def test_a_bulk_row_that_fails_at_signing_names_no_did(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (audit round 6): a row refused after its document was built (here its
    signature) left its DID as the one the issuer names for the learner, and a later row naming
    none named it. Only rows that are stored record a DID; a later row reads what an earlier
    stored row named."""
    hrd = make_issuer(services, client, "hrd")
    from issuer.crypto import signer_pool, signing

    real_submit, real_sign = signer_pool.submit, signing.sign_data_integrity

    def refused(documents: list[dict[str, Any]]) -> None:
        if any("Poison" in json.dumps(document) for document in documents):
            raise ValueError("not an IRI")

    def submit(documents: list[dict[str, Any]], key: Any, kid: str) -> Any:
        refused(documents)
        return real_submit(documents, key, kid)

    def sign(document: dict[str, Any], key: Any, kid: str) -> dict[str, Any]:
        refused([document])
        return real_sign(document, key, kid)

    monkeypatch.setattr(bulk, "submit", submit)
    monkeypatch.setattr(issuance, "sign_data_integrity", sign)
    body = [
        issue_body(VICTIM, recipient={"email": VICTIM, "did": VICTIM_DID}),
        issue_body(VICTIM, recipient={"email": VICTIM, "did": OWN_DID}, narrative="Poison"),
        issue_body(VICTIM, narrative="a third badge"),
    ]
    answer = client.post("/api/v1/issuers/hrd/credentials/bulk", json=body, headers=hrd)
    assert answer.status_code == 200, answer.text
    report = answer.json()["rows"]
    assert [row["status"] for row in report] == ["issued", "error", "issued"]
    assert _subject(services, report[0]["id"]) == VICTIM_DID
    assert _subject(services, report[2]["id"]) == VICTIM_DID
    assert _remembered(services) == {VICTIM: VICTIM_DID}
    assert _issue(client, hrd, "hrd", VICTIM)["credentialSubject"]["id"] == VICTIM_DID


def test_a_job_row_that_fails_at_store_names_no_did(client: TestClient, services: Services) -> None:
    """Regression (audit round 6, the auditor's reproducer): in a job a later step is prepared
    before the earlier one is stored, so a repeated idempotency key fails only when stored; that
    row's DID was remembered all the same. Each row fails alone (a DID another row of the job
    named for someone else too), records nothing, and a later row reads only stored rows."""
    hrd = make_issuer(services, client, "hrd")
    services.settings.bulk_step = 1
    rows = [
        issue_body(VICTIM, recipient={"email": VICTIM, "did": VICTIM_DID}, idempotencyKey="K"),
        issue_body(
            VICTIM,
            recipient={"email": VICTIM, "did": OWN_DID},
            idempotencyKey="K",
            narrative="a different request, the same key",
        ),
        issue_body(VICTIM, narrative="a third badge"),
        issue_body("b@example.org", recipient={"email": "b@example.org", "did": VICTIM_DID}),
        issue_body("b@example.org", narrative="b's second badge"),
    ]
    with work(services) as db:
        job_id = jobs.submit(db, services, "hrd", rows, "test").id
    assert jobs.run(services, job_id) == "done"
    with Session(services.engine) as session:
        done = {
            r.number: (r.status, r.credential_id, r.error)
            for r in session.exec(select(BulkJobRow).where(BulkJobRow.job_id == job_id))
        }
    assert [done[n][0] for n in range(1, 6)] == ["issued", "error", "issued", "error", "issued"]
    assert done[2][2] == "this idempotency key was used for a different request"
    assert done[4][2] == f"the DID {VICTIM_DID} names another learner at this issuer"
    assert _subject(services, str(done[1][1])) == VICTIM_DID
    assert _subject(services, str(done[3][1])) == VICTIM_DID
    assert _subject(services, str(done[5][1])).startswith("urn:uuid:")
    assert _remembered(services) == {VICTIM: VICTIM_DID}
    assert _issue(client, hrd, "hrd", VICTIM)["credentialSubject"]["id"] == VICTIM_DID
