"""Importing badges from other issuers into a wallet: every accepted form verifies and is kept
with its honest verdict; Open Badges 2.0 is kept as legacy; bad input stores nothing.

The external issuers are independent of this Laurel instance: a fresh Ed25519 did:key signing
through Laurel's signing primitives (so everything verifies offline), and Digital Bazaar's `vc`
library under Node (tests/interop). Their URLs are answered by a fake ``services.network``.
"""

from __future__ import annotations

import copy
import io
import json
import math
import shutil
import struct
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PIL import Image
from sqlmodel import Session, col, func, select

from issuer.context import Services
from issuer.core.db import migrate, transaction, writer
from issuer.core.errors import BadRequest, Conflict, LaurelError, NotFound, PayloadTooLarge
from issuer.crypto.keys import did_key, did_key_method, generate_ed25519
from issuer.crypto.signing import sign_data_integrity, sign_jwt
from issuer.institutes.issuers import get_issuer
from issuer.issuing.achievements import save_achievement
from issuer.issuing.bitstring import empty_bits, set_bit, status_entry, status_list_credential
from issuer.jobs import recheck_stale
from issuer.models import ImportedCredential
from issuer.schemas import AchievementIn, IssueRequest
from issuer.wallet.imports import imported_skills
from tests.issuer.conftest import ACHIEVEMENT
from tests.issuer.credentials import make_credential
from tests.units import create_issuer, import_badge, issue, recheck, resolve_learner
from verifier.baking import bake_png, bake_svg
from verifier.errors import FetchError
from verifier.fetch import HttpFetcher

NOW = datetime(2026, 3, 1, tzinfo=UTC)
ISSUED = "2026-01-15T09:00:00Z"
EMAIL = "kim@example.org"
LIST_URL = "https://badges.example.org/status/1"
BADGE_URL = "https://badges.example.org/credentials/1.json"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><rect/></svg>'
ALIGNMENTS = [
    {
        "type": ["Alignment"],
        "targetName": "Data analysis",
        "targetUrl": "https://esco.example.org/skill/S1.2",
        "targetFramework": "ESCO",
        "targetCode": "S1.2",
    },
    {
        "type": ["Alignment"],
        "targetName": "Team Building",
        "targetUrl": "https://elsewhere.example.org/frameworks/ecq/ECQ2-4",
        "targetCode": "ECQ2-4",
    },
]


class Network:
    """``services.network`` in tests: a table of URLs; every other URL is unreachable."""

    def __init__(self) -> None:
        self.table: dict[str, bytes] = {}
        self.urls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        if url not in self.table:
            raise FetchError(url, "unreachable in tests")
        return self.table[url]


@dataclass
class ExternalIssuer:
    """Another organisation's issuer: a did:key nobody here knows."""

    name: str = "Open University of Testing"
    key: Any = field(default_factory=generate_ed25519)

    @property
    def did(self) -> str:
        return did_key(self.key)

    def credential(self, **overrides: Any) -> dict[str, Any]:
        credential = make_credential(self.did, **overrides)
        credential["issuer"]["name"] = self.name
        achievement = credential["credentialSubject"]["achievement"]
        achievement.update(name="Data Literacy", achievementType="Certificate", creditsAvailable=16)
        achievement["alignment"] = copy.deepcopy(ALIGNMENTS)
        return credential

    def sign(self, credential: dict[str, Any]) -> dict[str, Any]:
        return sign_data_integrity(credential, self.key, did_key_method(self.key), created=ISSUED)

    def jwt(self, credential: dict[str, Any]) -> str:
        return sign_jwt(credential, self.key, kid=did_key_method(self.key))

    def status_list(self, revoked: frozenset[int] = frozenset()) -> bytes:
        bits = empty_bits()
        for index in revoked:
            set_bit(bits, index)
        document = status_list_credential(
            LIST_URL, self.did, bytes(bits), valid_from="2026-01-01T00:00:00Z"
        )
        return json.dumps(self.sign(document)).encode()


