"""Organisations across issuers (issuer/orgs/): a ministry with two units and a roster of four
trusts its home issuer, its academy on this Laurel and a university elsewhere. Programmes count
an elective earned at the academy and a university badge the ministry declared equivalent, never
one from an untrusted issuer; shared credentials count in the skills cloud with their source
until withdrawn; tampered or untrusted ones are refused; a bad roster changes nothing.

Weights, by hand (issuer/skills/weights.py, every credential valid from ISSUED and the cloud
read at ISSUED, so recency is 1): a 16-hour Course 1 × (1 + ln 3) = 2.0986123; a 24-hour Course
1 × (1 + ln 4) = 2.3862944; the university's 16-hour Certificate 1.5 × (1 + ln 3) = 3.1479184.
"""

from __future__ import annotations

import copy
import math
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from issuer.context import Services
from issuer.core.errors import BadRequest, Forbidden
from issuer.effects import work
from issuer.models import Achievement, Credential, Issuer, OrgMember
from issuer.orgs import held, manage, organisation
from issuer.orgs.cloud import org_cloud
from issuer.skills.frameworks import catalogue
from tests.issuer.org_api_fixtures import (
    ACADEMY,
    CHOI,
    HOME,
    KIM,
    LEE,
    ORG,
    PARK,
    ROGUE,
    Ministry,
    University,
    ministry,
)

AT = datetime(2026, 1, 15, 9, tzinfo=UTC)
COURSE_16 = 1 + math.log(3)  # 2.0986123
COURSE_24 = 1 + math.log(4)  # 2.3862944
CERTIFICATE_16 = 1.5 * (1 + math.log(3))  # 3.1479184
REQUIRED = ["leadership-skills-for-non-supervisors", "emotional-intelligence"]
ELECTIVES = ["leading-through-change", "innovation-in-government", "accountability-for-results"]
AWARD = "lead-aspiring-leader-certificate"
UNIVERSITY_COURSE = "https://university.example.org/achievements/data-literacy"


@pytest.fixture
def world(services: Services, client: TestClient) -> Ministry:
    return ministry(services, client)


def _awarded(world: Ministry, email: str) -> list[str]:
    """Issuers (slugs) that issued the Aspiring Leader certificate to ``email``."""
    learner = world.learner(email)
    with Session(world.services.engine) as db:
        rows = db.exec(
            select(Issuer.slug)
            .join(Credential, Credential.issuer_id == Issuer.id)  # type: ignore[arg-type]
            .join(Achievement, Achievement.id == Credential.achievement_id)  # type: ignore[arg-type]
            .where(Credential.learner_id == learner, Achievement.key == AWARD)
        )
        return sorted(rows)


def _cloud(world: Ministry, unit: str | None = None) -> dict[str, dict]:  # type: ignore[type-arg]
    with Session(world.services.engine) as db:
        found = org_cloud(db, catalogue(world.services), organisation(db, ORG), unit, AT)
    return {f"{s['framework']}/{s['code']}": s for s in found["skills"]}


def test_the_ministry_is_set_up_through_the_api(world: Ministry) -> None:
    headers = world.keys[HOME]
    shown = world.client.get(f"/api/v1/orgs/{ORG}", headers=headers).json()
    assert shown["members"] == 4 and shown["issuer"] == HOME
    [policy] = shown["units"]
    assert (policy["code"], policy["supervisorEmail"]) == ("POL", "director@mois.example.kr")
    assert [c["code"] for c in policy["children"]] == ["DATA"]
    trusted = [(t["name"], t["local"], t["home"]) for t in shown["trusted"]]
    assert trusted == [
        ("Ministry", HOME, True),
        ("MOIS Academy", ACADEMY, False),
        (world.university.name, None, False),
    ]
    roster = world.client.get(f"/api/v1/orgs/{ORG}/roster", headers=headers).json()["members"]
    choi = next(m for m in roster if m["email"] == CHOI)
    assert (choi["unit"], choi["grade"], choi["role"], choi["executive"]) == (
        "DATA",
        "SCS",
        "국장",
        True,
    )


