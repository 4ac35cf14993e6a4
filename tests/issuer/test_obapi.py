"""The Open Badges 3.0 API host's wallet side (issuer/wallet/obapi.py, ``upsert_badge``): what
``getCredentials`` lists and pages, ``upsertCredential``'s verify-then-store, and the profile.
The HTTP choreography (OAuth, Imsx errors, headers) is in tests/conformance/test_ob_api.py."""

from __future__ import annotations

import copy
import json
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col

from issuer.context import Services
from issuer.core.db import migrate
from issuer.core.errors import BadRequest, WalletFull
from issuer.models import ImportedCredential, LearnerEmail
from issuer.wallet import obapi
from issuer.wallet.imports import upsert_badge
from tests.issuer.credentials import issued_to
from tests.issuer.test_imports import EMAIL, NOW, ExternalIssuer, Network, World, as_bytes
from tests.units import import_badge, resolve_learner


@pytest.fixture(name="world")
def _world(services: Services) -> World:
    """A learner's wallet and an external did:key issuer (as in test_imports.py)."""
    migrate(services.engine)
    services.network = Network()
    learner = resolve_learner(services, EMAIL, "Kim Min-jun")
    assert learner.id is not None
    with Session(services.engine) as session:  # signed in once, as an app's user has
        confirmed = update(LearnerEmail).where(col(LearnerEmail.learner_id) == learner.id)
        session.execute(confirmed.values(verified=True))
        session.commit()
    return World(services, services.network, learner.id, ExternalIssuer())


def _mine(world: World, **overrides: Any) -> dict[str, Any]:
    """A credential of the world's issuer (unsigned), issued to the learner."""
    return issued_to(world.issuer.credential(**overrides), EMAIL)


def _signed(world: World, **overrides: Any) -> dict[str, Any]:
    return world.issuer.sign(_mine(world, **overrides))


def _upsert(world: World, data: bytes) -> tuple[int, bool]:
    with Session(world.services.engine) as session:
        row, created = upsert_badge(session, world.services, world.learner_id, data, now=NOW)
        session.commit()
        assert row.id is not None
        return row.id, created


def _held(world: World, since: datetime | None = None) -> list[obapi.Held]:
    with Session(world.services.engine) as session:
        return obapi.held(session, world.learner_id, since)


def test_a_verified_credential_is_stored_once_and_listed_unchanged(world: World) -> None:
    signed = _signed(world)
    first, created = _upsert(world, as_bytes(signed))
    again, created_again = _upsert(world, as_bytes(signed))
    assert created and not created_again and again == first
    [item] = _held(world)
    assert item.credential == signed and item.jws is None
    assert obapi.page_body([item]) == {"credential": [signed], "compactJwsString": []}


def test_a_compact_jws_is_listed_as_sent(world: World) -> None:
    token = world.issuer.jwt(_mine(world))
    _, created = _upsert(world, token.encode())
    assert created
    [item] = _held(world)
    assert item.jws == token and item.credential is None


def test_what_does_not_verify_is_never_stored(world: World) -> None:
    tampered = _signed(world)
    tampered["credentialSubject"]["achievement"]["name"] = "Doctor of Medicine"
    with pytest.raises(BadRequest, match="does not verify, so it was not stored"):
        _upsert(world, as_bytes(tampered))
    with pytest.raises(BadRequest, match="empty"):
        _upsert(world, b"  ")
    assert world.count() == 0 and _held(world) == []


def test_an_equal_credential_replaces_an_older_one_never_a_newer_one(world: World) -> None:
    older = _mine(world, validFrom="2026-01-10T00:00:00Z")
    newer = copy.deepcopy(older)
    newer["validFrom"] = "2026-02-01T00:00:00Z"
    older_signed, newer_signed = world.issuer.sign(older), world.issuer.sign(newer)
    _upsert(world, as_bytes(older_signed))
    _, created = _upsert(world, as_bytes(newer_signed))
    assert not created
    assert [item.credential for item in _held(world)] == [newer_signed]
    _, created = _upsert(world, as_bytes(older_signed))  # older: the newer one stays
    assert not created
    assert [item.credential for item in _held(world)] == [newer_signed]


def test_since_and_order(world: World) -> None:
    early = _signed(world, id=f"urn:uuid:{uuid.uuid4()}", validFrom="2026-01-02T00:00:00Z")
    late = _signed(world, id=f"urn:uuid:{uuid.uuid4()}", validFrom="2026-02-02T00:00:00Z")
    _upsert(world, as_bytes(late))
    _upsert(world, as_bytes(early))
    assert [item.credential for item in _held(world)] == [early, late]
    since = datetime(2026, 2, 1, tzinfo=UTC)
    assert [item.credential for item in _held(world, since)] == [late]
    assert _held(world, since + timedelta(days=30)) == []


