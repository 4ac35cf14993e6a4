"""An issuer's views of one person by email (gap, programme progress, a skill's explanation)
find the learner only among the people it issued to or has on its organisation's roster (audit
round 5, F7): before, a `read` key learned whether any issuer on the instance knew an email (200
for a patient of another issuer's clinic, 404 for nobody). "Unknown" and "known only to other
issuers" now answer alike."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from issuer.context import Services
from issuer.schemas import IssueRequest
from tests.issuer.orgs_fixtures import add_member, make_org
from tests.units import create_api_key, create_issuer, issue, load_templates

ELSEWHERE, NOBODY = "patient@clinic.example.org", "nobody@clinic.example.org"
OWN, MEMBER = "own@a.example.org", "member@a.example.org"
VIEWS = {
    "gaps": ("/api/v1/issuers/a-inst/gaps", {"target": "lead-team-leader"}),
    "progress": ("/api/v1/issuers/a-inst/programs/progress", {}),
    "explain": ("/api/v1/issuers/a-inst/skills/explain", {"skill": "ecq:ECQ2-4"}),
}


def _badge(services: Services, slug: str, email: str) -> None:
    body = {"recipient": {"email": email}, "achievement": "emotional-intelligence"}
    issue(services, slug, IssueRequest.model_validate(body))


@pytest.fixture
def reader(services: Services) -> dict[str, str]:
    for slug in ("a-inst", "b-inst"):
        create_issuer(services, slug=slug, name=slug.upper())
        load_templates(services, slug)
    _badge(services, "b-inst", ELSEWHERE)
    _badge(services, "a-inst", OWN)
    make_org(services, "a-org", "a-inst")
    add_member(services, "a-org", MEMBER, "Member", grade="5")
    return {"Authorization": f"Bearer {create_api_key(services, 'a-inst', ['read'])}"}


def _ask(client: TestClient, headers: dict[str, str], view: str, email: str) -> tuple[int, Any]:
    path, extra = VIEWS[view]
    answer = client.get(path, params={"email": email, **extra}, headers=headers)
    return answer.status_code, answer.json()


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_an_email_only_another_issuer_knows_answers_as_an_unknown_one(
    client: TestClient, reader: dict[str, str], view: str
) -> None:
    status, elsewhere = _ask(client, reader, view, ELSEWHERE)
    unknown_status, unknown = _ask(client, reader, view, NOBODY)
    assert status == unknown_status == 404
    assert elsewhere == {**unknown, "detail": unknown["detail"].replace(NOBODY, ELSEWHERE)}


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_the_issuers_own_learners_and_roster_members_are_found(
    client: TestClient, reader: dict[str, str], view: str
) -> None:
    for email in (OWN, MEMBER):
        status, answer = _ask(client, reader, view, email)
        assert status == 200, (email, answer)