def test_an_elective_earned_at_the_academy_completes_the_ministry_programme(
    world: Ministry,
) -> None:
    for key in [*REQUIRED, *ELECTIVES[:2]]:
        world.issue(HOME, KIM, key)
    assert _awarded(world, KIM) == []
    world.issue(ACADEMY, KIM, ELECTIVES[2])  # the third elective, at a trusted issuer here
    assert _awarded(world, KIM) == [HOME]
    headers = world.keys[HOME]
    progress = world.client.get(
        f"/api/v1/issuers/{HOME}/programs/progress", params={"email": KIM}, headers=headers
    )
    assert progress.status_code == 200, progress.text  # the report reads the same holdings
    step = next(p for p in progress.json()["programs"] if p["program"] == "lead-aspiring-leader")
    assert step["complete"] and set(step["electivesDone"]) == set(ELECTIVES)


def test_an_untrusted_issuers_badge_does_not_count(world: Ministry) -> None:
    for key in [*REQUIRED, *ELECTIVES[:2]]:
        world.issue(HOME, LEE, key)
    world.issue(ROGUE, LEE, ELECTIVES[2])
    assert _awarded(world, LEE) == []
    world.issue(ACADEMY, LEE, ELECTIVES[2])
    assert _awarded(world, LEE) == [HOME]


def test_a_shared_badge_counts_as_its_declared_equivalent(world: Ministry) -> None:
    for key in [*REQUIRED, *ELECTIVES[:2]]:
        world.issue(HOME, PARK, key)
    world.share(PARK, world.university.credential(PARK))
    assert _awarded(world, PARK) == []  # no equivalence yet: a badge from elsewhere has no key
    wrong = _declare(world, world.university.did, UNIVERSITY_COURSE, "no-such-course")
    assert wrong.status_code == 422 and "no-such-course" in wrong.json()["errors"][0]["message"]
    put = _declare(world, world.university.did, UNIVERSITY_COURSE, ELECTIVES[2])
    assert put.status_code == 200, put.text
    assert put.json() == {
        "equivalences": [
            {
                "issuerRef": world.university.did,
                "achievementId": UNIVERSITY_COURSE,
                "achievementKey": ELECTIVES[2],
            }
        ]
    }
    world.share(PARK, world.university.credential(PARK))  # sharing again runs the awards
    assert _awarded(world, PARK) == [HOME]
    with Session(world.services.engine) as db:
        learner = world.learner(PARK)
        award = db.exec(
            select(Credential)
            .join(Achievement, Achievement.id == Credential.achievement_id)  # type: ignore[arg-type]
            .where(Credential.learner_id == learner, Achievement.key == AWARD)
        ).one()
    shared = [e for e in award.document["evidence"] if "id" not in e]
    assert shared == [
        {
            "type": ["Evidence"],
            "name": "Data Literacy",
            "description": "Shared with the organisation: "
            "urn:uuid:5c1e6d1a-0f37-4b8e-9a52-3d7c1b2e4f60",
        }
    ]


def _declare(world: Ministry, issuer_ref: str, achievement_id: str, key: str) -> Any:
    """PUT one equivalence: ``issuer_ref``'s ``achievement_id`` counts as catalogue ``key``."""
    item = {"issuerRef": issuer_ref, "achievementId": achievement_id, "achievementKey": key}
    return world.client.put(
        f"/api/v1/orgs/{ORG}/equivalences",
        json={"equivalences": [item]},
        headers=world.keys[HOME],
    )


def test_an_equivalence_counts_only_the_issuer_it_was_declared_for(world: Ministry) -> None:
    """Regression (audit 8, F6): the equivalence matched the achievement id from any trusted
    issuer elsewhere, so a second trusted issuer (a MOOC platform) that wrote the university's
    achievement id into its own one-hour badge completed the ministry's programme."""
    mooc = University(name="Cheap MOOC Platform")
    headers = world.keys[HOME]
    trusted = world.client.post(
        f"/api/v1/orgs/{ORG}/trust",
        json={"issuerRef": mooc.did, "name": mooc.name},
        headers=headers,
    )
    assert trusted.status_code in (200, 201), trusted.text
    assert _declare(world, world.university.did, UNIVERSITY_COURSE, ELECTIVES[2]).status_code == 200
    for key in [*REQUIRED, *ELECTIVES[:2]]:
        world.issue(HOME, PARK, key)
    fake = mooc.credential(
        PARK, name="Watch one video", hours=1, id="urn:uuid:0b9a4f7e-6c1d-4e2a-8f3b-2d5c7e9a1b40"
    )
    assert fake["credentialSubject"]["achievement"]["id"] == UNIVERSITY_COURSE
    world.share(PARK, fake)
    assert _awarded(world, PARK) == []
    world.share(PARK, world.university.credential(PARK))  # the university's own badge counts
    assert _awarded(world, PARK) == [HOME]


