"""Bulk issuance in batches: parallel signing, duplicate keys within a file, and the per-row
fallback when a concurrent request takes an idempotency key mid-batch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from issuer.context import Services
from issuer.effects import work
from issuer.issuing import bulk, issuance
from issuer.models import Credential
from issuer.schemas import IssueRequest
from tests.issuer.conftest import ClientFetcher, issue_body, make_issuer
from verifier import Verdict, verify_credential


def test_large_bulk_is_signed_in_parallel_and_verifies(
    client: TestClient, services: Services, fetcher: ClientFetcher
) -> None:
    headers = make_issuer(services, client, "alpha")
    rows = [issue_body(f"learner{n}@example.org") for n in range(150)]
    response = client.post("/api/v1/issuers/alpha/credentials/bulk", json=rows, headers=headers)
    assert response.json()["summary"] == {"issued": 150, "already issued": 0, "error": 0}
    with Session(services.engine) as session:
        credentials = list(session.exec(select(Credential)))
    assert len({(c.status_list_id, c.status_index) for c in credentials}) == 150
    now = datetime.now(UTC) + timedelta(minutes=1)
    for credential in credentials[::50]:
        report = verify_credential(credential.document, now=now, fetcher=fetcher)
        assert report.verdict is Verdict.VERIFIED, report.to_dict()


def test_duplicate_keys_inside_one_file(client: TestClient, services: Services) -> None:
    headers = make_issuer(services, client, "alpha")
    rows = [
        issue_body("a@example.org", idempotencyKey="k1"),
        issue_body("b@example.org", idempotencyKey="k1"),
        issue_body("a@example.org"),
    ]
    rows.append(dict(rows[2]))
    report = client.post("/api/v1/issuers/alpha/credentials/bulk", json=rows, headers=headers)
    statuses = [(r["status"], r.get("error", "")) for r in report.json()["rows"]]
    assert statuses[0] == ("issued", "")
    assert statuses[1][0] == "error" and "row 1" in statuses[1][1]
    assert statuses[2] == ("issued", "")
    assert statuses[3][0] == "error" and "row 3" in statuses[3][1]


def test_race_on_a_key_falls_back_to_row_by_row(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Row 2's key is taken between screening and storing (what a concurrent request does on
    PostgreSQL; here within the unit of work, which SQLite's serialised writers also allow): the
    step falls back to one savepoint per row, and every other row still issues."""
    make_issuer(services, client, "alpha")
    rows = [issue_body(f"p{n}@example.org", idempotencyKey=f"k{n}") for n in range(3)]
    original = issuance.screen  # bulk's name for it is the one patched below

    def screen_then_race(session: Session, issuer: Any, todo: Any) -> Any:
        screened = original(session, issuer, todo)
        racer = IssueRequest.model_validate(rows[1])
        issuance.issue(session, services, "alpha", racer, idempotency_key="k1", actor="racer")
        return screened

    monkeypatch.setattr(bulk, "screen", screen_then_race)
    with work(services) as db:
        report = bulk.issue_rows(db, services, "alpha", rows, "test")
    assert [row["status"] for row in report["rows"]] == ["issued", "already issued", "issued"]
    with Session(services.engine) as session:
        assert len(list(session.exec(select(Credential)))) == 3