@pytest.mark.parametrize(
    ("total", "limit", "offset", "expected"),
    [
        (5, 2, 0, {"first": 0, "last": 4, "next": 2}),
        (5, 2, 2, {"first": 0, "last": 4, "next": 4, "prev": 0}),
        (5, 2, 4, {"first": 0, "last": 4, "prev": 2}),
        (4, 2, 2, {"first": 0, "last": 2, "prev": 0}),
        (0, 2, 0, {"first": 0, "last": 0}),
        (5, 10, 3, {"first": 0, "last": 0, "prev": 0}),
    ],
)
def test_paging_links(total: int, limit: int, offset: int, expected: dict[str, int]) -> None:
    url = "https://laurel.test/ims/ob/v3p0/credentials"
    links = dict(obapi.paging_links(url, total, limit, offset))
    assert links == {rel: f"{url}?limit={limit}&offset={at}" for rel, at in expected.items()}


def test_profile_keeps_the_name_and_refuses_the_rest(world: World) -> None:
    with Session(world.services.engine) as session:
        current = obapi.profile(session, world.learner_id)
        assert current["type"] == "Profile" and current["name"] == "Kim Min-jun"
        assert current["email"] == "kim@example.org"
        changed = obapi.update_profile(session, world.learner_id, {**current, "name": "Kim M."})
        assert changed == {**current, "name": "Kim M."}
        for bad, reason in [
            ({**current, "phone": "+82 2 0000 0000"}, "does not keep these profile fields: phone"),
            ({**current, "email": "other@example.org"}, "email cannot be changed here"),
            ({**current, "id": "urn:uuid:0"}, "id cannot be changed here"),
            ({**current, "type": "Achievement"}, "type must be Profile"),
            ({**current, "name": " "}, "name must be"),
            # one line, nothing that hides or reorders text (audit round 8: stored as given)
            ({**current, "name": "Lee Ji-eun\r\n\x01"}, "one line of text"),
            ({**current, "name": "Kim\x00"}, "one line of text"),  # a 500 on PostgreSQL before
            ({**current, "name": "Kim\x85Min-jun"}, "one line of text"),  # C1: next line
            ({**current, "name": "Kim \u202eDhP"}, "direction overrides"),
            ({**current, "name": "Kim \u2066x\u2069"}, "direction overrides"),
        ]:
            with pytest.raises(BadRequest, match=reason):
                obapi.update_profile(session, world.learner_id, bad)
        assert obapi.profile(session, world.learner_id)["name"] == "Kim M."
        korean = obapi.update_profile(session, world.learner_id, {**current, "name": "김민준"})
        assert korean["name"] == "김민준"


@pytest.mark.parametrize(
    ("path", "heading"), [("/terms", "Terms of service"), ("/privacy", "Privacy")]
)
def test_terms_and_privacy_pages(client: TestClient, path: str, heading: str) -> None:
    page = client.get(path)
    assert page.status_code == 200 and heading in page.text
    assert "LAUREL_" in page.text
    korean = client.get(path, params={"lang": "ko"})
    assert korean.status_code == 200 and ("약관" in korean.text or "개인정보" in korean.text)


def test_terms_and_privacy_urls_are_http_links() -> None:
    from pydantic import ValidationError

    from issuer.core.settings import Settings

    with pytest.raises(ValidationError, match="LAUREL_TERMS_URL must be an http"):
        Settings(demo=True, terms_url="javascript:alert(1)")
    assert (
        Settings(demo=True, privacy_url="https://x.example/p").privacy_url == "https://x.example/p"
    )


def test_another_issuers_credential_with_the_same_id_is_another_credential(world: World) -> None:
    """Audit round 8, F1: OB 3.0 equality is issuer.id and id. An app's own credential reusing
    the id of a verified badge from another issuer is kept beside it, never over it."""
    genuine = _signed(world, validFrom="2026-01-15T09:00:00Z")
    mill = ExternalIssuer(name="Diploma Mill")
    fake = mill.sign(issued_to(mill.credential(validFrom="2026-02-01T00:00:00Z"), EMAIL))
    assert fake["id"] == genuine["id"]
    first, _ = _upsert(world, as_bytes(genuine))
    second, created = _upsert(world, as_bytes(fake))
    assert created and second != first
    assert [item.credential for item in _held(world)] == [genuine, fake]
    stored = {row.id: row for row in world.rows()}
    assert (
        stored[first].original == as_bytes(genuine) and stored[first].issuer_ref == world.issuer.did
    )
    assert stored[second].issuer_ref == mill.did
    # the same issuer's newer credential with that id still replaces its own only
    newer = _signed(world, validFrom="2026-03-01T00:00:00Z")
    again, created = _upsert(world, as_bytes(newer))
    assert (again, created) == (first, False)
    assert [item.credential for item in _held(world)] == [fake, newer]


