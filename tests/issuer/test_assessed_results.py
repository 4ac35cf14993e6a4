"""Assessed results Laurel issues itself (docs/skills.md, "Assessed results"): an achievement
created over the API with OB 3.0 ``resultDescription`` entries, credentials issued with results
that point at them, checked at issuance, conforming to the official OB 3.0 schema, verified, and
turned into a proficiency level by the skills picture — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema_rs
from fastapi.testclient import TestClient

from issuer.context import Services
from tests.issuer.conftest import BASE_URL, ClientFetcher
from tests.units import create_api_key, create_issuer, load_templates
from verifier import Verdict, verify_credential

OFFICIAL_SCHEMA = Path("/work/shared/spec/schemas/achievementcredential.json")
if not OFFICIAL_SCHEMA.exists():  # the copy the verifier bundles
    OFFICIAL_SCHEMA = Path("verifier/schemas/achievementcredential.json")

ECQ = {
    "targetName": "Managing Conflict",
    "targetUrl": f"{BASE_URL}/frameworks/ecq/ECQ2-1",
    "targetCode": "ECQ2-1",
    "targetFramework": "Executive Core Qualifications",
    "targetType": "ceasn:Competency",
}
RUBRIC = {
    "id": "urn:laurel:test:rubric",
    "name": "Conflict handling",
    "resultType": "RubricCriterionLevel",
    "rubricCriterionLevel": [
        {"id": f"urn:laurel:test:level:{n}", "name": f"Level {n}", "level": str(n)}
        for n in range(1, 5)
    ],
    "alignment": [ECQ],
}
SCORE = {
    "id": "urn:laurel:test:score",
    "name": "Final test",
    "resultType": "RawScore",
    "valueMin": "0",
    "valueMax": "100",
}
GRADE = {"name": "Grade", "resultType": "LetterGrade", "allowedValue": ["A", "B", "C"]}
STATUS = {"id": "urn:laurel:test:status", "name": "Attendance", "resultType": "Status"}
ACHIEVEMENT = {
    "key": "assessed-conflict",
    "name": "Managing Conflict, assessed",
    "description": "A workshop on managing conflict, with an assessment.",
    "criteria": "Take part and be assessed against the rubric.",
    "achievementType": "Assessment",
    "creditsAvailable": 16,
    "alignments": [ECQ],
    "resultDescriptions": [RUBRIC, SCORE, GRADE, STATUS],
}


def _setup(client: TestClient, services: Services) -> tuple[dict[str, str], dict[str, Any]]:
    create_issuer(services, slug="hrd", name="HRD", url="https://hrd.example.org")
    load_templates(services, "hrd")
    headers = {"Authorization": f"Bearer {create_api_key(services, 'hrd', ['admin'])}"}
    response = client.post("/api/v1/issuers/hrd/achievements", json=ACHIEVEMENT, headers=headers)
    assert response.status_code == 201, response.text
    return headers, dict(response.json())


def _issue(
    client: TestClient, headers: dict[str, str], email: str, results: list[dict[str, Any]]
) -> Any:
    body = {"recipient": {"email": email}, "achievement": "assessed-conflict", "results": results}
    return client.post("/api/v1/issuers/hrd/credentials", json=body, headers=headers)


def _explain(client: TestClient, headers: dict[str, str], email: str) -> dict[str, Any]:
    params = {"email": email, "skill": "ecq:ECQ2-1"}
    response = client.get("/api/v1/issuers/hrd/skills/explain", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_the_achievement_carries_ob_result_descriptions(
    client: TestClient, services: Services
) -> None:
    _headers, achievement = _setup(client, services)
    rubric, score, grade, _status = achievement["resultDescription"]
    assert rubric["type"] == ["ResultDescription"] and rubric["id"] == RUBRIC["id"]
    assert [lv["type"] for lv in rubric["rubricCriterionLevel"]] == [["RubricCriterionLevel"]] * 4
    assert rubric["alignment"][0]["type"] == ["Alignment"]
    assert score == {**SCORE, "type": ["ResultDescription"]}
    assert grade["id"].startswith("urn:uuid:") and grade["allowedValue"] == ["A", "B", "C"]


def test_an_issued_rubric_level_and_score_set_proficiency(
    client: TestClient, services: Services, fetcher: ClientFetcher
) -> None:
    headers, _ = _setup(client, services)
    third = RUBRIC["rubricCriterionLevel"][2]["id"]  # type: ignore[index]
    response = _issue(
        client,
        headers,
        "kim@example.org",
        [{"resultDescription": RUBRIC["id"], "achievedLevel": third, "status": "Completed"}],
    )
    assert response.status_code == 201, response.text
    credential = response.json()
    result = credential["credentialSubject"]["result"]
    assert result == [
        {
            "type": ["Result"],
            "resultDescription": RUBRIC["id"],
            "achievedLevel": third,
            "status": "Completed",
        }
    ]
    official = jsonschema_rs.Draft201909Validator(json.loads(OFFICIAL_SCHEMA.read_text("utf-8")))
    assert official.is_valid(credential), list(official.iter_errors(credential))[:3]
    now = datetime.now(UTC) + timedelta(minutes=1)
    report = verify_credential(credential, now=now, fetcher=fetcher, email="kim@example.org")
    assert report.verdict is Verdict.VERIFIED, report.to_dict()

    # the third of four levels: p = 2/3, level 1 + round(4 × 2/3) = 1 + round(2.67) = 4;
    # the evidence alone (16 h) is level 1
    explained = _explain(client, headers, "kim@example.org")
    assert explained["basis"] == "assessed" and explained["level"] == 4
    assert explained["assessedLevel"] == 4 and explained["evidenceLevel"] == 1
    gap = client.get(
        "/api/v1/issuers/hrd/gaps",
        params={"email": "kim@example.org", "target": "grade-4"},
        headers=headers,
    ).json()
    conflict = next(item for item in gap["levels"] if item["code"] == "ECQ2-1")
    assert conflict == {**conflict, "level": 4, "basis": "assessed"}

    # RawScore 0..100, 80: p = 0.8, level 1 + round(3.2) = 4 (the score aligns to no skill, so it
    # applies to every skill of the badge); 25: p = 0.25, level 1 + round(1) = 2
    for email, value, level in (("lee@example.org", "80", 4), ("park@example.org", "25", 2)):
        response = _issue(
            client, headers, email, [{"resultDescription": SCORE["id"], "value": value}]
        )
        assert response.status_code == 201, response.text
        explained = _explain(client, headers, email)
        assert explained["basis"] == "assessed" and explained["level"] == level, explained

    # no result: the evidence only
    assert _issue(client, headers, "choi@example.org", []).status_code == 201
    assert _explain(client, headers, "choi@example.org")["basis"] == "evidence"


def test_results_that_do_not_fit_the_achievement_are_refused(
    client: TestClient, services: Services
) -> None:
    headers, achievement = _setup(client, services)
    grade = achievement["resultDescription"][2]["id"]
    refused: list[tuple[dict[str, Any], str]] = [
        ({"resultDescription": "urn:laurel:test:other", "value": "1"}, "no resultDescription"),
        (
            {"resultDescription": RUBRIC["id"], "achievedLevel": "urn:laurel:test:level:9"},
            "not a rubric level",
        ),
        ({"resultDescription": SCORE["id"], "value": "101"}, "outside 0..100"),
        ({"resultDescription": SCORE["id"], "value": "-1"}, "outside 0..100"),
        ({"resultDescription": grade, "value": "F"}, "not an allowed value"),
        ({"resultDescription": STATUS["id"]}, "needs a status"),
    ]
    for result, message in refused:
        response = _issue(client, headers, "kim@example.org", [result])
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert message in response.json()["detail"], response.json()
    unanchored = _issue(client, headers, "kim@example.org", [{"achievedLevel": "urn:x:1"}])
    assert unanchored.status_code == 422
    assert unanchored.headers["content-type"] == "application/problem+json"
    listed = client.get("/api/v1/issuers/hrd/credentials", headers=headers).json()
    assert listed["total"] == 0  # nothing was issued

    rows = [
        {
            "recipient": {"email": "a@example.org"},
            "achievement": "assessed-conflict",
            "results": [
                {"resultDescription": grade, "value": "B"},
                {"resultDescription": STATUS["id"], "status": "Completed"},
            ],
        },
        {
            "recipient": {"email": "b@example.org"},
            "achievement": "assessed-conflict",
            "results": [{"resultDescription": SCORE["id"], "value": "150"}],
        },
    ]
    report = client.post("/api/v1/issuers/hrd/credentials/bulk", json=rows, headers=headers)
    assert report.status_code == 200, report.text
    assert [row["status"] for row in report.json()["rows"]] == ["issued", "error"]
    assert "outside 0..100" in report.json()["rows"][1]["error"]

    level = RUBRIC["rubricCriterionLevel"][0]["id"]  # type: ignore[index]
    csv = (
        "email,achievement,resultDescription,achievedLevel,resultValue\n"
        f"c@example.org,assessed-conflict,{RUBRIC['id']},{level},\n"
        f"d@example.org,assessed-conflict,{RUBRIC['id']},urn:laurel:test:level:0,\n"
        f"e@example.org,assessed-conflict,{SCORE['id']},,abc\n"
    ).encode()
    report = client.post(
        "/api/v1/issuers/hrd/credentials/bulk",
        content=csv,
        headers={**headers, "Content-Type": "text/csv"},
    )
    assert report.status_code == 200, report.text
    rows_out = report.json()["rows"]
    assert [row["status"] for row in rows_out] == ["issued", "error", "error"], rows_out
    assert "not a rubric level" in rows_out[1]["error"]
    assert "scored with a number" in rows_out[2]["error"]
    listed = client.get("/api/v1/issuers/hrd/credentials", headers=headers).json()
    assert listed["total"] == 2  # a and c: no half-issued row


def test_result_descriptions_are_validated(client: TestClient, services: Services) -> None:
    headers, _ = _setup(client, services)
    same_level = {
        **RUBRIC,
        "rubricCriterionLevel": [{"id": "urn:l:1", "name": "A"}, {"id": "urn:l:1", "name": "B"}],
    }
    bad = [
        [RUBRIC, {**SCORE, "id": RUBRIC["id"]}],
        [same_level],
        [{**SCORE, "valueMin": "100", "valueMax": "0"}],
        [{**SCORE, "resultType": "Score"}],
        [{**SCORE, "id": "not a uri"}],
        [{**RUBRIC, "requiredLevel": "urn:laurel:test:level:7"}],
    ]
    for descriptions in bad:
        body = {**ACHIEVEMENT, "key": "other", "resultDescriptions": descriptions}
        response = client.post("/api/v1/issuers/hrd/achievements", json=body, headers=headers)
        assert response.status_code == 422, (descriptions, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    body = {**ACHIEVEMENT, "resultDescriptions": [{**SCORE, "resultType": "ext:Stanine"}]}
    edited = client.put(
        "/api/v1/issuers/hrd/achievements/assessed-conflict", json=body, headers=headers
    )
    assert edited.status_code == 200, edited.text
    assert [d["resultType"] for d in edited.json()["resultDescription"]] == ["ext:Stanine"]