@dataclass
class World:
    services: Services
    network: Network
    learner_id: int
    issuer: ExternalIssuer

    def signed(self, **overrides: Any) -> dict[str, Any]:
        return self.issuer.sign(self.issuer.credential(**overrides))

    def rows(self) -> list[ImportedCredential]:
        with Session(self.services.engine) as session:
            return list(
                session.exec(select(ImportedCredential).order_by(col(ImportedCredential.id)))
            )

    def count(self) -> int:
        with Session(self.services.engine) as session:
            return session.exec(select(func.count()).select_from(ImportedCredential)).one()


@pytest.fixture
def world(services: Services) -> World:
    migrate(services.engine)
    network = Network()
    services.network = network
    learner = resolve_learner(services, EMAIL, "Kim Min-jun")
    assert learner.id is not None
    return World(services, network, learner.id, ExternalIssuer())


def as_bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


def png(width: int = 8, height: int = 8) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "teal").save(out, "PNG")
    return out.getvalue()


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def with_chunk(image: bytes, kind: bytes, data: bytes) -> bytes:
    """``image`` with one more chunk right after IHDR (8-byte signature + 25-byte IHDR)."""
    return image[:33] + chunk(kind, data) + image[33:]


# --- OB 3.0, every form -----------------------------------------------------------------------


def test_json_credential_is_verified_and_stored(world: World) -> None:
    signed = world.signed()
    original = as_bytes(signed)
    row = import_badge(world.services, world.learner_id, original, filename="badge.json", now=NOW)
    assert row.id is not None and row.learner_id == world.learner_id
    assert row.verdict == "verified" and row.report["verdict"] == "verified"
    assert not row.legacy
    assert row.original == original and row.media_type == "application/vc+ld+json"
    assert row.document == signed
    assert row.credential_id == signed["id"]
    assert row.name == "Data Literacy"
    assert row.issuer_name == "Open University of Testing"
    assert row.issued_on == datetime(2026, 1, 15, 9, tzinfo=UTC)
    assert row.checked_at == NOW
    assert row.source_url is None
    assert {c["name"]: c["outcome"] for c in row.report["checks"]}["proof"] == "passed"
    [stored] = world.rows()
    assert stored.id == row.id and stored.original == original and stored.document == signed


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_credential_signed_by_another_implementation_is_verified(world: World) -> None:
    from tests.interop.dcc import dcc_sign, did_key_from_seed

    seed = bytes(range(32, 64))
    did = did_key_from_seed(seed)
    unsigned = make_credential(did, name="Digital Bazaar badge")
    unsigned["issuer"]["name"] = "DCC Test Issuer"
    signed = dcc_sign(unsigned, seed, ISSUED)
    row = import_badge(world.services, world.learner_id, as_bytes(signed), now=NOW)
    assert row.verdict == "verified", row.report
    assert row.issuer_name == "DCC Test Issuer" and row.name == "Leading People"


def test_vc_jwt_is_verified_and_its_credential_kept(world: World) -> None:
    credential = world.issuer.credential()
    token = world.issuer.jwt(credential)
    row = import_badge(world.services, world.learner_id, token.encode(), now=NOW)
    assert row.verdict == "verified", row.report["reason"]
    assert row.media_type == "application/vc+jwt"
    assert row.original == token.encode()
    assert row.document == credential  # the payload without the JWT claims
    assert row.credential_id == credential["id"] and row.name == "Data Literacy"
    checks = {c["name"]: c for c in row.report["checks"]}
    assert checks["proof"]["reason"].startswith("EdDSA JWT signature is valid")


