"""Audit round 9: ``Learner.name`` was set once, by whichever issuer first named an email (since
audit 10 only the learner sets it), so what
one issuer sends or shows about a learner (its credential list, webhook events, LRS statements)
names them as THAT issuer did — the name its credential signs, else its organisation's roster —
and never with another issuer's text. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from issuer.context import Services
from issuer.core.db import unit_of_work
from issuer.issuing import credentials as issued
from issuer.models import Issuer, Learner, LearnerEmail, Organisation, OrgMember
from tests.issuer.conftest import issue_body, make_issuer
from tests.issuer.test_webhooks import Receiver, api, loopback, receiver
from tests.issuer.test_xapi_lrs import FakeLrs, lrs

__all__ = ["api", "loopback", "lrs", "receiver"]  # fixtures shared with those tests
LURE = "Kim. ACTION NEEDED: re-verify your wallet at https://evil.example/login -"
KIM = "kim@example.org"


@pytest.fixture
def tenants(api: TestClient, loopback: Services) -> Iterator[dict[str, dict[str, Any]]]:
    """Tenant ``evil`` names kim@example.org first, with a lure; tenant ``hrd`` comes second."""
    evil = make_issuer(loopback, api, "evil")
    hrd = make_issuer(loopback, api, "hrd")
    first = api.post(
        "/api/v1/issuers/evil/credentials",
        json=issue_body(KIM, recipient={"email": KIM, "name": LURE}),
        headers=evil,
    )
    assert first.status_code == 201, first.text
    with unit_of_work(loopback.engine) as db:
        learner = db.exec(select(Learner)).one()
        assert learner.name is None  # audit 10: an issuer's name is not the learner's own
        learner.name = LURE  # as a record made before keeps it (or a name she gave herself)
        db.add(learner)
    yield {"evil": evil, "hrd": hrd}


def _issue(api: TestClient, headers: dict[str, Any], name: str | None) -> str:
    recipient = {"email": KIM, **({"name": name} if name else {})}
    response = api.post(
        "/api/v1/issuers/hrd/credentials",
        json=issue_body(KIM, recipient=recipient),
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _listed(api: TestClient, headers: dict[str, Any]) -> dict[str, Any]:
    found = api.get("/api/v1/issuers/hrd/credentials", headers=headers).json()["credentials"]
    return {c["id"]: c["recipient"] for c in found}


def test_another_issuers_name_is_not_in_this_issuers_list_webhooks_or_lrs(
    api: TestClient,
    loopback: Services,
    tenants: dict[str, dict[str, Any]],
    receiver: Receiver,
    lrs: FakeLrs,
) -> None:
    hrd = tenants["hrd"]
    hooked = api.post(
        "/api/v1/issuers/hrd/webhooks",
        json={"url": receiver.url, "events": ["credential.issued"]},
        headers=hrd,
    )
    assert hooked.status_code == 201, hooked.text
    settings = {"lrs": {"endpoint": lrs.url, "key": "laurel", "secret": "s3cret-lrs-password"}}
    assert api.put("/api/v1/issuers/hrd/xapi/settings", json=settings, headers=hrd).is_success

    named = _issue(api, hrd, "Kim Min-jun")
    unnamed = _issue(api, hrd, None)  # HRD gives no name: none, not evil's

    assert _listed(api, hrd) == {
        named: {"email": KIM, "name": "Kim Min-jun"},
        unnamed: {"email": KIM, "name": None},
    }
    events = [json.loads(body)["data"]["credential"] for _, body in receiver.got]
    assert {e["id"]: e["recipient"]["name"] for e in events} == {
        named: "Kim Min-jun",
        unnamed: None,
    }
    actors = [s["actor"] for s in lrs.statements()]
    assert actors == [
        {"objectType": "Agent", "name": "Kim Min-jun", "mbox": f"mailto:{KIM}"},
        {"objectType": "Agent", "mbox": f"mailto:{KIM}"},
    ]
    everything = json.dumps([events, lrs.statements(), _listed(api, hrd)])
    assert "evil.example" not in everything and "ACTION NEEDED" not in everything
    # evil's own list shows evil's own text (it is the name evil gave)
    [mine] = api.get("/api/v1/issuers/evil/credentials", headers=tenants["evil"]).json()[
        "credentials"
    ]
    assert mine["recipient"]["name"] == LURE


def test_the_issuers_roster_names_a_learner_its_credential_does_not(
    api: TestClient, loopback: Services, tenants: dict[str, dict[str, Any]]
) -> None:
    with unit_of_work(loopback.engine) as db:
        hrd = db.exec(select(Issuer).where(Issuer.slug == "hrd")).one()
        evil = db.exec(select(Issuer).where(Issuer.slug == "evil")).one()
        learner = db.exec(select(LearnerEmail).where(LearnerEmail.email == KIM)).one().learner_id
        for issuer, name in ((evil, "Evil's roster name"), (hrd, "김민준")):
            assert issuer.id is not None
            org = Organisation(slug=f"org-{uuid.uuid4().hex[:8]}", issuer_id=issuer.id, name="Org")
            db.add(org)
            db.flush()
            assert org.id is not None
            db.add(OrgMember(org_id=org.id, learner_id=learner, name=name))
    unnamed = _issue(api, tenants["hrd"], None)
    named = _issue(api, tenants["hrd"], "Kim Min-jun")  # the credential's own name comes first
    assert _listed(api, tenants["hrd"]) == {
        unnamed: {"email": KIM, "name": "김민준"},
        named: {"email": KIM, "name": "Kim Min-jun"},
    }


def test_only_an_unhashed_name_identifier_is_a_name() -> None:
    def document(*identifiers: dict[str, Any]) -> dict[str, Any]:
        return {"credentialSubject": {"identifier": list(identifiers)}}

    email = {"identityType": "emailAddress", "hashed": True, "identityHash": "sha256$00"}
    name = {"identityType": "name", "hashed": False, "identityHash": "Kim Min-jun"}
    assert issued.name_in(document(email, name)) == "Kim Min-jun"
    assert issued.name_in(document(email)) is None
    assert issued.name_in(document({**name, "hashed": True})) is None
    assert issued.name_in(document({**name, "identityHash": " "})) is None
    assert issued.name_in({"credentialSubject": "urn:x"}) is None


def test_an_issuers_name_for_a_new_learner_is_not_hers(api: TestClient, loopback: Services) -> None:
    """Audit 10: the first issuer to name an email no longer writes the learner record's name,
    which her wallet greets her with and her OB 3.0 profile (getProfile) gives to applications."""
    from issuer.wallet.obapi import profile

    evil = make_issuer(loopback, api, "evil")
    issued_first = api.post(
        "/api/v1/issuers/evil/credentials",
        json=issue_body(KIM, recipient={"email": KIM, "name": LURE}),
        headers=evil,
    )
    assert issued_first.status_code == 201, issued_first.text
    with unit_of_work(loopback.engine, write=False) as db:
        learner = db.exec(select(Learner)).one()
        assert learner.name is None
        assert learner.id is not None and "name" not in profile(db, learner.id)