def test_a_credential_issued_to_someone_else_is_not_stored(world: World) -> None:
    """Audit round 8, F4: what upsert keeps, getCredentials serves as the learner's own."""
    theirs = world.signed()  # issued to learner@example.org
    with pytest.raises(BadRequest, match="issued to someone else"):
        _upsert(world, as_bytes(theirs))
    assert world.count() == 0


def test_imports_of_someone_else_are_not_listed_until_their_email_is_confirmed(
    world: World,
) -> None:
    """A badge of someone else kept in the wallet ("not yours" there) is not served to apps;
    once its recipient's email is one of the learner's confirmed ones, it is."""
    theirs = world.signed(id=f"urn:uuid:{uuid.uuid4()}")
    import_badge(world.services, world.learner_id, as_bytes(theirs), now=NOW)
    mine = _signed(world)
    _upsert(world, as_bytes(mine))
    with Session(world.services.engine) as session:
        assert obapi.page(session, world.learner_id) == (1, _held(world))
    assert [item.credential for item in _held(world)] == [mine]
    with Session(world.services.engine) as session:
        other = LearnerEmail(learner_id=world.learner_id, email="learner@example.org")
        session.add(other)
        session.commit()
        assert [item.credential for item in _held(world)] == [mine]  # not confirmed yet
        other.verified = True
        session.add(other)
        session.commit()
    assert {item.credential["id"] for item in _held(world) if item.credential} == {
        mine["id"],
        theirs["id"],
    }


def _store(world: World, size: int, when: str) -> int:
    """A verified import of about ``size`` bytes issued to the learner, stored as it is."""
    credential = _mine(world, id=f"urn:uuid:{uuid.uuid4()}", validFrom=when)
    credential["credentialSubject"]["achievement"]["description"] = "x" * size
    with Session(world.services.engine) as session:
        row = ImportedCredential(
            learner_id=world.learner_id,
            original=as_bytes(credential),
            media_type="application/vc+ld+json",
            document=credential,
            credential_id=credential["id"],
            issuer_ref=world.issuer.did,
            name="Data Literacy",
            issuer_name="Open University of Testing",
            issued_on=datetime.fromisoformat(when),
            verdict="verified",
            report={"verdict": "verified"},
        )
        session.add(row)
        session.commit()
        assert row.id is not None
        return row.id


def test_a_page_reads_only_its_own_credentials(world: World) -> None:
    """Audit round 8, F2: ``limit=1`` read every stored credential whole (25 of 2 MB: 238 MB).
    Now the list is cut from each one's order and recipient, and only the page is read."""
    _store(world, 10, "2026-01-01T00:00:00+00:00")
    for day in range(2, 7):
        _store(world, 1_000_000, f"2026-01-{day:02d}T00:00:00+00:00")
    with Session(world.services.engine) as session:
        tracemalloc.start()
        try:
            total, items = obapi.page(session, world.learner_id, limit=1)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert total == 6 and len(items) == 1
        assert len(json.dumps(items[0].credential)) < 10_000
        assert peak < 1_000_000, peak  # less than one of the large ones
        since = datetime(2026, 1, 4, tzinfo=UTC)
        total, items = obapi.page(session, world.learner_id, since, limit=1, offset=1)
        assert total == 2 and [item.issued.day for item in items] == [6]


def test_a_wallet_keeps_a_bounded_number_and_size_of_credentials(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(world.services.settings, "wallet_max_credentials", 2)
    _upsert(world, as_bytes(_signed(world, id=f"urn:uuid:{uuid.uuid4()}")))
    _upsert(world, as_bytes(_signed(world, id=f"urn:uuid:{uuid.uuid4()}")))
    with pytest.raises(WalletFull, match="the most it can keep"):
        _upsert(world, as_bytes(_signed(world, id=f"urn:uuid:{uuid.uuid4()}")))
    with pytest.raises(WalletFull):  # importing in the wallet is bounded too
        import_badge(world.services, world.learner_id, as_bytes(world.signed(id="urn:x:1")))
    first = world.rows()[0]
    again, created = _upsert(world, first.original)  # an equal one still replaces
    assert (again, created) == (first.id, False) and world.count() == 2
    monkeypatch.setattr(world.services.settings, "wallet_max_credentials", 10)
    monkeypatch.setattr(world.services.settings, "wallet_max_bytes", 2_000_000)
    _store(world, 1_998_000, "2026-01-01T00:00:00+00:00")
    with pytest.raises(WalletFull, match="more than the 2,000,000 bytes"):
        _upsert(world, as_bytes(_signed(world, id=f"urn:uuid:{uuid.uuid4()}")))
    assert world.count() == 3
