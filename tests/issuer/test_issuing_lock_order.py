"""Every issuing path takes its locks in one order (``issuer.issuing.issuance``): a bulk job and
single issues for the same learner or DID finish without a deadlock (PostgreSQL, real
connections in threads).

Regression (audit round 6): a job kept its issuer's status list locked while it prepared its next
step, which takes learner-email locks (and took the ``learner_did`` index); a single issue that
had made that learner, or named that DID, then waited for the status list, and PostgreSQL broke
the cycle by failing one of them (a 503, or a failed job step)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.effects import work
from issuer.issuing import issuance, jobs, statuslists
from issuer.models import BulkJobRow
from issuer.schemas import IssueRequest
from tests.issuer.conftest import issue_body, make_issuer
from tests.units import issue

DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
GUARD = 60.0
"""Seconds after which a stuck test fails instead of hanging (never reached when it passes)."""


def _someone_waits_for_a_lock(services: Services) -> bool:
    with Session(services.engine) as session:
        waiting = session.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        ).scalar_one()
    return bool(waiting)


def _until(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` (a state of the database, not a length of time) until it holds."""
    give_up = time.monotonic() + GUARD
    while not condition():
        assert time.monotonic() < give_up, "the condition never held"
        time.sleep(0.01)


def _race(services: Services, single: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A single issue that pauses just before it allocates its status index (its learner made,
    its DID checked), while a job of ``rows`` (two rows a step) runs until it waits for a lock or
    is done; then the single issue goes on. What each of them came to."""
    services.settings.bulk_step = 2
    with work(services) as db:
        job_id = jobs.submit(db, services, "alpha", rows, "test").id
    paused, go, job_over = threading.Event(), threading.Event(), threading.Event()
    real_allocate = statuslists.allocate

    def allocate(session: Session, issuer_id: int, count: int = 1) -> list[tuple[int, int]]:
        if threading.current_thread().name == "single" and not paused.is_set():
            paused.set()
            assert go.wait(GUARD)
        return real_allocate(session, issuer_id, count)

    result: dict[str, Any] = {}

    def one() -> None:
        try:
            request = IssueRequest.model_validate(single)
            result["single"] = issue(services, "alpha", request, idempotency_key="single")
        except Exception as exc:
            result["single"] = exc

    def job() -> None:
        try:
            result["job"] = jobs.run(services, job_id)
        except Exception as exc:
            result["job"] = exc
        finally:
            job_over.set()

    issuance.statuslists.allocate = allocate  # type: ignore[attr-defined]
    try:
        single_thread = threading.Thread(target=one, name="single")
        single_thread.start()
        assert paused.wait(GUARD)
        job_thread = threading.Thread(target=job, name="job")
        job_thread.start()
        _until(lambda: job_over.is_set() or _someone_waits_for_a_lock(services))
        go.set()
        single_thread.join(GUARD)
        job_thread.join(GUARD)
    finally:
        go.set()
        issuance.statuslists.allocate = real_allocate  # type: ignore[attr-defined]
    with Session(services.engine) as session:
        result["rows"] = [
            (r.number, r.status, r.error)
            for r in session.exec(
                select(BulkJobRow)
                .where(BulkJobRow.job_id == job_id)
                .order_by(col(BulkJobRow.number))
            )
        ]
    return result


@pytest.fixture
def alpha(database_url: str, client: TestClient, services: Services) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite runs one writer at a time")
    make_issuer(services, client, "alpha")
    issue(services, "alpha", IssueRequest.model_validate(issue_body("first@example.org")))


def test_a_job_and_a_single_issue_for_a_new_learner_both_finish(
    alpha: None, services: Services
) -> None:
    """The single issue has made new@ and pauses before its status index; the job's second step
    names new@ and waits for that learner row — holding no status list, so both go on."""
    rows = [issue_body(f"r{n}@example.org") for n in range(2)]
    rows += [issue_body("new@example.org"), issue_body("r9@example.org")]
    result = _race(services, issue_body("new@example.org"), rows)
    assert isinstance(result["single"], issuance.Issued), result["single"]
    assert result["job"] == "done", result["job"]
    assert [status for _, status, _ in result["rows"]] == ["issued"] * 4


def test_a_job_and_a_single_issue_naming_one_did_both_finish(
    alpha: None, services: Services
) -> None:
    """The single issue names DID for x and pauses before its status index; the job names it
    for y. Neither waits for the other's status list: the first to store it has the DID, the
    other is that row's 409, and nothing else fails."""
    for email in ("x@example.org", "y@example.org"):
        issue(services, "alpha", IssueRequest.model_validate(issue_body(email)))
    rows = [issue_body(f"r{n}@example.org") for n in range(2)]
    rows += [
        issue_body("y@example.org", recipient={"email": "y@example.org", "did": DID}),
        issue_body("r9@example.org"),
    ]
    single = issue_body("x@example.org", recipient={"email": "x@example.org", "did": DID})
    result = _race(services, single, rows)
    assert result["job"] == "done", result["job"]
    statuses = [status for _, status, _ in result["rows"]]
    refused = f"the DID {DID} names another learner at this issuer"
    if isinstance(result["single"], issuance.Issued):
        assert statuses == ["issued", "issued", "error", "issued"]
        assert result["rows"][2][2] == refused
    else:
        assert getattr(result["single"], "detail", None) == refused, result["single"]
        assert statuses == ["issued"] * 4
