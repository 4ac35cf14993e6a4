"""xAPI statements award badges once per statement; other verbs are ignored; malformed
requests are rejected whole."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from issuer.context import Services
from tests.issuer.conftest import make_issuer
from tests.units import create_api_key

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"


def _statement(
    verb: str = COMPLETED,
    activity: str = "https://lms.example.org/c/leading-people",
    email: str = "kim@example.org",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"mbox": f"mailto:{email}", "name": "Kim"},
        "verb": {"id": verb},
        "object": {"id": activity},
        **extra,
    }


def test_statements_award_badges_once(client: TestClient, services: Services) -> None:
    headers = make_issuer(services, client, "hrd")
    passed = _statement(
        "http://adlnet.gov/expapi/verbs/passed",
        "https://laurel.test/issuers/hrd/achievements/leading-people",
        "lee@example.org",
    )
    statements = [
        _statement(),
        passed,
        _statement("http://adlnet.gov/expapi/verbs/attempted"),
        _statement(activity="https://lms.example.org/c/unknown-course"),
    ]
    answer = client.post("/api/v1/issuers/hrd/xapi/statements", json=statements, headers=headers)
    assert answer.status_code == 200, answer.text
    assert [s["status"] for s in answer.json()["statements"]] == [
        "issued",
        "issued",
        "ignored",
        "ignored",
    ]
    again = client.post("/api/v1/issuers/hrd/xapi/statements", json=statements[0], headers=headers)
    assert again.json()["statements"][0]["status"] == "already issued"
    listed = client.get("/api/v1/issuers/hrd/credentials", headers=headers).json()
    assert listed["total"] == 2


def test_malformed_statements_reject_the_request(client: TestClient, services: Services) -> None:
    headers = make_issuer(services, client, "hrd")
    bad = [_statement(), {"actor": {"mbox": "kim@example.org"}, "verb": {}, "object": {}}]
    answer = client.post("/api/v1/issuers/hrd/xapi/statements", json=bad, headers=headers)
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "mailto" in answer.json()["detail"] and "verb.id" in answer.json()["detail"]
    assert client.get("/api/v1/issuers/hrd/credentials", headers=headers).json()["total"] == 0
    garbage = client.post(
        "/api/v1/issuers/hrd/xapi/statements",
        content=b"{nope",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert garbage.status_code == 400


def test_the_statement_time_dates_the_badge_and_voiding_revokes_it(
    client: TestClient, services: Services
) -> None:
    """The hours of learning done on 30 December 2025 count for 2025 even when the statement
    arrives in January; voiding that statement revokes its badge (once)."""
    headers = make_issuer(services, client, "hrd")
    late = _statement(timestamp="2025-12-30T16:00:00+09:00")
    answer = client.post("/api/v1/issuers/hrd/xapi/statements", json=late, headers=headers)
    [issued] = answer.json()["statements"]
    assert issued["status"] == "issued", issued
    badge = client.get(f"/api/v1/credentials/{issued['id']}", headers=headers).json()
    assert badge["validFrom"] == "2025-12-30T07:00:00Z"
    hours = client.get("/api/v1/issuers/hrd/hours?year=2025", headers=headers).json()
    assert [row["email"] for row in hours["learners"]] == ["kim@example.org"]

    void: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": {"account": {"homePage": "https://lms.example.org", "name": "admin"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": late["id"]},
    }
    voided = client.post("/api/v1/issuers/hrd/xapi/statements", json=void, headers=headers)
    assert voided.status_code == 200, voided.text
    assert voided.json()["statements"][0] == {
        "statement": void["id"],
        "status": "revoked",
        "id": issued["id"],
    }
    again = client.post("/api/v1/issuers/hrd/xapi/statements", json=void, headers=headers)
    assert again.json()["statements"][0]["status"] == "already revoked"
    listed = client.get("/api/v1/issuers/hrd/credentials", headers=headers).json()
    [row] = listed["credentials"]
    assert row["status"] == "revoked"
    assert row["revocationReason"] == f"xAPI statement {late['id']} was voided"
    elsewhere = {**void["object"], "id": str(uuid.uuid4())}
    unknown = {**void, "id": str(uuid.uuid4()), "object": elsewhere}
    ignored = client.post("/api/v1/issuers/hrd/xapi/statements", json=unknown, headers=headers)
    assert ignored.json()["statements"][0]["status"] == "ignored"


def test_voiding_needs_a_key_that_may_revoke(client: TestClient, services: Services) -> None:
    """An ``issue``-only key (an LMS's) cannot revoke through a ``voided`` statement what it
    could not revoke through the API (audit round 9: the statement id is on the badge's page)."""
    admin = make_issuer(services, client, "hrd")
    lms = {"Authorization": f"Bearer {create_api_key(services, 'hrd', ['issue'])}"}
    awarded = _statement()
    answer = client.post("/api/v1/issuers/hrd/xapi/statements", json=awarded, headers=lms)
    [issued] = answer.json()["statements"]
    assert issued["status"] == "issued", issued
    refused = client.post(
        f"/api/v1/credentials/{issued['id']}/revoke", json={"reason": "x"}, headers=lms
    )
    assert refused.status_code == 403
    void: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": {"mbox": "mailto:lms@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": awarded["id"]},
    }
    voided = client.post("/api/v1/issuers/hrd/xapi/statements", json=void, headers=lms)
    assert voided.status_code == 200, voided.text
    [entry] = voided.json()["statements"]
    assert entry["status"] == "error" and "lacks the 'revoke' scope" in entry["error"]
    badge = client.get(f"/api/v1/credentials/{issued['id']}", headers=admin)
    assert badge.status_code == 200 and "revoked" not in badge.json().get("status", "")
    listed = client.get("/api/v1/issuers/hrd/credentials", headers=admin).json()
    assert [row["status"] for row in listed["credentials"]] == ["active"]


def test_bad_timestamps_and_void_targets_reject_the_request(
    client: TestClient, services: Services
) -> None:
    headers = make_issuer(services, client, "hrd")
    for bad in (
        _statement(timestamp="yesterday"),
        _statement(timestamp="2025-12-30T16:00:00"),  # no zone
        {**_statement(), "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"}},
    ):
        answer = client.post("/api/v1/issuers/hrd/xapi/statements", json=bad, headers=headers)
        assert answer.status_code == 400, answer.text
    assert client.get("/api/v1/issuers/hrd/credentials", headers=headers).json()["total"] == 0