def test_an_equivalence_names_a_trusted_issuer_elsewhere(world: Ministry) -> None:
    headers = world.keys[HOME]
    legacy = world.client.put(
        f"/api/v1/orgs/{ORG}/equivalences",
        json={"equivalences": {UNIVERSITY_COURSE: ELECTIVES[2]}},
        headers=headers,
    )
    assert legacy.status_code == 400 and "issuerRef" in legacy.json()["detail"]
    untrusted = _declare(world, "did:web:untrusted.example.org", UNIVERSITY_COURSE, ELECTIVES[2])
    assert untrusted.status_code == 422
    assert untrusted.json()["errors"][0]["field"] == "issuerRef"
    here = _declare(world, ACADEMY, UNIVERSITY_COURSE, ELECTIVES[2])  # badges here count by key
    assert here.status_code == 422
    shown = world.client.get(f"/api/v1/orgs/{ORG}/equivalences", headers=headers)
    assert shown.json() == {"equivalences": []}


def test_the_migration_binds_an_equivalence_only_to_the_one_issuer_of_its_host(
    world: Ministry,
) -> None:
    """Migration 0020: an equivalence declared before issuers were named is bound to the one
    trusted issuer elsewhere served from its achievement id's host; any other stays unbound and
    counts for nothing until declared again."""
    from sqlalchemy import text

    from issuer.core.db import migrate

    college = "did:web:college.example.org"
    headers = world.keys[HOME]
    trusted = world.client.post(
        f"/api/v1/orgs/{ORG}/trust", json={"issuerRef": college, "name": "College"}, headers=headers
    )
    assert trusted.status_code in (200, 201), trusted.text
    assert _declare(world, world.university.did, UNIVERSITY_COURSE, ELECTIVES[2]).status_code == 200
    engine = world.services.engine
    migrate(engine, "0019s", down=True)
    with engine.begin() as connection:
        org_id = connection.execute(text("SELECT org_id FROM org_equivalence")).scalar_one()
        connection.execute(
            text(
                "INSERT INTO org_equivalence (org_id, external_id, achievement_key) VALUES "
                "(:org, 'https://college.example.org/badges/stats', :key)"
            ),
            {"org": org_id, "key": ELECTIVES[1]},
        )
    migrate(engine)
    shown = world.client.get(f"/api/v1/orgs/{ORG}/equivalences", headers=headers).json()
    assert shown["equivalences"] == [
        {
            "issuerRef": college,
            "achievementId": "https://college.example.org/badges/stats",
            "achievementKey": ELECTIVES[1],
        },
        {  # a did:key says nothing of hosts: unbound, it counts for nothing
            "issuerRef": None,
            "achievementId": UNIVERSITY_COURSE,
            "achievementKey": ELECTIVES[2],
        },
    ]
    for key in [*REQUIRED, *ELECTIVES[:2]]:
        world.issue(HOME, PARK, key)
    world.share(PARK, world.university.credential(PARK))
    assert _awarded(world, PARK) == []
    assert _declare(world, world.university.did, UNIVERSITY_COURSE, ELECTIVES[2]).status_code == 200
    world.share(PARK, world.university.credential(PARK))  # declared again: it counts
    assert _awarded(world, PARK) == [HOME]


