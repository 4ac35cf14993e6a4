"""xAPI statements award badges once per statement; other verbs are ignored; malformed
requests are rejected whole."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from issuer.context import Services
from tests.issuer.conftest import make_issuer

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