@pytest.mark.parametrize("form", ["png-json", "png-jwt", "svg-json", "svg-jwt"])
def test_baked_images_are_verified(world: World, form: str) -> None:
    credential = world.issuer.credential()
    signed = world.issuer.sign(credential)
    jws = form.endswith("jwt")
    payload = world.issuer.jwt(credential) if jws else json.dumps(signed)
    if form.startswith("png"):
        image, media = bake_png(png(), payload), "image/png"
    else:
        image, media = bake_svg(SVG, payload, is_jws=jws), "image/svg+xml"
    row = import_badge(world.services, world.learner_id, image, filename=f"badge.{form}", now=NOW)
    assert row.verdict == "verified", row.report["reason"]
    assert row.media_type == media and row.original == image
    assert row.document == (credential if jws else signed)
    assert row.name == "Data Literacy"


@pytest.mark.parametrize("as_text", [False, True])
def test_url_is_fetched_through_the_service_fetcher(world: World, as_text: bool) -> None:
    image = bake_png(png(), json.dumps(world.signed()))
    world.network.table[BADGE_URL] = image
    if as_text:  # a link pasted where a file was expected
        row = import_badge(world.services, world.learner_id, f" {BADGE_URL}\n".encode(), now=NOW)
    else:
        row = import_badge(world.services, world.learner_id, url=BADGE_URL, now=NOW)
    assert row.verdict == "verified"
    assert row.source_url == BADGE_URL and row.original == image
    assert row.media_type == "image/png"
    assert world.network.urls == [BADGE_URL]


def test_tampered_credential_is_stored_as_not_verified(world: World) -> None:
    signed = world.signed()
    signed["credentialSubject"]["achievement"]["name"] = "Data Mastery"
    row = import_badge(world.services, world.learner_id, as_bytes(signed), now=NOW)
    assert row.verdict == "not verified"
    assert "signature" in row.report["reason"]
    assert row.name == "Data Mastery"  # what it says, shown with the honest verdict
    assert world.count() == 1
    assert imported_skills(row, NOW) == []


def test_expired_credential_is_stored_as_not_verified(world: World) -> None:
    signed = world.signed(validUntil="2026-02-01T00:00:00Z")
    row = import_badge(world.services, world.learner_id, as_bytes(signed), now=NOW)
    assert row.verdict == "not verified" and "expired" in row.report["reason"]


def test_status_list_unreachable_means_could_not_decide(world: World) -> None:
    signed = world.signed(credentialStatus=status_entry(LIST_URL, 7))
    row = import_badge(world.services, world.learner_id, as_bytes(signed), now=NOW)
    assert row.verdict == "could not decide"
    assert "status list could not be fetched" in row.report["reason"]


# --- recheck -----------------------------------------------------------------------------------


def test_revocation_after_import_shows_on_recheck(world: World) -> None:
    world.network.table[LIST_URL] = world.issuer.status_list()
    signed = world.signed(credentialStatus=status_entry(LIST_URL, 7))
    row = import_badge(world.services, world.learner_id, as_bytes(signed), now=NOW)
    assert row.verdict == "verified", row.report["reason"]
    assert imported_skills(row, NOW)

    world.network.table[LIST_URL] = world.issuer.status_list(revoked=frozenset({7}))
    later = NOW + timedelta(days=3)
    rechecked = recheck(world.services, row, now=later)
    assert rechecked.id == row.id
    assert rechecked.verdict == "not verified"
    assert "revoked" in rechecked.report["reason"]
    assert rechecked.checked_at == later and row.verdict == "not verified"
    [stored] = world.rows()
    assert stored.verdict == "not verified" and "revoked" in stored.report["reason"]
    assert imported_skills(stored, later) == []


