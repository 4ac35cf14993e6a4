"""Large bulk uploads are durable jobs: answered with 202 and a job, issued in steps by a worker,
readable at any time, resumable after a crash with nothing lost, duplicated or half-written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core import metrics
from issuer.core.audit import verify_chain
from issuer.issuing import bulk, issuance, jobs
from issuer.issuing.credentials import name_in
from issuer.models import AuditEntry, BulkJob, Credential, CredentialSkill
from issuer.models.base import utcnow
from tests.issuer.conftest import issue_body, make_issuer


def _rows(count: int, prefix: str = "learner") -> list[dict[str, Any]]:
    return [issue_body(f"{prefix}{n}@example.org") for n in range(count)]


def _submit(services: Services, rows: list[dict[str, Any]]) -> str:
    from issuer.effects import work

    with work(services) as db:
        return jobs.submit(db, services, "alpha", rows, "test").id


def _ledger(services: Services) -> tuple[int, int, int, int]:
    """(credentials, distinct idempotency keys, credentials without skill rows, audited ids)."""
    with Session(services.engine) as session:
        credentials = list(session.exec(select(Credential)))
        with_skills = set(session.exec(select(CredentialSkill.credential_id)))
        audited = {
            c["id"].removeprefix("urn:uuid:")
            for e in session.exec(select(AuditEntry).where(AuditEntry.action == "credential.issue"))
            for c in e.details["credentials"]
        }
    return (
        len(credentials),
        len({c.idempotency_key for c in credentials}),
        sum(1 for c in credentials if c.id not in with_skills),
        len(audited & {c.id for c in credentials}),
    )


def test_a_large_upload_becomes_a_job_with_a_paged_report(
    client: TestClient, services: Services
) -> None:
    headers = make_issuer(services, client, "alpha")
    rows = _rows(jobs.SYNC_ROWS + 40)
    rows[7] = {"recipient": {"email": "not an email"}, "achievement": "leading-people"}
    rows[280] = issue_body("x@example.org", achievement="no-such-course")
    answer = client.post("/api/v1/issuers/alpha/credentials/bulk", json=rows, headers=headers)
    assert answer.status_code == 202, answer.text
    location = answer.headers["Location"]
    assert location == f"/api/v1/issuers/alpha/jobs/{answer.json()['id']}"
    job = client.get(location, headers=headers).json()
    assert job["status"] == "done" and job["total"] == len(rows) == job["processed"]
    assert job["summary"] == {"issued": len(rows) - 2, "already issued": 0, "error": 2}
    report = {r["row"]: r for r in job["rows"]}
    assert report[8]["status"] == "error" and "email" in report[8]["error"]
    assert report[281]["status"] == "error" and "no-such-course" in report[281]["error"]
    assert report[1]["id"].startswith("urn:uuid:")
    page = client.get(f"{location}?offset=0&limit=100", headers=headers).json()
    assert len(page["rows"]) == 100 and page["next"] == f"{location}?offset=100&limit=100"
    last = client.get(f"{location}?offset=200&limit=100", headers=headers).json()
    assert [r["row"] for r in last["rows"]] == list(range(201, len(rows) + 1))
    assert "next" not in last
    # uploading the same file again issues nothing twice
    again = client.post("/api/v1/issuers/alpha/credentials/bulk", json=rows, headers=headers)
    repeated = client.get(again.headers["Location"], headers=headers).json()
    assert repeated["summary"] == {"issued": 0, "already issued": len(rows) - 2, "error": 2}


def test_small_uploads_are_answered_at_once_unless_asked_otherwise(
    client: TestClient, services: Services
) -> None:
    headers = make_issuer(services, client, "alpha")
    direct = client.post("/api/v1/issuers/alpha/credentials/bulk", json=_rows(3), headers=headers)
    assert direct.status_code == 200 and direct.json()["summary"]["issued"] == 3
    queued = client.post(
        "/api/v1/issuers/alpha/credentials/bulk",
        json=_rows(3, "async"),
        headers={**headers, "Prefer": "respond-async"},
    )
    assert queued.status_code == 202
    assert client.get(queued.headers["Location"], headers=headers).json()["status"] == "done"


def test_jobs_belong_to_their_issuer(client: TestClient, services: Services) -> None:
    alpha = make_issuer(services, client, "alpha")
    beta = make_issuer(services, client, "beta")
    queued = client.post(
        "/api/v1/issuers/alpha/credentials/bulk",
        json=_rows(2),
        headers={**alpha, "Prefer": "respond-async"},
    )
    job_id = queued.json()["id"]
    assert client.get(f"/api/v1/issuers/beta/jobs/{job_id}", headers=beta).status_code == 404
    assert client.get(f"/api/v1/issuers/alpha/jobs/{job_id}", headers=beta).status_code == 404
    assert client.get("/api/v1/issuers/alpha/jobs/nope", headers=alpha).status_code == 404


def test_a_row_that_cannot_be_signed_fails_alone(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One document the signer refuses fails its row; the step is signed row by row (counted
    as a fallback) and every other row is issued."""
    headers = make_issuer(services, client, "alpha")
    from issuer.crypto import signer_pool

    real_submit, real_inline = signer_pool.submit, issuance.inline_signer

    def poisoned(documents: list[dict[str, Any]]) -> None:
        for document in documents:
            if "Poison" in json.dumps(document):
                raise ValueError("not an IRI")

    def submit(documents: list[dict[str, Any]], key: Any, kid: str) -> Any:
        poisoned(documents)
        return real_submit(documents, key, kid)

    def inline(session: Any, services: Any, issuer: Any) -> Any:
        sign = real_inline(session, services, issuer)

        def signing(documents: list[dict[str, Any]]) -> Any:
            poisoned(documents)
            return sign(documents)

        return signing

    monkeypatch.setattr(bulk, "submit", submit)
    monkeypatch.setattr(issuance, "inline_signer", inline)
    monkeypatch.setattr(bulk, "inline_signer", inline)
    before = metrics.FALLBACKS.labels("bulk_signing")._value.get()
    rows = _rows(jobs.SYNC_ROWS + 10)
    rows[5]["recipient"]["name"] = "Poison"
    answer = client.post("/api/v1/issuers/alpha/credentials/bulk", json=rows, headers=headers)
    job = client.get(answer.headers["Location"], headers=headers).json()
    assert job["summary"] == {"issued": len(rows) - 1, "already issued": 0, "error": 1}
    [failed] = [r for r in job["rows"] if r["status"] == "error"]
    assert failed["row"] == 6 and "not an IRI" in failed["error"]
    assert metrics.FALLBACKS.labels("bulk_signing")._value.get() == before + 1