def test_shared_credentials_count_in_the_skills_cloud_with_their_source(world: Ministry) -> None:
    world.issue(ACADEMY, KIM, "team-development")  # Course 16 h: ECQ2-4, teamwork, project mgmt
    world.issue(HOME, PARK, "leadership-skills-for-non-supervisors")  # Course 24 h: ECQ2-4, …
    world.issue(ROGUE, LEE, "team-development")  # untrusted: counts nothing
    shared = world.share(KIM, world.university.credential(KIM))
    assert (shared.hours, shared.achievement_name) == (16.0, "Data Literacy")
    cloud = _cloud(world)
    team = cloud["ecq/ECQ2-4"]
    assert team["weight"] == pytest.approx(COURSE_16 + CERTIFICATE_16 + COURSE_24, abs=1e-3)
    # 7.632: level 3 (levels 2-5 need 3, 6, 10, 16; docs/skills.md)
    assert (team["learners"], team["level"], team["catalogued"]) == (2, 3, True)
    sources = {(s["issuer"], s["source"]): s for s in team["sources"]}
    assert set(sources) == {
        ("MOIS Academy", "here"),
        ("Ministry", "here"),
        (world.university.name, "shared"),
    }
    assert sources[(world.university.name, "shared")]["weight"] == pytest.approx(3.148, abs=1e-3)
    assert sources[("MOIS Academy", "here")]["weight"] == pytest.approx(2.099, abs=1e-3)
    esco = cloud["ESCO/S1.2"]
    assert (esco["catalogued"], esco["learners"]) == (False, 1)
    # second alignments count half, shared or issued here
    assert esco["weight"] == pytest.approx(CERTIFICATE_16 / 2, abs=1e-3)
    assert cloud["ai-competency/teamwork"]["weight"] == pytest.approx(COURSE_16 / 2, abs=1e-3)
    data_team = _cloud(world, "DATA")  # Park only; POL holds both units
    assert data_team["ecq/ECQ2-4"]["weight"] == pytest.approx(COURSE_24, abs=1e-3)
    assert _cloud(world, "POL")["ecq/ECQ2-4"]["learners"] == 2
    listed = world.client.get(f"/api/v1/orgs/{ORG}/shared", headers=world.keys[HOME]).json()
    [entry] = listed["shared"]
    assert (entry["learner"], entry["issuer"], entry["state"]) == (
        KIM,
        world.university.name,
        "counting",
    )
    world.withdraw(KIM, shared.credential_ref)
    after = _cloud(world)
    assert after["ecq/ECQ2-4"]["weight"] == pytest.approx(COURSE_16 + COURSE_24, abs=1e-3)
    assert "ESCO/S1.2" not in after
    api = world.client.get(f"/api/v1/orgs/{ORG}/skills", headers=world.keys[HOME])
    assert api.status_code == 200 and api.json()["members"] == 4


def test_tampered_untrusted_and_not_their_own_credentials_are_refused(world: Ministry) -> None:
    tampered = copy.deepcopy(world.university.credential(KIM))
    tampered["credentialSubject"]["creditsEarned"] = 160
    with pytest.raises(BadRequest, match="does not verify"):
        world.share(KIM, tampered)
    stranger = University(name="Diploma Mill")
    with pytest.raises(Forbidden, match="does not recognise"):
        world.share(
            KIM, stranger.credential(KIM, id="urn:uuid:00000000-0000-4000-8000-000000000002")
        )
    with pytest.raises(BadRequest, match="not issued to"):
        world.share(
            KIM,
            world.university.credential(LEE, id="urn:uuid:00000000-0000-4000-8000-000000000003"),
        )
    with Session(world.services.engine) as db:
        assert held(db, organisation(db, ORG), at=AT) == []


