"""Regression tests (audit 8, F3): a credential shared with an organisation, or imported into a
wallet, ends when the verifier says it does, whatever its data model: a VCDM 1.1
``expirationDate`` and a VC-JOSE ``vc+jwt`` token's ``exp`` end it as ``validUntil`` does. Before,
only ``validUntil`` was read: such a credential never expired for the organisation (hours, the
skills cloud, programmes) and ``recheck`` looked only for revocation. ``recheck`` now also stops
counting one that no longer verifies; one it cannot decide (a host unreachable) stays as it was.
Migration 0019s fills in the end date of rows stored before."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import jwt as pyjwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, select

from issuer.context import Services
from issuer.core.db import migrate
from issuer.effects import work
from issuer.models import ImportedCredential, SharedCredential
from issuer.models.base import aware
from issuer.orgs import held, organisation
from issuer.orgs.cloud import org_cloud
from issuer.skills.frameworks import catalogue
from issuer.wallet import orgs as sharing
from issuer.wallet.badges import badges
from issuer.wallet.imports import imported_skills
from tests.issuer.org_api_fixtures import HOME, KIM, ORG, Ministry, ministry
from tests.units import import_badge

V1 = "https://www.w3.org/2018/credentials/v1"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
DI = "https://w3id.org/security/data-integrity/v2"
SHARED_ON = datetime(2026, 3, 1, tzinfo=UTC)
ENDS = datetime(2026, 6, 1, tzinfo=UTC)
LATER = datetime(2026, 7, 1, tzinfo=UTC)


@pytest.fixture
def world(services: Services, client: TestClient) -> Ministry:
    return ministry(services, client)


def vcdm11(world: Ministry) -> dict[str, Any]:
    """The university's badge for Kim as a VCDM 1.1 credential ending on ``ENDS``."""
    credential = world.university.credential(KIM)
    credential.pop("proof")
    credential["@context"] = [V1, OB, DI]
    credential["issuanceDate"] = credential.pop("validFrom")
    credential["expirationDate"] = "2026-06-01T00:00:00Z"
    return world.university.sign(credential)


def vc_jose(world: Ministry) -> str:
    """The university's badge for Kim as a ``vc+jwt`` token whose only end is its ``exp``."""
    credential = world.university.credential(KIM)
    credential.pop("proof")
    did = world.university.did
    header = {"typ": "vc+jwt", "alg": "EdDSA", "kid": f"{did}#{did.removeprefix('did:key:')}"}
    body = json.dumps({**credential, "exp": int(ENDS.timestamp())}).encode()
    return pyjwt.PyJWS().encode(body, world.university.key, algorithm="EdDSA", headers=header)


def share(world: Ministry, original: bytes, now: datetime = SHARED_ON) -> SharedCredential:
    learner = world.learner(KIM)
    row = import_badge(world.services, learner, original, now=now)
    with work(world.services) as db:
        imported = db.get(ImportedCredential, row.id)
        assert imported is not None
        shared = sharing.share(db, world.services, learner, ORG, imported, "wallet", now=now)
        db.flush()
        db.expunge(shared)
        return shared


def counted(world: Ministry, at: datetime) -> list[str]:
    with Session(world.services.engine) as db:
        org = organisation(db, ORG)
        return [h.achievement_name for h in held(db, org, None, at) if h.source == "shared"]


def cloud_codes(world: Ministry, at: datetime) -> set[str]:
    with Session(world.services.engine) as db:
        found = org_cloud(db, catalogue(world.services), organisation(db, ORG), None, at)
    return {f"{s['framework']}/{s['code']}" for s in found["skills"]}


def recheck(world: Ministry, now: datetime) -> sharing.Rechecked:
    with work(world.services) as db:
        return sharing.recheck(db, world.services, organisation(db, ORG), now=now)


def state(world: Ministry, now: datetime) -> str:
    with Session(world.services.engine) as db:
        [entry] = sharing.listing(db, organisation(db, ORG), now)
    return str(entry["state"])


@pytest.mark.parametrize("form", ["vcdm11", "vc+jwt"])
def test_a_shared_credential_ends_on_the_date_the_verifier_reads(
    world: Ministry, form: str
) -> None:
    original = json.dumps(vcdm11(world)).encode() if form == "vcdm11" else vc_jose(world).encode()
    shared = share(world, original)
    assert shared.valid_until is not None and aware(shared.valid_until) == ENDS
    assert counted(world, SHARED_ON) == ["Data Literacy"]
    assert "ESCO/S1.2" in cloud_codes(world, SHARED_ON)
    assert counted(world, LATER) == []
    assert "ESCO/S1.2" not in cloud_codes(world, LATER)
    assert state(world, SHARED_ON) == "counting" and state(world, LATER) == "expired"
    assert recheck(world, SHARED_ON) == sharing.Rechecked()
    assert recheck(world, LATER) == sharing.Rechecked()  # it ended on its own, nothing new
    assert counted(world, SHARED_ON) == ["Data Literacy"]  # it counted while it was valid