def test_a_crashed_job_resumes_with_nothing_lost_or_doubled(
    services: Services, client: TestClient
) -> None:
    """A worker dies after its second step (its lease still held, as after kill -9); once the
    lease has run out, another worker finishes the job: every row issued exactly once, each
    credential with its skills and audit entry, the audit chain intact."""
    make_issuer(services, client, "alpha")
    services.settings.bulk_step = 20
    rows = _rows(130)
    rows[50]["idempotencyKey"] = "explicit-key"
    job_id = _submit(services, rows)

    class Killed(BaseException):
        pass

    def die_after_two(job: str, done: int) -> None:
        if done >= 40:
            raise Killed

    real_release = jobs._release
    jobs._release = lambda *args: None  # a killed process releases nothing
    try:
        with pytest.raises(Killed):
            jobs.run(services, job_id, owner="first", on_step=die_after_two)
    finally:
        jobs._release = real_release
    with Session(services.engine) as session:
        job = session.get(BulkJob, job_id)
        assert job is not None and job.status == "running" and job.issued == 40
    assert jobs.run(services, job_id, owner="second") == "busy"  # the lease still holds
    with Session(services.engine) as session:  # ... until it runs out
        session.execute(
            update(BulkJob).where(col(BulkJob.id) == job_id).values(lease_until=utcnow())
        )
        session.commit()
        assert jobs.resumable(session) == [job_id]
    assert jobs.run(services, job_id, owner="second") == "done"
    with Session(services.engine) as session:
        job = session.get(BulkJob, job_id)
        assert job is not None
        assert (job.status, job.issued, job.errors, job.runs) == ("done", 130, 0, 2)
        assert verify_chain(session)[1] is None
    assert _ledger(services) == (130, 130, 0, 130)


def test_a_worker_that_lost_its_lease_commits_nothing(
    services: Services, client: TestClient
) -> None:
    """A worker that hung past its lease, while another took the job over, cannot commit its
    step: the step is rolled back and the new owner issues those rows."""
    make_issuer(services, client, "alpha")
    services.settings.bulk_step = 20
    job_id = _submit(services, _rows(60))

    def taken_over(job: str, done: int) -> None:
        with Session(services.engine) as session:
            session.execute(
                update(BulkJob).where(col(BulkJob.id) == job).values(lease_owner="thief")
            )
            session.commit()

    assert jobs.run(services, job_id, owner="slow", on_step=taken_over) == "lost"
    with Session(services.engine) as session:
        assert session.exec(select(func.count()).select_from(Credential)).one() == 20
        session.execute(
            update(BulkJob).where(col(BulkJob.id) == job_id).values(lease_until=utcnow())
        )
        session.commit()
    assert jobs.run(services, job_id, owner="next") == "done"
    assert _ledger(services) == (60, 60, 0, 60)


