"""OpenID4VCI 1.0, pre-authorized code flow (shared/spec/wave2-apis.md §2): metadata, offers,
the token, nonce and credential endpoints driven by a scripted holder (tests/issuer/
oid4vci_holder.py), and every negative case of the digest's §2.12, each expecting the exact
error code; on SQLite and PostgreSQL. The Node holder (@openid4vc/openid4vci) is in
tests/interop/test_oid4vci_holder.py."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.crypto import keys
from issuer.models import AuditEntry, Credential, CredentialOffer
from issuer.models.base import utcnow
from tests.issuer.conftest import ClientFetcher, issue_body, make_issuer
from tests.issuer.oid4vci_holder import (
    AUDIENCE,
    BASE_URL,
    JWT,
    LDP,
    PRE_AUTHORIZED,
    Holder,
    access_token,
    ask,
    nonce,
    offer,
    offer_document,
    p256_jwk_holder,
    pre_authorized_code,
    request_credential,
    token,
)
from tests.units import create_api_key, revoke
from verifier import Verdict, verify_credential


def _issue(client: TestClient, headers: dict[str, str], email: str = "learner@example.org") -> str:
    issued = client.post("/api/v1/issuers/hrd/credentials", json=issue_body(email), headers=headers)
    assert issued.status_code == 201, issued.text
    found: str = issued.json()["id"].removeprefix("urn:uuid:")
    return found


@pytest.fixture
def hrd(client: TestClient, services: Services) -> dict[str, str]:
    return make_issuer(services, client, "hrd")


@pytest.fixture
def badge(client: TestClient, hrd: dict[str, str]) -> str:
    return _issue(client, hrd)


def _error(answer: Any, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == code, answer.text
    assert answer.headers["cache-control"] == "no-store"


# --- metadata -------------------------------------------------------------------------------


def test_metadata_is_served_below_the_well_known_segment_with_both_configurations(
    client: TestClient, hrd: dict[str, str]
) -> None:
    answer = client.get("/.well-known/openid-credential-issuer/issuers/hrd")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    document = answer.json()
    assert document["credential_issuer"] == AUDIENCE  # what built the URL, compared as a string
    assert document["authorization_servers"] == [BASE_URL]
    assert document["credential_endpoint"] == f"{BASE_URL}/oid4vci/credential"
    assert document["nonce_endpoint"] == f"{BASE_URL}/oid4vci/nonce"
    configurations = document["credential_configurations_supported"]
    assert set(configurations) == {LDP, JWT}
    assert configurations[LDP]["format"] == "ldp_vc"
    assert configurations[LDP]["credential_signing_alg_values_supported"] == ["eddsa-rdfc-2022"]
    assert configurations[JWT]["format"] == "jwt_vc_json"
    for configuration in configurations.values():
        assert configuration["credential_definition"]["type"] == [
            "VerifiableCredential",
            "OpenBadgeCredential",
        ]
        proof = configuration["proof_types_supported"]["jwt"]
        assert proof["proof_signing_alg_values_supported"] == ["EdDSA", "ES256"]
        display = configuration["credential_metadata"]["display"]  # 1.0 Final, not a draft
        assert {entry["locale"] for entry in display} == {"en", "ko"}
        assert "display" not in configuration
    assert client.get("/.well-known/openid-credential-issuer/issuers/nobody").status_code == 404

    server = client.get("/.well-known/oauth-authorization-server").json()
    assert PRE_AUTHORIZED in server["grant_types_supported"]
    assert server["pre-authorized_grant_anonymous_access_supported"] is True
    assert server["token_endpoint"] == f"{BASE_URL}/oauth/token"


# --- offers ---------------------------------------------------------------------------------


def test_an_offer_lists_both_configurations_and_needs_a_six_digit_tx_code(
    client: TestClient, services: Services, hrd: dict[str, str], badge: str
) -> None:
    made = offer(client, badge, hrd)
    assert made["offer"].startswith(
        "openid-credential-offer://?credential_offer_uri=https%3A%2F%2F"
    )
    assert made["tx_code"].isdigit() and len(made["tx_code"]) == 6
    served = offer_document(client, made)
    assert served.status_code == 200 and served.headers["cache-control"] == "no-store"
    document = served.json()
    assert document["credential_issuer"] == AUDIENCE
    assert document["credential_configuration_ids"] == [LDP, JWT]
    grant = document["grants"][PRE_AUTHORIZED]
    assert grant["tx_code"]["length"] == 6 and grant["tx_code"]["input_mode"] == "numeric"
    with Session(services.engine) as db:  # only hashes are kept
        row = db.exec(select(CredentialOffer)).one()
        kept = {row.offer_hash, row.code_hash, row.tx_code_hash}
        assert not {made["tx_code"], grant["pre-authorized_code"]} & kept
        assert made["credential_offer_uri"].rsplit("/", 1)[1] not in kept
        assert db.exec(select(AuditEntry).where(AuditEntry.action == "credential.offer")).one()


def test_offers_need_the_issue_scope_the_owning_issuer_and_a_live_badge(
    client: TestClient, services: Services, hrd: dict[str, str], badge: str
) -> None:
    reader = {"Authorization": f"Bearer {create_api_key(services, 'hrd', ['read'])}"}
    assert client.post(f"/api/v1/credentials/{badge}/offers", headers=reader).status_code == 403
    other = make_issuer(services, client, "ops")
    assert client.post(f"/api/v1/credentials/{badge}/offers", headers=other).status_code == 404
    assert client.post(f"/api/v1/credentials/{badge}/offers").status_code == 401
    revoke(services, badge, "Issued in error")
    assert client.post(f"/api/v1/credentials/{badge}/offers", headers=hrd).status_code == 409
    assert client.get("/oid4vci/offers/" + "A" * 43).status_code == 404


# --- the whole flow -------------------------------------------------------------------------


def test_a_holder_collects_the_badge_bound_to_its_did_in_both_formats(
    client: TestClient, services: Services, hrd: dict[str, str], badge: str, fetcher: ClientFetcher
) -> None:
    made = offer(client, badge, hrd)
    code = pre_authorized_code(client, made)
    issued = token(client, code, made["tx_code"])
    assert issued.status_code == 200, issued.text
    assert issued.headers["cache-control"] == "no-store"
    assert issued.json()["token_type"] == "Bearer"
    access = issued.json()["access_token"]
    holder = Holder.ed25519()

    answer = ask(client, access, holder, LDP)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    [entry] = answer.json()["credentials"]
    document = entry["credential"]
    assert document["id"] == f"urn:uuid:{badge}"
    assert document["credentialSubject"]["id"] == holder.did
    report = verify_credential(document, fetcher=fetcher)
    assert report.verdict is Verdict.VERIFIED, report.to_dict()

    answer = ask(client, access, holder, JWT)  # the same token, a new nonce
    assert answer.status_code == 200, answer.text
    compact = answer.json()["credentials"][0]["credential"]
    assert isinstance(compact, str)
    claims = jwt.decode(compact, options={"verify_signature": False})
    assert claims["sub"] == holder.did
    assert claims["credentialSubject"]["id"] == holder.did
    report = verify_credential(compact, fetcher=fetcher)
    assert report.verdict is Verdict.VERIFIED, report.to_dict()
    with Session(services.engine) as db:
        row = db.get(Credential, badge)
        assert row is not None and row.holder_id == holder.did
        assert db.exec(select(CredentialOffer)).one().delivered_at is not None
    assert offer_document(client, made).status_code == 404  # redeemed: the offer is gone


def test_a_jwk_header_binds_the_badge_to_the_did_jwk_of_a_p256_key(
    client: TestClient, hrd: dict[str, str], badge: str
) -> None:
    holder, jwk = p256_jwk_holder()
    access = access_token(client, offer(client, badge, hrd))
    answer = ask(client, access, holder, LDP, header={"kid": None, "jwk": jwk})
    assert answer.status_code == 200, answer.text
    assert answer.json()["credentials"][0]["credential"]["credentialSubject"]["id"] == holder.did


def test_a_did_jwk_kid_is_accepted(client: TestClient, hrd: dict[str, str], badge: str) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    did = keys.did_jwk(key)
    holder = Holder(key, did, f"{did}#0")
    answer = ask(client, access_token(client, offer(client, badge, hrd)), holder, JWT)
    assert answer.status_code == 200, answer.text


# --- the token endpoint ---------------------------------------------------------------------


def test_wrong_or_missing_tx_code_and_reused_or_expired_codes_are_refused(
    client: TestClient, services: Services, hrd: dict[str, str], badge: str
) -> None:
    made = offer(client, badge, hrd)
    code = pre_authorized_code(client, made)
    _error(token(client, code, None), 400, "invalid_request")
    wrong = "000000" if made["tx_code"] != "000000" else "111111"
    _error(token(client, code, wrong), 400, "invalid_grant")
    _error(token(client, "not-a-code", made["tx_code"]), 400, "invalid_grant")
    assert token(client, code, made["tx_code"]).status_code == 200
    _error(token(client, code, made["tx_code"]), 400, "invalid_grant")  # used once

    late = offer(client, badge, hrd)
    late_code = pre_authorized_code(client, late)
    with Session(services.engine) as db:
        db.execute(
            update(CredentialOffer)
            .where(col(CredentialOffer.redeemed_at).is_(None))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.commit()
    _error(token(client, late_code, late["tx_code"]), 400, "invalid_grant")
    assert offer_document(client, late).status_code == 404


def test_five_wrong_tx_codes_end_the_offer(
    client: TestClient, hrd: dict[str, str], badge: str
) -> None:
    made = offer(client, badge, hrd)
    code = pre_authorized_code(client, made)
    guesses = [f"{n:06d}" for n in range(20) if f"{n:06d}" != made["tx_code"]][:5]
    for guess in guesses:
        _error(token(client, code, guess), 400, "invalid_grant")
    _error(token(client, code, made["tx_code"]), 400, "invalid_grant")
    assert offer_document(client, made).status_code == 404


# --- the credential endpoint ----------------------------------------------------------------


@pytest.fixture
def access(client: TestClient, hrd: dict[str, str], badge: str) -> str:
    return access_token(client, offer(client, badge, hrd))


def _body(proof: str) -> dict[str, Any]:
    return {"credential_configuration_id": LDP, "proofs": {"jwt": [proof]}}


def test_nonces_are_fresh_single_use_and_required(client: TestClient, access: str) -> None:
    answer = client.post("/oid4vci/nonce")
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    assert answer.json()["c_nonce"] != nonce(client)
    holder = Holder.ed25519()
    _error(request_credential(client, access, _body(holder.proof("made-up"))), 400, "invalid_nonce")
    _error(request_credential(client, access, _body(holder.proof(None))), 400, "invalid_nonce")
    used = nonce(client)
    first = request_credential(client, access, _body(holder.proof(used)))
    assert first.status_code == 200, first.text
    _error(request_credential(client, access, _body(holder.proof(used))), 400, "invalid_nonce")


def test_nonces_per_address_are_limited(client: TestClient, services: Services) -> None:
    """Anyone may ask for a nonce, and each is a row until it is purged, so one address may ask
    for only so many (429 after; audit round 5: 300 anonymous calls made 300 rows)."""
    from issuer.models import CredentialNonce

    services.cache.pop("laurel.rates", None)
    services.settings.nonce_rate = "3/hour"
    for _ in range(3):
        assert client.post("/oid4vci/nonce").status_code == 200
    refused = client.post("/oid4vci/nonce")
    assert refused.status_code == 429, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["retry-after"]) > 0
    assert "too many nonces" in refused.json()["detail"]
    with Session(services.engine) as db:
        assert len(db.exec(select(CredentialNonce)).all()) == 3


def test_a_nonce_expires(client: TestClient, services: Services, access: str) -> None:
    from issuer.models import CredentialNonce

    stale = nonce(client)
    with Session(services.engine) as db:
        db.execute(update(CredentialNonce).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.commit()
    body = {"credential_configuration_id": LDP, "proofs": {"jwt": [Holder.ed25519().proof(stale)]}}
    _error(request_credential(client, access, body), 400, "invalid_nonce")


def _unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    import base64
    import json

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(payload)}."


def _ec_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    numbers = key.public_key().public_numbers()
    size = (key.curve.key_size + 7) // 8
    return {
        "kty": "EC",
        "crv": "secp256k1",
        "x": _b64(numbers.x.to_bytes(size, "big")),
        "y": _b64(numbers.y.to_bytes(size, "big")),
    }


def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _es256_with(
    key: ec.EllipticCurvePrivateKey, header: dict[str, Any], payload: dict[str, Any]
) -> str:
    """An ES256-labelled JWS signed by a key of another curve (what a lax verifier accepts)."""
    import json

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def _bad_proofs(client: TestClient) -> dict[str, str]:
    holder, other = Holder.ed25519(), Holder.ed25519()

    def fresh() -> str:
        return nonce(client)

    signed = holder.proof(fresh())
    head, body, signature = signed.split(".")
    forged = other.proof(fresh(), header={"kid": holder.kid})  # signed by another key
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_jwk = {k: v for k, v in keys.public_jwk(rsa_key).items() if k in ("kty", "n", "e")}
    k1 = ec.generate_private_key(ec.SECP256K1())
    return {
        "wrong aud": holder.proof(fresh(), aud=f"{BASE_URL}/issuers/ops"),
        "wrong typ": holder.proof(fresh(), header={"typ": "JWT"}),
        "alg none": _unsigned(
            {"alg": "none", "typ": "openid4vci-proof+jwt", "kid": holder.kid},
            {"aud": AUDIENCE, "iat": int(time.time()), "nonce": fresh()},
        ),
        "bad signature": f"{head}.{body}.{signature[:-4]}AAAA",
        "another key's signature": forged,
        "RSA key": jwt.encode(
            {"aud": AUDIENCE, "iat": int(time.time()), "nonce": fresh()},
            rsa_key,
            algorithm="RS256",
            headers={"typ": "openid4vci-proof+jwt", "jwk": rsa_jwk},
        ),
        "secp256k1 key as ES256": _es256_with(
            k1,
            {"typ": "openid4vci-proof+jwt", "alg": "ES256", "jwk": _ec_jwk(k1)},
            {"aud": AUDIENCE, "iat": int(time.time()), "nonce": fresh()},
        ),
        "did:web kid": holder.proof(fresh(), header={"kid": "did:web:example.org#key-1"}),
        "kid and jwk": holder.proof(fresh(), header={"jwk": {"kty": "OKP"}}),
        "private jwk": holder.proof(
            fresh(),
            header={"kid": None, "jwk": {**keys.public_jwk(holder.key), "d": "AAAA"}},
        ),
        "stale iat": holder.proof(fresh(), claims={"iat": int(time.time()) - 3600}),
        "future iat": holder.proof(fresh(), claims={"iat": int(time.time()) + 3600}),
        "iss in an anonymous flow": holder.proof(fresh(), claims={"iss": "wallet"}),
        "not a JWS": "not.a.jws",
    }


REASONS = {
    "wrong aud": "aud must be",
    "wrong typ": "typ must be",
    "alg none": "alg must be",
    "bad signature": "does not verify",
    "another key's signature": "does not verify",
    "RSA key": "alg must be",
    "secp256k1 key as ES256": "key is not one ES256 signs with",
    "did:web kid": "did:key or did:jwk",
    "kid and jwk": "exactly one of kid, jwk, x5c",
    "private jwk": "private key",
    "stale iat": "too old",
    "future iat": "in the future",
    "iss in an anonymous flow": "must not carry iss",
    "not a JWS": "not a JWS",
}


def test_bad_key_proofs_are_invalid_proof(client: TestClient, access: str) -> None:
    proofs = _bad_proofs(client)
    assert set(proofs) == set(REASONS)
    for why, proof in proofs.items():
        body: dict[str, Any] = {"credential_configuration_id": LDP, "proofs": {"jwt": [proof]}}
        answer = request_credential(client, access, body)
        assert answer.status_code == 400, (why, answer.text)
        assert answer.json()["error"] == "invalid_proof", (why, answer.text)
        assert REASONS[why] in answer.json()["error_description"], (why, answer.text)
    malformed: list[Any] = [None, {}, {"jwt": []}, {"di_vp": ["x"]}, {"jwt": ["a", "b"]}]
    for wrong in malformed:
        body = {"credential_configuration_id": LDP, "proofs": wrong}
        _error(request_credential(client, access, body), 400, "invalid_proof")
    # nothing was bound by any of them
    holder = Holder.ed25519()
    assert ask(client, access, holder).status_code == 200


def test_request_errors_are_named_as_the_spec_names_them(client: TestClient, access: str) -> None:
    holder = Holder.ed25519()
    proofs = {"jwt": [holder.proof(nonce(client))]}
    unknown = {"credential_configuration_id": "UniversityDegree_jwt_vc_json", "proofs": proofs}
    _error(request_credential(client, access, unknown), 400, "unknown_credential_configuration")
    by_identifier = {"credential_identifier": "badge-1", "proofs": proofs}
    _error(request_credential(client, access, by_identifier), 400, "unknown_credential_identifier")
    _error(
        request_credential(client, access, {"proofs": proofs}), 400, "invalid_credential_request"
    )
    _error(
        request_credential(client, access, None, raw=b"{not json"),
        400,
        "invalid_credential_request",
    )
    _error(request_credential(client, access, [LDP]), 400, "invalid_credential_request")
    encrypted = {
        "credential_configuration_id": LDP,
        "proofs": proofs,
        "credential_response_encryption": {},
    }
    _error(request_credential(client, access, encrypted), 400, "invalid_encryption_parameters")


def test_tokens_are_checked_and_reach_only_their_own_badge(
    client: TestClient, hrd: dict[str, str], badge: str, access: str
) -> None:
    holder = Holder.ed25519()
    body = {"credential_configuration_id": LDP, "proofs": {"jwt": [holder.proof(nonce(client))]}}
    for wrong in (None, "never-issued"):
        answer = request_credential(client, wrong, body)
        _error(answer, 401, "invalid_token")
        assert answer.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    in_query = client.post(
        f"/oid4vci/credential?access_token={access}",
        json=body,
    )
    _error(in_query, 401, "invalid_token")  # a token in the query string is not read
    # the OB 3.0 API does not take it either: it is not an OAuth token for a learner's data
    assert (
        client.get(
            "/ims/ob/v3p0/credentials", headers={"Authorization": f"Bearer {access}"}
        ).status_code
        == 401
    )
    assert (
        client.post(
            f"/api/v1/credentials/{badge}/offers", headers={"Authorization": f"Bearer {access}"}
        ).status_code
        == 401
    )

    second = _issue(client, hrd, "other@example.org")
    other_access = access_token(client, offer(client, second, hrd))
    mine = ask(client, access, holder).json()["credentials"][0]["credential"]
    theirs = ask(client, other_access, Holder.ed25519()).json()["credentials"][0]["credential"]
    assert mine["id"] == f"urn:uuid:{badge}" and theirs["id"] == f"urn:uuid:{second}"


def test_a_bound_or_revoked_badge_is_credential_request_denied(
    client: TestClient, services: Services, hrd: dict[str, str], badge: str, access: str
) -> None:
    first = Holder.ed25519()
    assert ask(client, access, first).status_code == 200
    again = ask(client, access, first)  # the same holder may ask again
    assert (
        again.status_code == 200
        and again.json()["credentials"][0]["credential"]["credentialSubject"]["id"] == first.did
    )
    _error(ask(client, access, Holder.ed25519()), 400, "credential_request_denied")

    later = _issue(client, hrd, "late@example.org")
    late_access = access_token(client, offer(client, later, hrd))
    revoke(services, later, "Issued in error")
    _error(ask(client, late_access, Holder.ed25519()), 400, "credential_request_denied")


def test_an_expired_access_token_is_invalid_token(
    client: TestClient, services: Services, access: str
) -> None:
    with Session(services.engine) as db:
        db.execute(
            update(CredentialOffer).values(access_expires_at=utcnow() - timedelta(seconds=1))
        )
        db.commit()
    _error(ask(client, access, Holder.ed25519()), 401, "invalid_token")


def test_the_openapi_description_names_the_oid4vci_endpoints(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for method, path in [
        ("post", "/api/v1/credentials/{credential_id}/offers"),
        ("get", "/.well-known/openid-credential-issuer/issuers/{slug}"),
        ("get", "/oid4vci/offers/{secret}"),
        ("post", "/oid4vci/nonce"),
        ("post", "/oid4vci/credential"),
    ]:
        operation = spec["paths"][path][method]
        assert operation.get("summary") and operation.get("description"), (method, path)
    token_form = spec["paths"]["/oauth/token"]["post"]["requestBody"]["content"]
    schema = token_form["application/x-www-form-urlencoded"]["schema"]
    assert PRE_AUTHORIZED in schema["properties"]["grant_type"]["enum"]
    assert {"pre-authorized_code", "tx_code"} <= set(schema["properties"])


def test_purge_removes_expired_offers_and_nonces_only(
    client: TestClient, services: Services, hrd: dict[str, str], badge: str
) -> None:
    from issuer.core.db import unit_of_work
    from issuer.models import CredentialNonce
    from issuer.oauth.oid4vci import purge

    offer(client, badge, hrd)
    nonce(client)
    old = offer(client, badge, hrd)
    nonce(client)
    with Session(services.engine) as db:
        stale = utcnow() - timedelta(days=2)
        newest = db.exec(select(CredentialOffer).order_by(col(CredentialOffer.id).desc())).first()
        assert newest is not None
        db.execute(
            update(CredentialOffer)
            .where(col(CredentialOffer.id) == newest.id)
            .values(expires_at=stale)
        )
        last = db.exec(select(CredentialNonce).order_by(col(CredentialNonce.id).desc())).first()
        assert last is not None
        db.execute(
            update(CredentialNonce)
            .where(col(CredentialNonce.id) == last.id)
            .values(expires_at=stale)
        )
        db.commit()
    with unit_of_work(services.engine) as db:
        assert purge(db) == 2
    with Session(services.engine) as db:
        assert len(db.exec(select(CredentialOffer)).all()) == 1
        assert len(db.exec(select(CredentialNonce)).all()) == 1
    assert offer_document(client, old).status_code == 404


def test_two_redemptions_at_once_give_one_token(
    client: TestClient, services: Services, hrd: dict[str, str], badge: str
) -> None:
    """The second of two concurrent token requests with the right code and tx_code waits for the
    first one's transaction and then finds the code claimed (one conditional UPDATE)."""
    import threading

    from authlib.oauth2.rfc6749 import InvalidGrantError

    from issuer.core.db import unit_of_work
    from issuer.oauth.oid4vci import redeem

    made = offer(client, badge, hrd)
    code = pre_authorized_code(client, made)
    claimed, release = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def first() -> None:
        with unit_of_work(services.engine) as db:
            results["first"] = redeem(db, code, made["tx_code"])
            claimed.set()
            release.wait(30)

    def second() -> None:
        claimed.wait(30)
        try:
            with unit_of_work(services.engine) as db:
                results["second"] = redeem(db, code, made["tx_code"])
        except InvalidGrantError as exc:
            results["second"] = exc

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    claimed.wait(30)
    threading.Event().wait(0.5)  # let the second request reach the claimed row
    release.set()
    for thread in threads:
        thread.join(60)
    assert isinstance(results["first"], dict) and "access_token" in results["first"]
    assert isinstance(results["second"], InvalidGrantError)
