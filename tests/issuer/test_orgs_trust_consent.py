"""An organisation's home issuer cannot read another tenant's badges by trusting it (audit round
5, F1): trusting a local issuer through the API (by slug, or by its DID as ``issuerRef``) is
pending until that issuer agrees with its own key; only then do its badges count in the hours,
skills and every view built on ``issuer.orgs.held``. Its refusal (or later withdrawal) removes
the trust. Badges a member shared keep counting as before: the learner consented. The ministry
(``mois``, home ``ministry``) trusts ``academy``, which agreed (org_api_fixtures); ``rogue`` is
another issuer on this Laurel."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from issuer.context import Services
from issuer.orgs import held, organisation
from tests.issuer.org_api_fixtures import ACADEMY, HOME, KIM, ORG, ROGUE, Ministry, ministry
from tests.units import create_api_key

COURSE = "emotional-intelligence"


@pytest.fixture
def world(services: Services, client: TestClient) -> Ministry:
    return ministry(services, client)


def _counted_from(world: Ministry, slug: str) -> list[str]:
    """The ``here`` badges of issuer ``slug`` that count for the ministry."""
    with Session(world.services.engine) as db:
        org = organisation(db, ORG)
        return [
            h.achievement_name
            for h in held(db, org)
            if h.source == "here" and h.issuer_ref.endswith(f":{slug}")
        ]


def _views(world: Ministry, name: str = "Rogue Inst") -> dict[str, Any]:
    """What the ministry's read views show of the badges of the issuer called ``name``."""
    headers = world.keys[HOME]
    hours = world.client.get(f"/api/v1/orgs/{ORG}/hours", params={"year": 2026}, headers=headers)
    skills = world.client.get(f"/api/v1/orgs/{ORG}/skills", headers=headers)
    assert hours.status_code == skills.status_code == 200, (hours.text, skills.text)
    return {
        "hours": [b for m in hours.json()["members"] for b in m["badges"] if b["issuer"] == name],
        "skills": [
            s for skill in skills.json()["skills"] for s in skill["sources"] if s["issuer"] == name
        ],
    }


def _trust(world: Ministry, slug: str) -> dict[str, Any]:
    listed = world.client.get(f"/api/v1/orgs/{ORG}/trust", headers=world.keys[HOME]).json()
    return next(t for t in listed["trusted"] if t["local"] == slug)


def test_a_local_issuer_trusted_through_the_api_counts_only_once_it_agrees(
    world: Ministry,
) -> None:
    world.issue(ROGUE, KIM, COURSE)
    asked = world.client.post(
        f"/api/v1/orgs/{ORG}/trust", json={"issuer": ROGUE}, headers=world.keys[HOME]
    )
    assert asked.status_code == 200, asked.text
    assert asked.json()["agreed"] is False
    assert _trust(world, ROGUE)["agreed"] is False
    assert _counted_from(world, ROGUE) == []
    assert _views(world) == {"hours": [], "skills": []}

    rogue = world.keys[ROGUE]
    pending = world.client.get(f"/api/v1/issuers/{ROGUE}/trusted-by", headers=rogue)
    assert pending.status_code == 200, pending.text
    assert [(t["organisation"], t["issuer"], t["agreed"]) for t in pending.json()["trustedBy"]] == [
        (ORG, HOME, False)
    ]
    agreed = world.client.post(f"/api/v1/issuers/{ROGUE}/trusted-by/{ORG}", headers=rogue)
    assert agreed.status_code == 200, agreed.text
    assert agreed.json()["agreed"] is True
    assert _trust(world, ROGUE)["agreed"] is True
    assert _counted_from(world, ROGUE) == ["Emotional Intelligence"]
    views = _views(world)
    assert len(views["hours"]) == 1 and views["skills"]


def test_trusting_a_local_issuer_by_its_did_is_pending_too(world: Ministry) -> None:
    world.issue(ROGUE, KIM, COURSE)
    did = f"did:web:laurel.test:issuers:{ROGUE}"
    asked = world.client.post(
        f"/api/v1/orgs/{ORG}/trust", json={"issuerRef": did, "name": "R"}, headers=world.keys[HOME]
    )
    assert asked.status_code == 200, asked.text
    assert (asked.json()["local"], asked.json()["agreed"]) == (ROGUE, False)
    assert _counted_from(world, ROGUE) == []
    assert _views(world) == {"hours": [], "skills": []}


