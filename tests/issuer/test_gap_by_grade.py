"""A gap without a named target: the target of the learner's grade on the roster of the
organisation the issuer runs (``next_target``: a 5급 official works towards 4급 과장). Without a
roster grade, or for a grade no target is for, a 400 says to name one; someone the issuer
neither issued to nor has on its roster is a 404."""

from __future__ import annotations

from fastapi.testclient import TestClient

from issuer.context import Services
from issuer.schemas import IssueRequest
from tests.issuer.orgs_fixtures import add_member, make_org
from tests.units import create_api_key, create_issuer, issue, load_templates, resolve_learner


def test_the_roster_grade_picks_the_target(client: TestClient, services: Services) -> None:
    create_issuer(services, slug="mpm", name="Ministry of Personnel Management")
    load_templates(services, "mpm")
    headers = {"Authorization": f"Bearer {create_api_key(services, 'mpm', ['read'])}"}
    make_org(services, "mpm-org", "mpm")
    add_member(services, "mpm-org", "kim@mpm.example.kr", "Kim", grade="5급")
    add_member(services, "mpm-org", "han@mpm.example.kr", "Han", grade="1")
    body = {"recipient": {"email": "outsider@example.org"}, "achievement": "emotional-intelligence"}
    issue(services, "mpm", IssueRequest.model_validate(body))  # a learner of mpm's, not a member
    resolve_learner(services, "stranger@example.org", "Stranger")

    def gap(email: str, **extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
        answer = client.get(
            "/api/v1/issuers/mpm/gaps", params={"email": email, **extra}, headers=headers
        )
        return answer.status_code, answer.json()

    status, kim = gap("kim@mpm.example.kr")
    assert status == 200, kim
    assert (kim["target"], kim["rosterGrade"]) == ("grade-4", "5급")
    status, named = gap("kim@mpm.example.kr", target="scs")
    assert status == 200 and named["target"] == "scs" and named["rosterGrade"] == "5급"
    status, han = gap("han@mpm.example.kr")
    assert status == 400 and "no target is set for grade 1" in han["detail"]
    status, outsider = gap("outsider@example.org")
    assert status == 400 and "no grade on the roster" in outsider["detail"]
    status, stranger = gap("stranger@example.org")  # known on this Laurel, not to mpm
    assert status == 404 and "no learner of this issuer" in stranger["detail"]
