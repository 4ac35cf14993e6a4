"""Organisations for the development-plan tests, made by inserting rows directly: small helpers,
each prefixed with the part that uses it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from issuer.context import Services
from issuer.models import Issuer, Organisation, OrgMember, OrgTrust, OrgUnit
from issuer.models.base import utcnow
from issuer.people.signin import sign_in
from tests.units import create_api_key, create_issuer, load_templates

PLAN_DIRECTOR = "director@mois.example.kr"
PLAN_LEAD = "lead@mois.example.kr"


@dataclass(frozen=True)
class PlanOrg:
    """The Ministry of the Interior (``mois``, its own issuer, the whole catalogue loaded) with
    a director's office (supervisor: the director) and an HR team under it (supervisor: the team
    lead); it trusts the national HRD institute (``nhi``) and not the ``other`` institute."""

    slug: str
    headers: dict[str, str]
    """An admin API key of the home issuer."""
    learners: dict[str, int]
    """email -> learner id of everyone on the roster."""


def _id(value: int | None) -> int:
    assert value is not None
    return value


def plan_org(services: Services) -> PlanOrg:
    for slug in ("mois", "nhi", "other"):
        create_issuer(services, slug=slug, name=f"{slug.upper()} Institute")
        load_templates(services, slug)
    headers = {"Authorization": f"Bearer {create_api_key(services, 'mois', ['admin'])}"}
    roster = {
        # email: (unit, executive, name)
        "kim@mois.example.kr": ("hr-team", False, "Kim Min-jun"),
        PLAN_LEAD: ("hr-team", False, "Lee Seo-yeon"),
        "park@mois.example.kr": ("office", True, "Park Ji-ho"),
    }
    with Session(services.engine) as db:
        issuers = {i.slug: i for i in db.exec(select(Issuer))}
        org = Organisation(
            slug="mois", issuer_id=_id(issuers["mois"].id), name="Ministry", name_ko="부"
        )
        db.add(org)
        db.flush()
        assert org.id is not None
        office = OrgUnit(
            org_id=org.id, code="office", name="Office", supervisor_email=PLAN_DIRECTOR
        )
        db.add(office)
        db.flush()
        team = OrgUnit(
            org_id=org.id,
            code="hr-team",
            name="HR",
            parent_id=office.id,
            supervisor_email=PLAN_LEAD,
        )
        db.add(team)
        db.flush()
        units = {"office": office.id, "hr-team": team.id}
        nhi = issuers["nhi"]
        db.add(
            OrgTrust(
                org_id=org.id,
                issuer_ref=nhi.did,
                issuer_id=nhi.id,
                name=nhi.name,
                agreed_at=utcnow(),
            )
        )
        learners = {}
        for email, (unit, executive, name) in {
            **roster,
            PLAN_DIRECTOR: ("office", True, "Director"),
        }.items():
            learner = sign_in(db, email)
            assert learner.id is not None
            learners[email] = learner.id
            if email != PLAN_DIRECTOR:
                db.add(
                    OrgMember(
                        org_id=org.id,
                        learner_id=learner.id,
                        email=email,
                        unit_id=units[unit],
                        executive=executive,
                        name=name,
                        employee_no=f"E{learner.id:03d}",
                        grade="SCS" if executive else "5",
                    )
                )
        db.commit()
    return PlanOrg("mois", headers, learners)


def plan_issue(
    client: object, services: Services, issuer: str, email: str, key: str, **extra: object
) -> str:
    """Issue ``key`` to ``email`` through the issuance API of ``issuer`` (an admin key of its
    own); returns the credential's ``urn:uuid:`` reference."""
    from fastapi.testclient import TestClient

    assert isinstance(client, TestClient)
    headers = {"Authorization": f"Bearer {create_api_key(services, issuer, ['issue'])}"}
    body = {"recipient": {"email": email, "name": "Someone"}, "achievement": key, **extra}
    response = client.post(f"/api/v1/issuers/{issuer}/credentials", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])