def test_recheck_stale_rechecks_only_old_rows(world: World) -> None:
    world.network.table[LIST_URL] = world.issuer.status_list()
    old = import_badge(
        world.services,
        world.learner_id,
        as_bytes(world.signed(credentialStatus=status_entry(LIST_URL, 3))),
        now=NOW - timedelta(days=2),
    )
    fresh = import_badge(
        world.services,
        world.learner_id,
        as_bytes(world.signed(id="urn:uuid:11111111-2222-4333-8444-555555555555")),
        now=NOW - timedelta(hours=2),
    )
    world.network.table[LIST_URL] = world.issuer.status_list(revoked=frozenset({3}))
    assert recheck_stale(world.services, timedelta(days=1), now=NOW) == 1
    by_id = {row.id: row for row in world.rows()}
    assert by_id[old.id].verdict == "not verified"
    assert by_id[fresh.id].verdict == "verified"
    assert _naive(by_id[fresh.id].checked_at) == _naive(NOW - timedelta(hours=2))
    assert _naive(by_id[old.id].checked_at) == _naive(NOW)
    assert recheck_stale(world.services, timedelta(days=1), now=NOW) == 0
    assert recheck_stale(world.services, timedelta(hours=1), now=NOW) == 1


def _naive(moment: datetime) -> datetime:
    """SQLite gives back naive UTC times, PostgreSQL aware ones."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def test_importing_the_same_badge_again_rechecks_the_existing_row(world: World) -> None:
    signed = world.signed()
    first = import_badge(world.services, world.learner_id, as_bytes(signed), now=NOW)
    again = import_badge(
        world.services,
        world.learner_id,
        bake_png(png(), json.dumps(signed)),  # the same credential in another form
        now=NOW + timedelta(days=1),
    )
    assert again.id == first.id
    assert again.checked_at == NOW + timedelta(days=1)
    assert again.media_type == "application/vc+ld+json"  # the first original is kept
    assert world.count() == 1
    other = resolve_learner(world.services, "someone@example.org")
    assert other.id is not None
    theirs = import_badge(world.services, other.id, as_bytes(signed), now=NOW)
    assert theirs.id != first.id and world.count() == 2


def test_a_verified_copy_replaces_a_stored_copy_that_is_not(world: World) -> None:
    genuine = world.signed()
    tampered = copy.deepcopy(genuine)
    tampered["credentialSubject"]["achievement"]["name"] = "Data Mastery"
    first = import_badge(world.services, world.learner_id, as_bytes(tampered), now=NOW)
    assert first.verdict == "not verified"
    image = bake_png(png(), json.dumps(genuine))
    fixed = import_badge(world.services, world.learner_id, image, now=NOW)
    assert fixed.id == first.id and fixed.verdict == "verified"
    assert fixed.original == image and fixed.media_type == "image/png"
    assert fixed.document == genuine and fixed.name == "Data Literacy"
    # …and never the other way round
    again = import_badge(world.services, world.learner_id, as_bytes(tampered), now=NOW)
    assert again.id == first.id and again.verdict == "verified" and again.original == image
    [stored] = world.rows()
    assert stored.original == image and stored.verdict == "verified"


def test_credentials_without_an_id_are_matched_by_their_bytes(world: World) -> None:
    credential = world.issuer.credential()
    del credential["id"]
    original = as_bytes(world.issuer.sign(credential))
    first = import_badge(world.services, world.learner_id, original, now=NOW)
    assert first.credential_id is None
    assert first.verdict == "not verified" and "'id' is a required" in first.report["reason"]
    assert import_badge(world.services, world.learner_id, original, now=NOW).id == first.id
    assert world.count() == 1


# --- skills ------------------------------------------------------------------------------------


def test_imported_skills_use_the_issued_badge_rules(world: World) -> None:
    row = import_badge(world.services, world.learner_id, as_bytes(world.signed()), now=NOW)
    age_days = (NOW - datetime(2026, 1, 15, 9, tzinfo=UTC)).total_seconds() / 86400
    # Certificate 1.5 × (1 + ln(1 + 16 h / 8)) × alignment factor × 0.5^(age / 730 days)
    expected = 1.5 * (1 + math.log(3)) * 0.5 ** (age_days / 730)
    skills = imported_skills(row, NOW)
    assert [(f, c, n) for f, c, n, _ in skills] == [
        ("ESCO", "S1.2", "Data analysis"),
        ("ecq", "ECQ2-4", "Team Building"),  # framework from a /frameworks/{id}/ targetUrl
    ]
    # the first alignment is primary (× 1), the second secondary (× 0.5), as for issued badges
    assert [round(w / expected, 9) for *_, w in skills] == [1.0, 0.5]
    assert imported_skills(row, datetime(2026, 1, 1, tzinfo=UTC)) == []  # not yet issued


def test_imported_skills_end_at_valid_until(world: World) -> None:
    signed = world.signed(validUntil="2026-06-01T00:00:00Z")
    row = import_badge(world.services, world.learner_id, as_bytes(signed), now=NOW)
    assert row.verdict == "verified"
    assert len(imported_skills(row, NOW)) == 2
    assert imported_skills(row, datetime(2026, 6, 1, tzinfo=UTC)) == []


def test_imported_hours_count_at_most_what_laurel_issues(world: World) -> None:
    credential = world.issuer.credential()
    credential["credentialSubject"]["creditsEarned"] = 10**9
    original = as_bytes(world.issuer.sign(credential))
    row = import_badge(world.services, world.learner_id, original, now=NOW)
    assert row.verdict == "verified"
    age_days = (NOW - datetime(2026, 1, 15, 9, tzinfo=UTC)).total_seconds() / 86400
    expected = 1.5 * (1 + math.log1p(100_000 / 8)) * 0.5 ** (age_days / 730)
    weights = [weight for *_, weight in imported_skills(row, NOW)]
    assert len(weights) == 2 and math.isclose(weights[0], expected)
    assert math.isclose(weights[1], expected * 0.5)  # a secondary alignment


# --- Open Badges 2.0 ---------------------------------------------------------------------------


def ob2_assertion(badge: Any = None, **extra: Any) -> dict[str, Any]:
    return {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Assertion",
        "id": "https://old.example.org/assertions/42",
        "recipient": {"type": "email", "hashed": False, "identity": EMAIL},
        "issuedOn": "2019-05-04T10:00:00Z",
        "verification": {"type": "hosted"},
        "badge": badge
        if badge is not None
        else {
            "type": "BadgeClass",
            "id": "https://old.example.org/badges/python",
            "name": "Python Basics",
            "description": "Wrote Python.",
            "issuer": {"type": "Profile", "id": "https://old.example.org", "name": "Old Academy"},
        },
        **extra,
    }


def assert_legacy(row: ImportedCredential, name: str, issuer_name: str) -> None:
    assert row.legacy and row.verdict == "legacy" and row.report["verdict"] == "legacy"
    assert row.name == name and row.issuer_name == issuer_name
    assert row.issued_on is not None and row.issued_on.year == 2019
    assert "does not check its signature" in row.report["reason"]
    proof = {c["name"]: c for c in row.report["checks"]}["proof"]
    assert proof["outcome"] == "skipped" and "not signature-verified" in proof["reason"]


def test_ob2_json_assertion_is_kept_as_legacy(world: World) -> None:
    assertion = ob2_assertion()
    row = import_badge(world.services, world.learner_id, as_bytes(assertion), now=NOW)
    assert_legacy(row, "Python Basics", "Old Academy")
    assert row.document == assertion and row.media_type == "application/ld+json"
    assert row.credential_id == "https://old.example.org/assertions/42"
    assert world.network.urls == []  # nothing to fetch, nothing verified
    assert imported_skills(row, NOW) == []
    assert recheck(world.services, row, now=NOW + timedelta(days=9)).verdict == "legacy"


def test_ob2_linked_badge_is_fetched_and_a_missing_issuer_tolerated(world: World) -> None:
    world.network.table["https://old.example.org/badges/python"] = as_bytes(
        {"type": "BadgeClass", "name": "Python Basics", "issuer": "https://old.example.org/i"}
    )
    assertion = ob2_assertion(badge="https://old.example.org/badges/python")
    row = import_badge(world.services, world.learner_id, as_bytes(assertion), now=NOW)
    assert_legacy(row, "Python Basics", "old.example.org")
    assert world.network.urls == [
        "https://old.example.org/badges/python",
        "https://old.example.org/i",
    ]
    assert any("issuer profile" in warning for warning in row.report["warnings"])


def test_ob2_baked_png_is_kept_as_legacy(world: World) -> None:
    image = with_chunk(png(), b"iTXt", b"openbadges\0\0\0\0\0" + as_bytes(ob2_assertion()))
    row = import_badge(world.services, world.learner_id, image, now=NOW)
    assert_legacy(row, "Python Basics", "Old Academy")
    assert row.media_type == "image/png" and row.original == image


def test_ob2_png_pointing_to_a_hosted_assertion(world: World) -> None:
    url = "https://old.example.org/assertions/42"
    world.network.table[url] = as_bytes(ob2_assertion())
    compressed = b"openbadges\0\1\0\0\0" + zlib.compress(url.encode())
    image = with_chunk(png(), b"iTXt", compressed)
    row = import_badge(world.services, world.learner_id, image, now=NOW)
    assert_legacy(row, "Python Basics", "Old Academy")
    assert world.network.urls == [url]


def test_ob2_svg_is_kept_as_legacy(world: World) -> None:
    url = "https://old.example.org/assertions/42"
    world.network.table[url] = as_bytes(ob2_assertion())
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org">'
        b'<openbadges:assertion verify="' + url.encode() + b'"/><rect/></svg>'
    )
    row = import_badge(world.services, world.learner_id, svg, now=NOW)
    assert_legacy(row, "Python Basics", "Old Academy")
    assert row.media_type == "image/svg+xml"


def test_ob2_hosted_assertion_that_cannot_be_fetched_is_refused(world: World) -> None:
    image = with_chunk(png(), b"iTXt", b"openbadges\0\0\0\0\0https://old.example.org/gone")
    with pytest.raises(BadRequest, match=r"could not fetch https://old\.example\.org/gone"):
        import_badge(world.services, world.learner_id, image, now=NOW)
    assert world.count() == 0


def test_ob3_credential_baked_with_the_ob2_keyword_is_refused(world: World) -> None:
    image = with_chunk(png(), b"iTXt", b"openbadges\0\0\0\0\0" + as_bytes(world.signed()))
    with pytest.raises(BadRequest, match=r"baked the Open Badges 2\.0 way"):
        import_badge(world.services, world.learner_id, image, now=NOW)
    assert world.count() == 0


# --- this instance's own badges ----------------------------------------------------------------


def _issue_here(services: Services, email: str) -> dict[str, Any]:
    create_issuer(services, slug="hrd", name="HRD Institute")
    with Session(writer(services.engine)) as session:
        save_achievement(
            session, get_issuer(session, "hrd"), AchievementIn.model_validate(ACHIEVEMENT)
        )
        session.commit()
    request = {"recipient": {"email": email}, "achievement": "leading-people"}
    issued = issue(services, "hrd", IssueRequest.model_validate(request))
    return dict(issued.credential.document)


def test_own_badge_for_this_learner_is_already_in_the_wallet(world: World) -> None:
    document = _issue_here(world.services, EMAIL)
    with pytest.raises(Conflict, match="already in your wallet"):
        import_badge(world.services, world.learner_id, as_bytes(document), now=NOW)
    assert world.count() == 0


def test_own_badge_for_someone_else_is_refused(world: World) -> None:
    document = _issue_here(world.services, "other@example.org")
    with pytest.raises(BadRequest, match="to someone else"):
        import_badge(world.services, world.learner_id, as_bytes(document), now=NOW)
    forged = world.issuer.sign(world.issuer.credential(issuer={"id": document["issuer"]["id"]}))
    with pytest.raises(BadRequest, match="here on Laurel"):
        import_badge(world.services, world.learner_id, as_bytes(forged), now=NOW)
    assert world.count() == 0


def test_own_did_key_issuer_is_recognised(world: World) -> None:
    create_issuer(world.services, slug="demo", name="Demo", did_method="key")
    with Session(world.services.engine) as session:
        did = get_issuer(session, "demo").did
    assert did.startswith("did:key:")
    credential = make_credential(did)  # recipient learner@example.org: not this learner
    with pytest.raises(BadRequest, match="to someone else"):
        import_badge(world.services, world.learner_id, as_bytes(credential), now=NOW)


# --- bad input ---------------------------------------------------------------------------------


def _entity_bomb() -> bytes:
    lines = ['<!ENTITY a0 "lol">'] + [
        f'<!ENTITY a{i} "&a{i - 1};&a{i - 1};">' for i in range(1, 30)
    ]
    return f'<?xml version="1.0"?><!DOCTYPE svg [{"".join(lines)}]><svg>&a29;</svg>'.encode()


XXE = (
    b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>'
)
BAD_INPUTS: dict[str, tuple[bytes, type[LaurelError], str]] = {
    "empty": (b"", BadRequest, "empty"),
    "blank": (b"  \n\t ", BadRequest, "empty"),
    "text": (b"hello, this is my badge", BadRequest, "not a badge"),
    "json array": (b"[1, 2, 3]", BadRequest, "not a badge"),
    "other json": (b'{"hello": "world"}', BadRequest, "not an Open Badges credential"),
    "plain vc": (
        as_bytes(
            {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"]}
        ),
        BadRequest,
        "not an Open Badge",
    ),
    "ob2 badge class": (
        as_bytes({"@context": "https://w3id.org/openbadges/v2", "type": "BadgeClass", "name": "X"}),
        BadRequest,
        "not a badge awarded",
    ),
    "bad jwt": (b"eyJhbGciOiJFZERTQSJ9.bm90IGpzb24.c2ln", BadRequest, "not valid JSON"),
    "jpeg": (b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(100), BadRequest, "JPEG"),
    "html": (b"<!DOCTYPE html><html><body>Badge</body></html>", BadRequest, "web page"),
    "png without badge": (png(), BadRequest, "without a badge"),
    "truncated png": (png()[:40], BadRequest, "cannot read"),
    "svg without badge": (SVG, BadRequest, "without a badge"),
    "broken svg": (b"<svg><g></svg>", BadRequest, "cannot read"),
    "oversized": (b'{"pad": "' + b"x" * (2 * 1024 * 1024) + b'"}', PayloadTooLarge, "at most"),
    "deep json": (b'{"a":' * 100 + b"1" + b"}" * 100, BadRequest, "nested"),
    "very deep json": (b'{"a":' * 200_000 + b"1" + b"}" * 200_000, BadRequest, "nested"),
    "svg entity bomb": (_entity_bomb(), BadRequest, "forbidden XML feature"),
    "svg xxe": (XXE, BadRequest, "forbidden XML feature"),
    "png bomb (compressed badge)": (
        with_chunk(
            png(),
            b"iTXt",
            b"openbadgecredential\0\1\0\0\0" + zlib.compress(b" " * (3 * 1024 * 1024), 9),
        ),
        BadRequest,
        "larger than the limit",
    ),
    "png bomb (ob2 badge)": (
        with_chunk(
            png(), b"iTXt", b"openbadges\0\1\0\0\0" + zlib.compress(b" " * (3 * 1024 * 1024), 9)
        ),
        BadRequest,
        "larger than",
    ),
    "png bomb (pixels)": (
        png()[:16] + struct.pack(">II", 100_000, 100_000) + png()[24:],
        BadRequest,
        "too large to show",
    ),
    "nan": (
        json.dumps(make_credential("did:example:elsewhere", awarded=float("nan"))).encode(),
        BadRequest,
        "NaN or Infinity",
    ),
    "huge integer": (
        as_bytes(make_credential("did:example:elsewhere", rank=10**400)),
        BadRequest,
        "number too large",
    ),
    "status list": (b"", BadRequest, "not an Open Badge"),  # filled in by the test
    "endorsement": (b"", BadRequest, "endorsement"),  # filled in by the test
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_refused_and_nothing_stored(world: World, case: str) -> None:
    data, error, message = BAD_INPUTS[case]
    if case == "status list":
        data = world.issuer.status_list()
    if case == "endorsement":
        data = as_bytes(world.signed(type=["VerifiableCredential", "EndorsementCredential"]))
    with pytest.raises(error, match=message) as raised:
        import_badge(world.services, world.learner_id, data, filename="upload.bin", now=NOW)
    assert raised.value.detail[0].isupper() or raised.value.detail.startswith("upload.bin")
    assert world.count() == 0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://badges.example.org/missing.png", "unreachable in tests"),
        ("http://badges.example.org/badge.png", "must start with https://"),
        ("file:///etc/passwd", "must start with https://"),
        ("https://" + "a" * 2000 + ".org/", "at most 2000 characters"),
    ],
)
def test_unusable_urls_are_refused(world: World, url: str, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        import_badge(world.services, world.learner_id, url=url, now=NOW)
    assert world.count() == 0


@pytest.mark.parametrize(
    "url",
    ["https://127.0.0.1/badge.png", "https://localhost/badge.png", "https://10.1.2.3/badge.png"],
)
def test_private_addresses_are_refused_by_the_real_fetcher(world: World, url: str) -> None:
    world.services.network = HttpFetcher()  # the production fetcher; it refuses before connecting
    with pytest.raises(BadRequest, match="private or local address"):
        import_badge(world.services, world.learner_id, url=url, now=NOW)
    assert world.count() == 0


def test_oversized_and_empty_responses_are_refused(world: World) -> None:
    world.network.table[BADGE_URL] = b"x" * (3 * 1024 * 1024)
    with pytest.raises(PayloadTooLarge):
        import_badge(world.services, world.learner_id, url=BADGE_URL, now=NOW)
    world.network.table[BADGE_URL] = b"  "
    with pytest.raises(BadRequest, match="returned nothing"):
        import_badge(world.services, world.learner_id, url=BADGE_URL, now=NOW)
    assert world.count() == 0


def test_file_and_url_together_and_unknown_learners_are_refused(world: World) -> None:
    data = as_bytes(world.signed())
    with pytest.raises(BadRequest, match="not both"):
        import_badge(world.services, world.learner_id, data, url=BADGE_URL, now=NOW)
    with pytest.raises(NotFound, match="no learner"):
        import_badge(world.services, world.learner_id + 1000, data, now=NOW)
    assert world.count() == 0


def test_odd_text_in_names_is_cleaned_for_the_database(world: World) -> None:
    credential = world.issuer.credential(name="x")
    credential["credentialSubject"]["achievement"]["name"] = "Data\u0000 Literacy\n" + "é" * 600
    original = as_bytes(world.issuer.sign(credential))
    row = import_badge(world.services, world.learner_id, original, now=NOW)
    assert row.name.startswith("Data  Literacy") and len(row.name) == 500
    with transaction(world.services.engine) as session:
        assert session.get(ImportedCredential, row.id) is not None


def test_input_the_verifier_chokes_on_never_escapes_as_a_crash(world: World) -> None:
    # An empty or relative @context entry makes pyld raise ValueError out of verify_credential
    # (a verifier bug); the import must still end in a LaurelError or an honest verdict.
    signed = world.signed()
    signed["@context"][1] = ""
    try:
        row = import_badge(world.services, world.learner_id, as_bytes(signed), now=NOW)
    except BadRequest as exc:
        assert "could not be checked" in exc.detail
        assert world.count() == 0
    else:
        assert row.verdict != "verified"