def test_a_jobs_new_learners_and_row_outcomes_are_stored_as_given(
    client: TestClient, services: Services
) -> None:
    """A step's new learners (a name or none) and its rows' outcomes are written in one
    statement each on PostgreSQL, row by row on SQLite: the same records either way. A DID a row
    names is the issuer's, not the learner record's (``issuer.people.dids``)."""
    from issuer.models import BulkJobRow, Learner, LearnerDid, LearnerEmail

    headers = make_issuer(services, client, "alpha")
    rows = _rows(jobs.SYNC_ROWS + 10, prefix="cohort")
    rows[3]["recipient"].pop("name")
    rows[4]["recipient"]["did"] = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    rows[5]["recipient"]["name"] = "Ünïcode 名前 ‘quoted’"
    rows[9] = issue_body("bad@example.org", achievement="no-such-course")
    answer = client.post("/api/v1/issuers/alpha/credentials/bulk", json=rows, headers=headers)
    job_id = answer.json()["id"]
    with Session(services.engine) as session:
        stored = {
            r.number: r for r in session.exec(select(BulkJobRow).where(BulkJobRow.job_id == job_id))
        }
        learners = {
            email: learner
            for email, learner in session.exec(
                select(LearnerEmail.email, Learner).where(
                    col(LearnerEmail.learner_id) == col(Learner.id)
                )
            )
        }
        credentials = {c.id: c for c in session.exec(select(Credential))}
        named = {(d.learner_id, d.did) for d in session.exec(select(LearnerDid))}
    assert len(stored) == len(rows)
    for number, row in stored.items():
        if number == 10:
            assert (row.status, row.credential_id) == ("error", None)
            assert row.error is not None and "no-such-course" in row.error
            continue
        assert row.status == "issued" and row.error is None
        email = rows[number - 1]["recipient"]["email"]
        learner = learners[email]
        assert row.credential_id is not None
        assert credentials[row.credential_id].learner_id == learner.id
        assert learner.name is None  # the name is the issuer's (its credential's), not hers
        signed = name_in(credentials[row.credential_id].document)
        assert signed == rows[number - 1]["recipient"].get("name")
        assert learner.did is None
        assert learner.created_at.tzinfo is not None
        assert abs((utcnow() - learner.created_at).total_seconds()) < 3600
        assert learner.subject_id.startswith("urn:uuid:")
        did = rows[number - 1]["recipient"].get("did")
        subject = credentials[row.credential_id].document["credentialSubject"]["id"]
        assert subject == (did or learner.subject_id)
    assert named == {(learners[rows[4]["recipient"]["email"]].id, rows[4]["recipient"]["did"])}
    assert len({learner.subject_id for learner in learners.values()}) == len(rows) - 1


def test_a_steps_row_update_reads_only_the_steps_rows(
    client: TestClient, services: Services, database_url: str
) -> None:
    """PostgreSQL: the update of a step's 1,000 rows in a job of 60,000 finds them through the
    primary key, not by reading every row of the job (it did, once: ~45 ms a step at 100,000
    rows, so a large upload slowed down as it went)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's plan")
    from sqlalchemy import text

    make_issuer(services, client, "alpha")
    request = json.dumps(issue_body("someone@example.org"))
    with Session(services.engine) as session:
        session.execute(
            text(
                "INSERT INTO bulk_job (id, issuer_id, actor, status, total, issued, already, "
                "errors, created_at, updated_at, runs) SELECT 'big', id, 'test', 'running', "
                "60000, 0, 0, 0, now(), now(), 1 FROM issuer WHERE slug = 'alpha'"
            )
        )
        session.execute(
            text(
                "INSERT INTO bulk_job_row (job_id, number, request, status) "
                "SELECT 'big', n, CAST(:request AS json), 'pending' "
                "FROM generate_series(1, 60000) AS n"
            ),
            {"request": request},
        )
        session.execute(text("ANALYZE bulk_job_row"))
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        numbers = list(range(30001, 31001))
        plan = session.execute(
            text("EXPLAIN (FORMAT JSON) " + str(jobs._SET_ROWS_POSTGRES.text)),
            {
                "j": "big",
                "first": numbers[0],
                "last": numbers[-1],
                "n": numbers,
                "s": ["issued"] * 1000,
                "c": [None] * 1000,
                "e": [None] * 1000,
            },
        ).scalar_one()
        session.rollback()
    scans = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("Relation Name") == "bulk_job_row":
            scans.append(node["Node Type"])
        for child in node.get("Plans", []):
            walk(child)

    walk((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"])
    assert scans and "Seq Scan" not in scans, scans