def test_the_trusted_issuer_refuses_or_withdraws_its_agreement(world: Ministry) -> None:
    world.issue(ACADEMY, KIM, COURSE)
    assert _counted_from(world, ACADEMY) == ["Emotional Intelligence"]  # agreed in the fixture
    academy = world.keys[ACADEMY]
    withdrawn = world.client.delete(f"/api/v1/issuers/{ACADEMY}/trusted-by/{ORG}", headers=academy)
    assert withdrawn.status_code == 204, withdrawn.text
    assert _counted_from(world, ACADEMY) == []
    listed = world.client.get(f"/api/v1/orgs/{ORG}/trust", headers=world.keys[HOME]).json()
    assert ACADEMY not in [t["local"] for t in listed["trusted"]]

    again = world.client.post(
        f"/api/v1/orgs/{ORG}/trust", json={"issuer": ACADEMY}, headers=world.keys[HOME]
    )
    assert again.json()["agreed"] is False  # asking again needs a new agreement
    refused = world.client.delete(f"/api/v1/issuers/{ACADEMY}/trusted-by/{ORG}", headers=academy)
    assert refused.status_code == 204
    assert _counted_from(world, ACADEMY) == []
    gone = world.client.delete(f"/api/v1/issuers/{ACADEMY}/trusted-by/{ORG}", headers=academy)
    assert gone.status_code == 404


def test_only_the_trusted_issuers_admin_key_agrees(world: Ministry, services: Services) -> None:
    world.client.post(f"/api/v1/orgs/{ORG}/trust", json={"issuer": ROGUE}, headers=world.keys[HOME])
    path = f"/api/v1/issuers/{ROGUE}/trusted-by/{ORG}"
    assert world.client.post(path, headers=world.keys[HOME]).status_code == 404
    assert world.client.delete(path, headers=world.keys[HOME]).status_code == 404
    reader = {"Authorization": f"Bearer {create_api_key(services, ROGUE, ['read'])}"}
    assert world.client.post(path, headers=reader).status_code == 403
    assert (
        world.client.get(f"/api/v1/issuers/{ROGUE}/trusted-by", headers=reader).status_code == 200
    )
    rogue = world.keys[ROGUE]
    nothing = world.client.post(f"/api/v1/issuers/{ROGUE}/trusted-by/nowhere", headers=rogue)
    assert nothing.status_code == 404
    assert _trust(world, ROGUE)["agreed"] is False


def test_a_pending_trust_awards_nothing_to_the_home_issuer(world: Ministry) -> None:
    """Programmes read ``held`` too: an elective from an issuer that has not agreed does not
    complete the ministry's programme."""
    from tests.issuer.test_orgs import ELECTIVES, REQUIRED, _awarded

    world.client.post(f"/api/v1/orgs/{ORG}/trust", json={"issuer": ROGUE}, headers=world.keys[HOME])
    for key in [*REQUIRED, *ELECTIVES[:2]]:
        world.issue(HOME, KIM, key)
    world.issue(ROGUE, KIM, ELECTIVES[2])
    assert _awarded(world, KIM) == []


def test_a_member_shared_credential_counts_under_any_trust_of_its_issuer(world: Ministry) -> None:
    """The learner's consent is the sharing: trusts of issuers elsewhere need no agreement."""
    world.share(KIM, world.university.credential(KIM))
    with Session(world.services.engine) as db:
        shared = [h for h in held(db, organisation(db, ORG)) if h.source == "shared"]
    assert [h.issuer_ref for h in shared] == [world.university.did]
    listed = world.client.get(f"/api/v1/orgs/{ORG}/trust", headers=world.keys[HOME]).json()
    assert [t["agreed"] for t in listed["trusted"]] == [True, True, True]


def test_existing_trusts_are_agreed_by_the_migration(world: Ministry) -> None:
    from sqlalchemy import text

    from issuer.core.db import migrate

    world.client.post(f"/api/v1/orgs/{ORG}/trust", json={"issuer": ROGUE}, headers=world.keys[HOME])
    migrate(world.services.engine, "0016", down=True)
    with world.services.engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM org_trust")).scalar() == 3
    migrate(world.services.engine)
    world.issue(ROGUE, KIM, COURSE)
    assert _counted_from(world, ROGUE) == ["Emotional Intelligence"]


def test_the_operator_trusts_a_local_issuer_from_the_command_line(
    world: Ministry, services: Services
) -> None:
    """The instance's operator runs every issuer on it: ``laurel orgs trust`` makes an agreed
    trust, and agrees to one the API left pending."""
    from typer.testing import CliRunner

    from issuer.cli import app

    environment = {
        "LAUREL_DATABASE_URL": services.settings.database_url,
        "LAUREL_KEYS_DIR": str(services.settings.keys_dir),
        "LAUREL_KEY_PASSPHRASE": services.settings.key_passphrase,
        "LAUREL_BASE_URL": services.settings.base_url,
    }
    world.issue(ROGUE, KIM, COURSE)
    world.client.post(f"/api/v1/orgs/{ORG}/trust", json={"issuer": ROGUE}, headers=world.keys[HOME])
    assert _counted_from(world, ROGUE) == []
    trusted = CliRunner().invoke(
        app, ["orgs", "trust", "--org", ORG, "--issuer", ROGUE], env=environment
    )
    assert trusted.exit_code == 0, trusted.output
    assert json.loads(trusted.output)["agreed"] is True
    assert _counted_from(world, ROGUE) == ["Emotional Intelligence"]
    assert _trust(world, ROGUE)["agreed"] is True