def test_recheck_takes_the_verifiers_end_date_for_rows_stored_without_it(
    world: Ministry,
) -> None:
    """A row stored before the fix (``valid_until`` empty) stops counting on the next recheck."""
    share(world, json.dumps(vcdm11(world)).encode())
    with work(world.services) as db:
        db.execute(text("UPDATE shared_credential SET valid_until = NULL"))
    assert counted(world, LATER) == ["Data Literacy"]
    assert recheck(world, LATER) == sharing.Rechecked(expired=1)
    assert counted(world, LATER) == []


def test_recheck_stops_counting_a_credential_that_no_longer_verifies(world: Ministry) -> None:
    share(world, json.dumps(world.university.credential(KIM)).encode())
    with work(world.services) as db:  # what is kept no longer matches its proof
        row = db.exec(select(SharedCredential)).one()
        row.document = {**row.document, "name": "Something else"}
        db.add(row)
    assert recheck(world, SHARED_ON) == sharing.Rechecked(rejected=1)
    assert counted(world, SHARED_ON) == []
    assert state(world, SHARED_ON) == "not-verified"
    with Session(world.services.engine) as db:
        row = db.exec(select(SharedCredential)).one()
        assert row.rejected_reason == "the signature does not match the credential"
    headers = world.keys[HOME]
    again = world.client.post(f"/api/v1/orgs/{ORG}/shared/recheck", headers=headers)
    assert again.json() == {"revoked": 0, "expired": 0, "notVerified": 0}  # final, as revoked
    share(world, json.dumps(world.university.credential(KIM)).encode())  # shared again
    assert counted(world, SHARED_ON) == ["Data Literacy"]


def test_a_recheck_the_verifier_cannot_decide_changes_nothing(world: Ministry) -> None:
    from issuer.issuing.bitstring import status_entry
    from tests.issuer.test_imports import Network

    list_url = "https://university.example.org/status/1"
    network = Network()
    network.table[list_url] = world.university.status_list(list_url)
    world.services.network = network
    credential = world.university.credential(KIM, credentialStatus=status_entry(list_url, 5))
    share(world, json.dumps(credential).encode())
    del network.table[list_url]  # the university's host is down
    assert recheck(world, SHARED_ON) == sharing.Rechecked()
    assert counted(world, SHARED_ON) == ["Data Literacy"]


def test_migration_0019s_fills_in_the_end_date_of_rows_stored_before(
    world: Ministry, services: Services
) -> None:
    share(world, json.dumps(vcdm11(world)).encode())
    migrate(services.engine, "0019o", down=True)
    with work(services) as db:  # as the code before stored it: validUntil only
        db.execute(text("UPDATE shared_credential SET valid_until = NULL"))
    migrate(services.engine)
    assert counted(world, SHARED_ON) == ["Data Literacy"]
    assert counted(world, LATER) == []
    migrate(services.engine, "0019o", down=True)
    migrate(services.engine)


def test_migration_0019s_reads_a_jwts_exp(world: Ministry, services: Services) -> None:
    share(world, vc_jose(world).encode())
    migrate(services.engine, "0019o", down=True)
    with work(services) as db:
        db.execute(text("UPDATE shared_credential SET valid_until = NULL"))
    migrate(services.engine)
    with Session(services.engine) as db:
        row = db.exec(select(SharedCredential)).one()
        assert row.valid_until is not None and aware(row.valid_until) == ENDS


@pytest.mark.parametrize("form", ["vcdm11", "vc+jwt"])
def test_an_imported_badge_ends_on_the_date_the_verifier_reads(world: Ministry, form: str) -> None:
    """The wallet: such a badge shows as expired and adds no skills after its end."""
    original = json.dumps(vcdm11(world)).encode() if form == "vcdm11" else vc_jose(world).encode()
    learner = world.learner(KIM)
    row = import_badge(world.services, learner, original, now=SHARED_ON)
    with Session(world.services.engine) as db:
        imported = db.get(ImportedCredential, row.id)
        assert imported is not None
        assert imported_skills(imported, SHARED_ON, [KIM])
        assert imported_skills(imported, LATER, [KIM]) == []
        [badge] = [b for b in badges(db, learner, LATER) if b.imported]
        assert badge.status == "expired" and badge.status_on == ENDS.date()
