"""The skills picture one can explain (docs/skills.md, "The skills picture"), with hand-computed
expectations: evidence levels that need accumulated evidence, the contributions behind a
weight, equivalent competencies merged, the ECQ roll-up, assessed results, relative thin and
growing thresholds, and recommendations ranked for the target (not by fewest hours)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, col, delete

from issuer.context import Services
from issuer.models import Credential, CredentialSkill
from issuer.skills.assessed import assessed_levels, level_of
from issuer.skills.cloud import median, percentile, thresholds
from issuer.skills.weights import skill_rows, store_skills
from tests.units import create_api_key, create_issuer, load_templates

HF6 = 1 + math.log(1 + 6 / 8)  # hours factor of a 6-hour module: 1.5596
HF16 = 1 + math.log(1 + 16 / 8)  # 2.0986
HF24 = 1 + math.log(1 + 24 / 8)  # 2.3863


def _setup(services: Services) -> dict[str, str]:
    create_issuer(services, slug="hrd", name="HRD")
    load_templates(services, "hrd")
    return {"Authorization": f"Bearer {create_api_key(services, 'hrd', ['admin'])}"}


def _issue(
    client: TestClient,
    headers: dict[str, str],
    key: str,
    email: str = "kim@example.org",
    **extra: Any,
) -> str:
    body = {"recipient": {"email": email}, "achievement": key, **extra}
    response = client.post("/api/v1/issuers/hrd/credentials", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _explain(client: TestClient, headers: dict[str, str], **params: str) -> dict[str, Any]:
    response = client.get("/api/v1/issuers/hrd/skills/explain", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _cloud(client: TestClient, headers: dict[str, str], **params: str) -> dict[str, Any]:
    response = client.get("/api/v1/issuers/hrd/skills", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_single_six_hour_module_is_level_1_and_its_factors_show(
    client: TestClient, services: Services
) -> None:
    headers = _setup(services)
    _issue(
        client, headers, "dl-ict-proficiency"
    )  # Competency, 6 h: ict-proficiency, computer-skills
    answer = _explain(
        client, headers, email="kim@example.org", skill="digital-literacy:ict-proficiency"
    )
    assert answer["basis"] == "evidence" and answer["evidenceLevel"] == 1 and answer["level"] == 1
    [only] = answer["contributions"]
    assert only["typeFactor"] == 1.0 and only["alignmentFactor"] == 1.0 and only["primary"]
    assert math.isclose(only["hoursFactor"], HF6, abs_tol=1e-4)
    assert math.isclose(only["recencyFactor"], 1.0, abs_tol=1e-4)
    assert math.isclose(answer["weight"], 1.56, abs_tol=1e-3)  # 1 × 1.5596 × 1 × 1
    assert answer["nextLevelAt"] == 3.0
    # the second alignment is secondary: half the weight
    second = _explain(
        client, headers, email="kim@example.org", skill="ai-competency:computer-skills"
    )
    assert math.isclose(second["weight"], 0.78, abs_tol=1e-3)
    assert second["contributions"][0]["alignmentFactor"] == 0.5
    # before: 1 + floor(log2(1 + 1.56)) = 2, "level 2 of 5" for one module
    gap = client.get(
        "/api/v1/issuers/hrd/gaps?email=kim@example.org&target=ai-ready", headers=headers
    ).json()
    computer = next(item for item in gap["levels"] if item["code"] == "computer-skills")
    assert computer["level"] == 1 and computer["basis"] == "evidence"


def test_contributions_sum_to_the_weight_the_cloud_shows(
    client: TestClient, services: Services
) -> None:
    headers = _setup(services)
    two_years = (datetime.now(UTC) - timedelta(days=730)).replace(microsecond=0)
    when = two_years.isoformat().replace("+00:00", "Z")
    # ECQ2-4: primary in both (24 h course now, 16 h course two years ago: recency 1/2)
    _issue(client, headers, "leadership-skills-for-non-supervisors")
    _issue(client, headers, "building-high-performing-teams", validFrom=when)
    _issue(client, headers, "team-development", email="lee@example.org")  # ECQ2-4 primary
    answer = _explain(client, headers, email="kim@example.org", skill="ecq:ECQ2-4")
    parts = answer["contributions"]
    assert len(parts) == 2
    for part in parts:
        product = (
            part["typeFactor"]
            * part["hoursFactor"]
            * part["alignmentFactor"]
            * part["recencyFactor"]
        )
        assert math.isclose(part["contribution"], product, abs_tol=1e-3)
    assert math.isclose(sum(p["contribution"] for p in parts), answer["weight"], abs_tol=1e-3)
    # hand: 2.3863 × 1 + 2.0986 × 0.5 = 3.4356 -> evidence level 2 (from 3)
    assert math.isclose(answer["weight"], HF24 + HF16 * 0.5, abs_tol=2e-3)
    assert answer["evidenceLevel"] == 2
    # the group (everyone) sums every learner's contributions to the cloud's weight
    everyone = _explain(client, headers, skill="ECQ2-4")
    [cloud] = [s for s in _cloud(client, headers)["skills"] if s["code"] == "ECQ2-4"]
    assert everyone["learners"] == 2 and math.isclose(
        everyone["weight"], cloud["weight"], abs_tol=1e-3
    )
    assert {p["email"] for p in everyone["contributions"]} == {"kim@example.org", "lee@example.org"}
    # bad input is a problem, not a crash
    assert (
        client.get(
            "/api/v1/issuers/hrd/skills/explain?skill=ecq:NOPE&email=kim@example.org",
            headers=headers,
        ).status_code
        == 404
    )
    ambiguous = client.get(
        "/api/v1/issuers/hrd/skills/explain?skill=problem-solving", headers=headers
    )
    assert ambiguous.status_code == 400
    assert ambiguous.headers["content-type"].startswith("application/problem+json")


def test_flexibility_appears_once_and_ecqs_roll_up(client: TestClient, services: Services) -> None:
    headers = _setup(services)
    # ECQ1-3 (primary), ECQ1-4, ai flexibility, ai resilience (secondary): 16 h course
    _issue(client, headers, "leading-through-change")
    # ECQ1-1 (primary), ai creativity-and-innovation, digital-literacy innovation: 16 h course
    _issue(client, headers, "innovation-in-government")
    answer = _cloud(client, headers)
    codes = [(s["framework"], s["code"]) for s in answer["skills"]]
    assert ("ai-competency", "flexibility") not in codes and (
        "ai-competency",
        "resilience",
    ) not in codes
    names = [s["name"] for s in answer["skills"]]
    assert names.count("Flexibility") == 1 and names.count("Resilience") == 1
    by_code = {s["code"]: s for s in answer["skills"]}
    flexibility = by_code["ECQ1-3"]
    assert {(c["framework"], c["code"]) for c in flexibility["codes"]} == {
        ("ecq", "ECQ1-3"),
        ("ai-competency", "flexibility"),
    }
    # one badge aligned to both codes counts once: 1 × 2.0986 × 1 (not 2.0986 + 1.0493)
    assert math.isclose(flexibility["weight"], HF16, abs_tol=2e-3)
    # talent search by either code finds the holder
    for code in ("flexibility", "ECQ1-3"):
        found = client.get(f"/api/v1/issuers/hrd/talent?skill={code}", headers=headers).json()
        assert [f["email"] for f in found["learners"]] == ["kim@example.org"]
    assert math.isclose(by_code["ECQ1-4"]["weight"], HF16 * 0.5, abs_tol=2e-3)
    # roll-up: ECQ1 = ECQ1-1 + ECQ1-3 + ECQ1-4 = 2.0986 + 2.0986 + 1.0493 = 5.2465, one learner
    [ecq1] = [r for r in answer["rollup"] if r["code"] == "ECQ1"]
    assert math.isclose(ecq1["weight"], 2.5 * HF16, abs_tol=3e-3)
    children = sum(by_code[c]["weight"] for c in ecq1["children"] if c in by_code)
    assert math.isclose(ecq1["weight"], children, abs_tol=3e-3)
    assert ecq1["learners"] == 1 and ecq1["children"][:2] == ["ECQ1-1", "ECQ1-2"]
    assert [r["code"] for r in answer["rollup"]] == ["ECQ1"]  # nothing else held
    # the explanation under the other framework's code is the same skill
    alias = _explain(client, headers, email="kim@example.org", skill="ai-competency:flexibility")
    assert alias["skill"]["code"] == "ECQ1-3" and alias["skill"]["parent"] == {
        "framework": "ecq",
        "code": "ECQ1",
    }
    korean = _explain(client, headers, email="kim@example.org", skill="ecq:ECQ1-3", lang="ko")
    assert korean["skill"]["name"] == "유연성"


def _assess(
    services: Services, credential_id: str, result: dict[str, Any], description: dict[str, Any]
) -> None:
    """Give an issued credential an assessed result (as a credential from an issuer with rubrics
    would carry) and write its skill rows again."""
    credential_id = credential_id.removeprefix("urn:uuid:")
    with Session(services.engine) as session:
        credential = session.get(Credential, credential_id)
        assert credential is not None
        document = dict(credential.document)
        subject = dict(document["credentialSubject"])
        achievement = dict(subject["achievement"])
        achievement["resultDescription"] = [description]
        subject["achievement"], subject["result"] = achievement, [result]
        document["credentialSubject"] = subject
        credential.document = document
        session.add(credential)
        session.exec(
            delete(CredentialSkill).where(col(CredentialSkill.credential_id) == credential_id)
        )
        rows = skill_rows(credential_id, credential.issuer_id, credential.learner_id, document)
        store_skills(session, [rows])
        session.commit()


RUBRIC = {
    "id": "urn:rubric:1",
    "type": ["ResultDescription"],
    "name": "Assessed proficiency",
    "resultType": "RubricCriterionLevel",
    "rubricCriterionLevel": [
        {"id": f"urn:level:{n}", "type": ["RubricCriterionLevel"], "name": f"Level {n}"}
        for n in range(1, 6)
    ],
}


def test_an_assessed_result_sets_proficiency(client: TestClient, services: Services) -> None:
    headers = _setup(services)
    credential = _issue(client, headers, "managing-conflict")  # ECQ2-1 primary, 16 h: level 1
    before = _explain(client, headers, email="kim@example.org", skill="ecq:ECQ2-1")
    assert before["basis"] == "evidence" and before["level"] == 1
    _assess(
        services,
        credential,
        {"type": ["Result"], "resultDescription": "urn:rubric:1", "achievedLevel": "urn:level:4"},
        RUBRIC,
    )
    after = _explain(client, headers, email="kim@example.org", skill="ecq:ECQ2-1")
    assert after["basis"] == "assessed" and after["level"] == 4 and after["assessedLevel"] == 4
    assert after["evidenceLevel"] == 1  # the evidence is unchanged, and still shown
    gap = client.get(
        "/api/v1/issuers/hrd/gaps?email=kim@example.org&target=grade-4", headers=headers
    ).json()
    conflict = next(item for item in gap["levels"] if item["code"] == "ECQ2-1")
    assert conflict == {**conflict, "level": 4, "basis": "assessed"}
    assert "ECQ2-1" not in [m["code"] for m in gap["missing"]]


def test_assessed_result_mapping() -> None:
    assert [level_of(p) for p in (0, 0.124, 0.125, 0.5, 0.75, 1)] == [1, 1, 2, 3, 4, 5]

    def document(result: dict[str, Any], description: dict[str, Any]) -> dict[str, Any]:
        return {
            "credentialSubject": {
                "achievement": {"resultDescription": [description]},
                "result": [{"resultDescription": description["id"], **result}],
            }
        }

    three = {
        **RUBRIC,
        "rubricCriterionLevel": RUBRIC["rubricCriterionLevel"][:3],
    }
    assert assessed_levels(document({"achievedLevel": "urn:level:2"}, three)) == {None: 3}
    score = {"id": "s", "resultType": "ScaledScore", "valueMin": "0", "valueMax": "200"}
    assert assessed_levels(document({"value": "150"}, score)) == {None: 4}  # p = 0.75
    percent = {
        "id": "p",
        "resultType": "Percent",
        "alignment": [{"targetUrl": "https://x/frameworks/ecq/ECQ2-1", "targetCode": "ECQ2-1"}],
    }
    assert assessed_levels(document({"value": "40"}, percent)) == {("ecq", "ECQ2-1"): 3}
    points = {
        "id": "r",
        "rubricCriterionLevel": [
            {"id": "a", "points": "0"},
            {"id": "b", "points": "8"},
            {"id": "c", "points": "10"},
        ],
    }
    assert assessed_levels(document({"achievedLevel": "b"}, points)) == {None: 4}  # 8/10
    failed = document({"achievedLevel": "c", "status": "Failed"}, points)
    assert assessed_levels(failed) == {}
    assert assessed_levels(document({"value": "x"}, score)) == {}


def test_relative_thresholds_by_hand() -> None:
    assert percentile([3, 5, 8, 9, 12, 15, 20, 30, 31, 40], 20) == 5  # rank ceil(2) = 2
    assert median([1, 1, 2, 4, 10]) == 2 and median([1, 2, 4, 10]) == 3
    cloud = [
        {"learners": n, "change": {"learners": g}}
        for n, g in zip([3, 5, 8, 9, 12, 15, 20, 30, 31, 40], [0] * 10, strict=True)
    ]
    cuts = thresholds(cloud, 20)  # 10 % of 20 = 2; the 20th percentile, 5, is larger
    assert cuts["thinBelow"] == 5 and cuts["percentileLearners"] == 5
    cuts = thresholds(cloud, 100)  # 10 % of 100 = 10 is larger
    assert cuts["thinBelow"] == 10


def test_thin_and_growing_in_a_crafted_group(client: TestClient, services: Services) -> None:
    headers = _setup(services)
    people = [f"p{n:02d}@example.org" for n in range(20)]
    put = client.put("/api/v1/issuers/hrd/groups/policy", json={"emails": people}, headers=headers)
    assert put.status_code == 200, put.text
    old = (datetime.now(UTC) - timedelta(days=700)).replace(microsecond=0)
    then = old.isoformat().replace("+00:00", "Z")
    plan = {  # each achievement aligns to one skill only
        "dl-digital-creation": people[:1],
        "dl-safety-and-security": people[:4],
        "public-sector-entrepreneurship": people[:10],
        "budgeting-and-financial-management": people[:2],
    }
    for key, emails in plan.items():
        for email in emails:
            _issue(client, headers, key, email)
    for n, email in enumerate(people[:6]):  # ECQ4-2: five held it a year ago already
        _issue(
            client,
            headers,
            "strategic-human-capital-management",
            email,
            **({"validFrom": then} if n else {}),
        )
    answer = _cloud(client, headers, group="policy")
    cuts = answer["thresholds"]
    # held by [1, 4, 10, 2, 6] of 20: 10 % = 2, 20th percentile = 1 -> thin below 2
    assert cuts["population"] == 20 and cuts["percentileLearners"] == 1 and cuts["thinBelow"] == 2
    # new learners over the year [1, 4, 10, 2, 1]: median 2 -> growing above 2
    assert cuts["medianGrowth"] == 2
    by_code = {s["code"]: s for s in answer["skills"]}
    assert {c for c, s in by_code.items() if s["thin"]} == {"digital-creation"}
    assert {c for c, s in by_code.items() if s["growing"]} == {"safety-and-security", "ECQ3-4"}
    assert answer["rising"] and all(r["learners"] < 2 for r in answer["rising"])


def _gap(
    client: TestClient, headers: dict[str, str], target: str, lang: str = "en"
) -> dict[str, Any]:
    response = client.get(
        f"/api/v1/issuers/hrd/gaps?email=kim@example.org&target={target}&lang={lang}",
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_senior_executive_competency_is_not_closed_by_an_it_qualification(
    client: TestClient, services: Services
) -> None:
    headers = _setup(services)
    _issue(client, headers, "applying-rules-with-credibility")  # ECQ3-6, 8 h
    answer = _gap(client, headers, "scs")
    credibility = next(m for m in answer["missing"] if m["code"] == "ECQ3-6")
    # by fewest hours the 40-hour ISMS-P auditor qualification was next; it is not for an SCS
    assert "isms-p-certification-auditor" not in [c["key"] for c in credibility["closedBy"]]
    technology = next(m for m in answer["missing"] if m["code"] == "ECQ4-3")
    keys = [c["key"] for c in technology["closedBy"]]
    assert "engineer-information-security" not in keys
    # both primary, both leadership: the micro-credential adds more (1.25 × 2.0986 > 2.0986)
    assert keys[:2] == ["leading-ai-adoption", "managing-technology-and-digital-transformation"]
    assert answer["grade"] == "SCS" and answer["nameKo"] == "고위공무원"


def test_recommendations_prefer_a_started_programme(client: TestClient, services: Services) -> None:
    headers = _setup(services)
    _issue(client, headers, "leadership-skills-for-non-supervisors")  # starts LEAD aspiring leader
    conflict = next(m for m in _gap(client, headers, "grade-4")["missing"] if m["code"] == "ECQ2-1")
    keys = [c["key"] for c in conflict["closedBy"]]
    # the primary course first; then, of the secondary ones, the started programme's course
    assert keys[:2] == ["managing-conflict", "emotional-intelligence"]
    assert conflict["closedBy"][1]["programmes"] == ["lead-aspiring-leader"]


def test_readiness_and_next_step_for_grade_5(client: TestClient, services: Services) -> None:
    headers = _setup(services)
    # 24 h course: ECQ2-4 primary (2.386, level 1), ECQ1-3 and ECQ3-1 secondary (1.193, level 1)
    _issue(client, headers, "leadership-skills-for-non-supervisors")
    answer = _gap(client, headers, "grade-5")
    # ECQ3-1 1/2, ECQ3-5 0/2, ECQ2-4 1/1, ECQ1-3 1/1, data-analysis 0/1, writing 0/1 -> 2.5 / 6
    assert answer["readiness"] == 42 and answer["met"] == 2 and answer["skills"] == 6
    step = answer["nextStep"]
    assert step["code"] == "ECQ3-5" and step["level"] == 0 and step["levelWanted"] == 2
    assert step["achievement"]["key"] == "decision-making-under-uncertainty"
    korean = _gap(client, headers, "grade-5", "ko")
    assert korean["name"] == "5급 사무관"
    assert next(i for i in korean["levels"] if i["code"] == "ECQ3-5")["skill"] == "문제 해결"
    chart = client.get(
        "/api/v1/issuers/hrd/gaps.svg?email=kim@example.org&target=grade-5&lang=ko", headers=headers
    )
    assert chart.status_code == 200 and "문제 해결" in chart.text


def test_team_members_show_levels_and_two_holders_of_critical_skills(
    client: TestClient, services: Services
) -> None:
    headers = _setup(services)
    _issue(client, headers, "managing-conflict", "a@example.org")  # ECQ2-1
    _issue(client, headers, "managing-conflict", "b@example.org")
    _issue(client, headers, "managing-conflict", "b@example.org")
    _issue(client, headers, "partnering-across-boundaries", "a@example.org")  # ECQ5-1
    body = {"skills": ["ECQ2-1", "partnering"], "critical": ["ECQ2-1"]}
    team = client.post("/api/v1/issuers/hrd/teams", json=body, headers=headers).json()
    emails = [m["email"] for m in team["members"]]
    assert emails == ["a@example.org", "b@example.org"]  # a covers both; b is the second holder
    assert team["members"][1]["backupFor"] == ["ECQ2-1"] and team["critical"] == {"ECQ2-1": 2}
    level = team["members"][0]["levels"]["ECQ2-1"]
    assert level["basis"] == "evidence" and level["level"] == 1
    assert math.isclose(level["weight"], HF16, abs_tol=2e-3)
    # b holds two: 2 × 2.0986 = 4.197 -> level 2
    assert team["members"][1]["levels"]["ECQ2-1"]["level"] == 2
    small = client.post(
        "/api/v1/issuers/hrd/teams", json={**body, "size": 1}, headers=headers
    ).json()
    assert [m["email"] for m in small["members"]] == ["a@example.org"]


def test_the_equivalence_table_is_checked() -> None:
    from issuer.skills.equivalence import bundled, bundled_catalogue, load

    smap = bundled()
    assert smap.canon(("ai-competency", "flexibility")) == ("ecq", "ECQ1-3")
    assert smap.canon(("digital-literacy", "problem-solving")) == (
        "digital-literacy",
        "problem-solving",
    )
    assert smap.parent[("ecq", "ECQ5-3")] == ("ecq", "ECQ5")
    assert len(smap.children(("ecq", "ECQ3"))) == 6
    load(bundled_catalogue())  # every code exists, none twice
    assert "assessed_level" in CredentialSkill.model_fields


def test_the_migration_weighs_existing_rows_again(client: TestClient, services: Services) -> None:
    from sqlalchemy import text

    from issuer.core.db import migrate

    headers = _setup(services)
    _issue(client, headers, "leading-through-change")  # ECQ1-3 primary, ECQ1-4 secondary
    migrate(services.engine, "0013", down=True)
    with services.engine.begin() as connection:  # as rows were written before 0014x: all full
        connection.execute(text("UPDATE credential_skill SET base_weight = :b"), {"b": HF16})
        connection.execute(text("UPDATE credential_skill SET scaled_weight = scaled_weight * 2"))
        connection.execute(
            text("UPDATE credential_skill SET scaled_weight = scaled_weight / 2 WHERE code = :c"),
            {"c": "ECQ1-3"},
        )
    migrate(services.engine)  # 0014x: secondary alignments count half again
    weights = {s["code"]: s["weight"] for s in _cloud(client, headers)["skills"]}
    assert math.isclose(weights["ECQ1-3"], HF16, abs_tol=2e-3)
    assert math.isclose(weights["ECQ1-4"], HF16 * 0.5, abs_tol=2e-3)


def test_the_next_target_for_a_roster_grade(services: Services) -> None:
    from issuer.reports.gaps import next_target

    assert [
        (found or {}).get("id")
        for found in (next_target(services, g) for g in ("7", "5", "4", "3"))
    ] == ["grade-5", "grade-4", "grade-3", "scs"]
    assert next_target(services, None) is None and next_target(services, "SCS") is None