def test_a_roster_with_bad_rows_changes_nothing(world: Ministry) -> None:
    headers = {**world.keys[HOME], "Content-Type": "text/csv"}
    bad = (
        "email,name,unit,grade,executive\n"
        f"{KIM},Kim,POL,5,false\n"
        "not-an-email,Nobody,POL,5,false\n"
        "new@mois.example.kr,New,NOPE,5,maybe\n"
    )
    response = world.client.put(f"/api/v1/orgs/{ORG}/roster", content=bad, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    errors = {(e["row"], e["field"]) for e in response.json()["errors"]}
    assert errors == {(2, "email"), (3, "unit"), (3, "executive")}
    shown = world.client.get(f"/api/v1/orgs/{ORG}", headers=world.keys[HOME]).json()
    assert shown["members"] == 4
    with Session(world.services.engine) as db:
        assert db.exec(select(OrgMember).where(OrgMember.left_at != None)).all() == []  # noqa: E711


def test_members_missing_from_a_full_roster_are_marked_left(world: Ministry) -> None:
    world.issue(HOME, LEE, "team-development")
    headers = {**world.keys[HOME], "Content-Type": "text/csv"}
    three = f"email,unit\n{KIM},POL\n{PARK},DATA\n{CHOI},DATA\n"
    response = world.client.put(f"/api/v1/orgs/{ORG}/roster", content=three, headers=headers)
    assert response.json() == {"members": 3, "added": 0, "updated": 3, "left": 1}
    with Session(world.services.engine) as db:
        lee = db.exec(select(OrgMember).where(OrgMember.learner_id == world.learner(LEE))).one()
        assert lee.left_at is not None  # kept, not deleted
        assert held(db, organisation(db, ORG)) == []  # what Lee holds no longer counts


def test_only_the_home_issuers_keys_run_the_organisation(
    world: Ministry, services: Services
) -> None:
    from tests.units import create_api_key

    other = world.client.get(f"/api/v1/orgs/{ORG}", headers=world.keys[ACADEMY])
    assert other.status_code == 404
    reader = {"Authorization": f"Bearer {create_api_key(services, HOME, ['read'])}"}
    assert world.client.get(f"/api/v1/orgs/{ORG}/trust", headers=reader).status_code == 200
    denied = world.client.post(f"/api/v1/orgs/{ORG}/trust", json={"issuer": ROGUE}, headers=reader)
    assert denied.status_code == 403
    twice = world.client.post(
        "/api/v1/orgs",
        json={"issuer": HOME, "slug": "mois-2", "name": "Again"},
        headers=world.keys[HOME],
    )
    assert twice.status_code == 409
    home = world.client.post(
        f"/api/v1/orgs/{ORG}/trust", json={"issuer": HOME}, headers=world.keys[HOME]
    )
    assert home.status_code == 409
    gone = world.client.delete(
        f"/api/v1/orgs/{ORG}/trust", params={"issuer": ACADEMY}, headers=world.keys[HOME]
    )
    assert gone.status_code == 204
    with work(services) as db:
        trusted = [t["local"] for t in manage.trusted(db, organisation(db, ORG))]
    assert trusted == [HOME, None]


def test_a_shared_credential_found_revoked_on_recheck_stops_counting(world: Ministry) -> None:
    from issuer.issuing.bitstring import status_entry
    from tests.issuer.test_imports import Network

    list_url = "https://university.example.org/status/1"
    network = Network()
    network.table[list_url] = world.university.status_list(list_url)
    world.services.network = network
    signed = world.university.credential(KIM, credentialStatus=status_entry(list_url, 5))
    world.share(KIM, signed)
    headers = world.keys[HOME]
    recheck = world.client.post(f"/api/v1/orgs/{ORG}/shared/recheck", headers=headers)
    assert recheck.json() == {"revoked": 0, "expired": 0, "notVerified": 0}
    assert "ESCO/S1.2" in _cloud(world)
    network.table[list_url] = world.university.status_list(list_url, revoked=frozenset({5}))
    recheck = world.client.post(f"/api/v1/orgs/{ORG}/shared/recheck", headers=headers)
    assert recheck.json() == {"revoked": 1, "expired": 0, "notVerified": 0}
    assert "ESCO/S1.2" not in _cloud(world)
    [entry] = world.client.get(f"/api/v1/orgs/{ORG}/shared", headers=headers).json()["shared"]
    assert entry["state"] == "revoked"


def test_replacing_the_units_keeps_members_of_kept_units(world: Ministry) -> None:
    headers = world.keys[HOME]
    tree = {"units": [{"code": "DATA", "name": "Data and AI Team", "name_ko": "데이터AI팀"}]}
    response = world.client.put(f"/api/v1/orgs/{ORG}/units", json=tree, headers=headers)
    assert response.status_code == 200, response.text
    assert (response.json()["added"], response.json()["removed"]) == (0, 1)
    [data] = response.json()["units"]
    assert (data["name"], data["nameKo"], data["parent"]) == (
        "Data and AI Team",
        "데이터AI팀",
        None,
    )
    roster = world.client.get(f"/api/v1/orgs/{ORG}/roster", headers=headers).json()["members"]
    assert {m["email"]: m["unit"] for m in roster} == {
        KIM: None,
        LEE: None,
        PARK: "DATA",
        CHOI: "DATA",
    }
    cycle = {
        "units": [
            {"code": "A", "name": "A", "parent": "B"},
            {"code": "B", "name": "B", "parent": "A"},
        ]
    }
    refused = world.client.put(f"/api/v1/orgs/{ORG}/units", json=cycle, headers=headers)
    assert refused.status_code == 422
    assert {(e["row"], e["field"]) for e in refused.json()["errors"]} == {
        (1, "parent"),
        (2, "parent"),
    }


def test_a_shared_badge_that_meets_the_years_rule_brings_the_annual_badge(world: Ministry) -> None:
    """Park (grade 7) needs 16 hours in 2026 under these rules; the university's 16-hour badge,
    shared from the wallet, meets them: the home issuer awards the annual badge once."""
    rules = {"required_hours": {"7": 16}, "designated_share": 0, "mandatory_hours": 0}
    put = world.client.put(f"/api/v1/orgs/{ORG}/rules", json=rules, headers=world.keys[HOME])
    assert put.status_code == 200, put.text

    def annual() -> list[str]:
        with Session(world.services.engine) as db:
            return sorted(
                db.exec(
                    select(Credential.id)
                    .join(Achievement, Achievement.id == Credential.achievement_id)  # type: ignore[arg-type]
                    .where(
                        Credential.learner_id == world.learner(PARK),
                        Achievement.key == "ongoing-learning-annual",
                    )
                )
            )

    assert annual() == []
    world.share(PARK, world.university.credential(PARK, hours=8))
    assert annual() == []  # 8 of 16 hours
    world.share(
        PARK,
        world.university.credential(
            PARK, hours=8, id="urn:uuid:11111111-1111-4111-8111-111111111111"
        ),
    )
    (awarded,) = annual()
    world.share(
        PARK,
        world.university.credential(
            PARK, hours=8, id="urn:uuid:22222222-2222-4222-8222-222222222222"
        ),
    )
    assert annual() == [awarded]  # once a year


def test_a_shared_credential_found_revoked_revokes_the_award_it_completed(
    world: Ministry,
) -> None:
    """Audit 8, F2: a shared badge that completed a programme and is later found revoked by its
    issuer takes the award back, with a reason naming it."""
    from issuer.issuing.bitstring import status_entry
    from tests.issuer.test_imports import Network

    list_url = "https://university.example.org/status/1"
    network = Network()
    network.table[list_url] = world.university.status_list(list_url)
    world.services.network = network
    assert _declare(world, world.university.did, UNIVERSITY_COURSE, ELECTIVES[2]).status_code == 200
    for key in [*REQUIRED, *ELECTIVES[:2]]:
        world.issue(HOME, PARK, key)
    signed = world.university.credential(PARK, credentialStatus=status_entry(list_url, 5))
    world.share(PARK, signed)
    assert _awarded(world, PARK) == [HOME]
    network.table[list_url] = world.university.status_list(list_url, revoked=frozenset({5}))
    recheck = world.client.post(f"/api/v1/orgs/{ORG}/shared/recheck", headers=world.keys[HOME])
    assert recheck.json() == {"revoked": 1, "expired": 0, "notVerified": 0}
    with Session(world.services.engine) as db:
        award = db.exec(
            select(Credential)
            .join(Achievement, Achievement.id == Credential.achievement_id)  # type: ignore[arg-type]
            .where(Credential.learner_id == world.learner(PARK), Achievement.key == AWARD)
        ).one()
    assert award.revoked_at is not None
    assert award.revocation_reason is not None
    assert award.revocation_reason.startswith(f"Data Literacy ({signed['id']}), which counted")
