"""The console's achievement form does not edit result descriptions (docs/api.md, "Assessed
results"): saving an achievement there keeps those it has (SQLite and PostgreSQL)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from issuer.context import Services
from tests.issuer.conftest import ACHIEVEMENT, make_issuer
from tests.web.conftest import Inbox
from tests.web.console_steps import csrf, join

RUBRIC = {
    "id": "urn:laurel:test:rubric",
    "name": "Team building",
    "resultType": "RubricCriterionLevel",
    "rubricCriterionLevel": [
        {"id": "urn:laurel:test:low", "name": "Low", "points": "1"},
        {"id": "urn:laurel:test:high", "name": "High", "points": "3"},
    ],
}


def test_saving_in_the_console_keeps_result_descriptions(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    headers = make_issuer(mail_services, site, "hrd")
    body = {**ACHIEVEMENT, "resultDescriptions": [RUBRIC]}
    put = site.put("/api/v1/issuers/hrd/achievements/leading-people", json=body, headers=headers)
    assert put.status_code == 200, put.text
    before = put.json()["resultDescription"]
    staff = join(site, mailbox, mail_services, "hrd", "issuer@hrd.example", "issuer")
    edit = staff.get("/console/achievements/leading-people")
    fields = {
        "key": "leading-people",
        "name": "Leading People II",
        "description": ACHIEVEMENT["description"],
        "criteria": ACHIEVEMENT["criteria"],
        "achievementType": "Course",
        "hours": "24",
        "validity": "",
        "skills": "",
        "shape": "circle",
        "color": "#1B3A5C",
        "csrf": csrf(edit.text),
    }
    saved = staff.post("/console/achievements/leading-people", data=fields, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    listed = site.get("/api/v1/issuers/hrd/achievements", headers=headers).json()
    after = next(a for a in listed["achievements"] if a["key"] == "leading-people")
    assert after["name"] == "Leading People II"
    assert after["resultDescription"] == before
    assert before[0]["rubricCriterionLevel"][1]["type"] == ["RubricCriterionLevel"]
