"""The skills cloud a year ago and now, per group (department), the pre-scaled weights behind
the database sums, and the migrations that fill the skill rows of existing credentials."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from issuer.context import Services
from issuer.core.db import migrate
from issuer.skills.weights import decay, recency, scaled_weight
from tests.issuer.conftest import issue_body, make_issuer

NOW = datetime.now(UTC)


def _when(days: int) -> str:
    return (NOW - timedelta(days=days)).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _cloud(client: TestClient, headers: dict[str, str], **params: str) -> dict[str, dict[str, Any]]:
    response = client.get("/api/v1/issuers/hrd/skills", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return {s["code"]: s for s in response.json()["skills"]}


def _issue(client: TestClient, headers: dict[str, str], email: str, **extra: object) -> str:
    response = client.post(
        "/api/v1/issuers/hrd/credentials", json=issue_body(email, **extra), headers=headers
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@given(
    st.floats(0.1, 10),
    st.datetimes(datetime(2000, 1, 1), datetime(2090, 1, 1)),
    st.integers(0, 20_000),
)
def test_scaled_weights_sum_to_recency_weights(base: float, issued: datetime, age: int) -> None:
    issued = issued.replace(tzinfo=UTC)
    now = issued + timedelta(days=age)
    expected = base * recency(issued, now)
    assert math.isclose(scaled_weight(base, issued) * decay(now), expected, rel_tol=1e-9)


def test_cloud_now_and_a_year_ago(client: TestClient, services: Services) -> None:
    headers = make_issuer(services, client, "hrd")
    _issue(client, headers, "old@example.org", validFrom=_when(700))  # valid then and now
    _issue(client, headers, "new@example.org", validFrom=_when(60))  # only now
    _issue(  # expired half a year ago: only then
        client, headers, "lapsed@example.org", validFrom=_when(700), validUntil=_when(180)
    )
    revoked = _issue(client, headers, "revoked@example.org", validFrom=_when(700))
    client.post(f"/api/v1/credentials/{revoked}/revoke", json={"reason": "x"}, headers=headers)
    skill = _cloud(client, headers)["ECQ2-4"]
    assert skill["learners"] == 2  # old, new
    assert skill["yearAgo"]["learners"] == 3  # old, lapsed, revoked (revoked only today)
    assert skill["change"]["learners"] == -1
    assert math.isclose(
        skill["change"]["weight"], skill["weight"] - skill["yearAgo"]["weight"], abs_tol=2e-3
    )
    # the newest badge weighs more than one issued two years ago (a two-year half-life)
    assert skill["weight"] > 1.4 * skill["yearAgo"]["weight"] / 3


def test_groups_from_issuance_csv_and_roster(client: TestClient, services: Services) -> None:
    headers = make_issuer(services, client, "hrd")
    _issue(
        client,
        headers,
        "a@example.org",
        recipient={"email": "a@example.org", "groups": ["Finance", "Seoul office"]},
    )
    csv = "email,achievement,groups\nb@example.org,leading-people,Finance;  Audit \n"
    report = client.post(
        "/api/v1/issuers/hrd/credentials/bulk",
        content=csv,
        headers={**headers, "Content-Type": "text/csv"},
    ).json()
    assert report["rows"][0]["status"] == "issued", report
    _issue(client, headers, "c@example.org")
    listed = client.get("/api/v1/issuers/hrd/groups", headers=headers).json()["groups"]
    assert listed == [
        {"name": "Audit", "learners": 1},
        {"name": "Finance", "learners": 2},
        {"name": "Seoul office", "learners": 1},
    ]
    assert _cloud(client, headers)["ECQ2-4"]["learners"] == 3
    assert _cloud(client, headers, group="Finance")["ECQ2-4"]["learners"] == 2
    assert _cloud(client, headers, group="Audit")["ECQ2-4"]["learners"] == 1

    roster = client.put(
        "/api/v1/issuers/hrd/groups/Finance",
        json={"emails": ["C@example.org", "newcomer@example.org"]},
        headers=headers,
    )
    assert roster.json() == {"name": "Finance", "learners": 2}
    assert _cloud(client, headers, group="Finance")["ECQ2-4"]["learners"] == 1  # c only
    picture = client.get(
        "/api/v1/issuers/hrd/skills.svg", params={"group": "Finance"}, headers=headers
    )
    assert picture.status_code == 200 and b"Team Building" in picture.content

    unknown = client.get("/api/v1/issuers/hrd/skills", params={"group": "HR"}, headers=headers)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    bad = client.put("/api/v1/issuers/hrd/groups/x", json={"emails": ["nope"]}, headers=headers)
    assert bad.status_code == 400 and "not an email" in bad.json()["detail"]
    assert client.delete("/api/v1/issuers/hrd/groups/Audit", headers=headers).status_code == 204
    assert client.delete("/api/v1/issuers/hrd/groups/Audit", headers=headers).status_code == 404
    too_many = issue_body("d@example.org")
    too_many["recipient"]["groups"] = ["x" * 101]
    rejected = client.post("/api/v1/issuers/hrd/credentials", json=too_many, headers=headers)
    assert rejected.status_code == 422


def test_groups_do_not_change_what_an_idempotency_key_stands_for(
    client: TestClient, services: Services
) -> None:
    headers = make_issuer(services, client, "hrd")
    keyed = {**headers, "Idempotency-Key": "enrolment-1"}
    body = issue_body("a@example.org")
    first = client.post("/api/v1/issuers/hrd/credentials", json=body, headers=keyed)
    body["recipient"]["groups"] = ["Finance"]
    again = client.post("/api/v1/issuers/hrd/credentials", json=body, headers=keyed)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]


def test_migrations_fill_skill_rows_of_existing_credentials(
    client: TestClient, services: Services
) -> None:
    headers = make_issuer(services, client, "hrd")
    _issue(client, headers, "a@example.org", validFrom=_when(400))
    _issue(client, headers, "b@example.org", validFrom=_when(700), validUntil=_when(100))
    revoked = _issue(client, headers, "c@example.org")
    client.post(f"/api/v1/credentials/{revoked}/revoke", json={"reason": "x"}, headers=headers)
    before = _cloud(client, headers)
    migrate(services.engine, "0001", down=True)  # no skill rows at all
    migrate(services.engine)  # 0002 reads them from the documents, 0003 adds validity
    after = _cloud(client, headers)
    assert after.keys() == before.keys()
    for code, skill in before.items():
        assert after[code]["learners"] == skill["learners"]
        assert after[code]["yearAgo"] == skill["yearAgo"]
        assert math.isclose(after[code]["weight"], skill["weight"], abs_tol=2e-3)
