"""Hostile issuer bindings: every way a forger might borrow an issuer's identity for a key they
hold. Each case is listed in docs/verifier.md ("Hostile binding cases"); all end not verified.

The world: ``victim.example`` is an honest did:web / https issuer with its own key; the attacker
controls ``attacker.example`` and signs with their own key."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from issuer.crypto.keys import did_key, generate_ed25519, generate_for_jwt, multikey, public_jwk
from issuer.crypto.signing import sign_data_integrity, sign_jwt
from tests.issuer.credentials import make_credential
from tests.vectors import check
from verifier import Outcome, Report, Verdict, verify_credential
from verifier.fetch import MappingFetcher
from verifier.multibase import b64url_encode
from verifier.proof import jwt as vcjwt

NOW = datetime(2026, 6, 1, tzinfo=UTC)
VICTIM_KEY = generate_ed25519()
ATTACKER_KEY = generate_ed25519()
VICTIM = "did:web:victim.example"
ATTACKER = "did:web:attacker.example"
VICTIM_HTTPS = "https://victim.example/issuer"


def vm(method_id: str, controller: str, key: Any = VICTIM_KEY) -> dict[str, Any]:
    return {
        "id": method_id,
        "type": "Multikey",
        "controller": controller,
        "publicKeyMultibase": multikey(key),
    }


def did_doc(did: str, methods: list[dict[str, Any]], **relations: Any) -> dict[str, Any]:
    return {"id": did, "verificationMethod": methods, **relations}


VICTIM_DOC = did_doc(VICTIM, [vm(f"{VICTIM}#key-1", VICTIM)], assertionMethod=[f"{VICTIM}#key-1"])
VICTIM_HTTPS_DOC = did_doc(
    VICTIM_HTTPS,
    [vm(f"{VICTIM_HTTPS}#key-1", VICTIM_HTTPS)],
    assertionMethod=[f"{VICTIM_HTTPS}#key-1"],
)


def world(documents: dict[str, Any] | None = None) -> MappingFetcher:
    """The honest victim's documents plus whatever the case adds (URL -> JSON)."""
    table = {
        "https://victim.example/.well-known/did.json": VICTIM_DOC,
        VICTIM_HTTPS: VICTIM_HTTPS_DOC,
        **(documents or {}),
    }
    return MappingFetcher({url: json.dumps(doc).encode() for url, doc in table.items()})


def signed(issuer: str, method: str, key: Any = ATTACKER_KEY) -> dict[str, Any]:
    credential = make_credential(issuer)
    credential["issuer"]["name"] = "Seoul National University"
    return sign_data_integrity(credential, key, method)


def verify(source: Any, fetcher: MappingFetcher) -> Report:
    return verify_credential(source, now=NOW, fetcher=fetcher)


def assert_forgery_refused(report: Report) -> None:
    assert report.verdict is Verdict.NOT_VERIFIED, report.to_dict()
    assert check(report, "issuer").outcome is not Outcome.PASSED or (
        check(report, "proof").outcome is Outcome.FAILED
    )


# --- the control: honest credentials verify ------------------------------------------------------


def test_the_victims_own_credential_verifies() -> None:
    report = verify(signed(VICTIM, f"{VICTIM}#key-1", VICTIM_KEY), world())
    assert report.verdict is Verdict.VERIFIED, report.to_dict()
    assert "lists the signing key for issuing credentials" in check(report, "issuer").reason


def test_a_key_in_another_document_that_the_issuer_lists_is_accepted() -> None:
    """Controlled Identifiers allow a method defined elsewhere when the controller lists it."""
    key_doc = did_doc("did:web:keys.victim.example", [vm("did:web:keys.victim.example#k", VICTIM)])
    victim = did_doc(
        VICTIM,
        [vm(f"{VICTIM}#key-1", VICTIM)],
        assertionMethod=[f"{VICTIM}#key-1", "did:web:keys.victim.example#k"],
    )
    fetcher = world(
        {
            "https://victim.example/.well-known/did.json": victim,
            "https://keys.victim.example/.well-known/did.json": key_doc,
        }
    )
    report = verify(signed(VICTIM, "did:web:keys.victim.example#k", VICTIM_KEY), fetcher)
    assert report.verdict is Verdict.VERIFIED, report.to_dict()


# --- the two forgeries of issue 11 ---------------------------------------------------------------


def test_borrowed_controller_in_a_did_web_document() -> None:
    attacker = did_doc(ATTACKER, [vm(f"{ATTACKER}#key-1", VICTIM, ATTACKER_KEY)])
    attacker["assertionMethod"] = [f"{ATTACKER}#key-1"]
    fetcher = world({"https://attacker.example/.well-known/did.json": attacker})
    report = verify(signed(VICTIM, f"{ATTACKER}#key-1"), fetcher)
    assert_forgery_refused(report)
    assert check(report, "proof").outcome is Outcome.PASSED  # the signature itself is fine
    assert "does not list it under assertionMethod" in check(report, "issuer").reason
    assert "controlled by the issuer" not in json.dumps(report.to_dict())


def test_borrowed_controller_in_an_https_key_document() -> None:
    method = "https://attacker.example/keys/1"
    fetcher = world({"https://attacker.example/keys/1": vm(method, VICTIM_HTTPS, ATTACKER_KEY)})
    report = verify(signed(VICTIM_HTTPS, method), fetcher)
    assert_forgery_refused(report)
    assert "does not list it under assertionMethod" in check(report, "issuer").reason


# --- more hostile bindings -----------------------------------------------------------------------


def test_borrowed_controller_in_an_https_controller_document() -> None:
    method = "https://attacker.example/issuer#key-1"
    attacker = did_doc(
        "https://attacker.example/issuer",
        [vm(method, VICTIM_HTTPS, ATTACKER_KEY)],
        assertionMethod=[method],
    )
    fetcher = world({"https://attacker.example/issuer": attacker})
    assert_forgery_refused(verify(signed(VICTIM_HTTPS, method), fetcher))


def test_authentication_only_key_in_the_issuers_own_document() -> None:
    victim = did_doc(
        VICTIM,
        [vm(f"{VICTIM}#key-1", VICTIM), vm(f"{VICTIM}#login", VICTIM, ATTACKER_KEY)],
        assertionMethod=[f"{VICTIM}#key-1"],
        authentication=[f"{VICTIM}#login"],
    )
    fetcher = world({"https://victim.example/.well-known/did.json": victim})
    report = verify(signed(VICTIM, f"{VICTIM}#login"), fetcher)
    assert_forgery_refused(report)
    assert "only for authentication" in check(report, "issuer").reason


def test_authentication_only_key_embedded_in_the_relationship() -> None:
    victim = did_doc(
        VICTIM,
        [vm(f"{VICTIM}#key-1", VICTIM)],
        assertionMethod=[f"{VICTIM}#key-1"],
        authentication=[vm("#login", VICTIM, ATTACKER_KEY)],
    )
    fetcher = world({"https://victim.example/.well-known/did.json": victim})
    assert_forgery_refused(verify(signed(VICTIM, f"{VICTIM}#login"), fetcher))


def test_key_agreement_key_does_not_sign() -> None:
    victim = did_doc(
        VICTIM,
        [vm(f"{VICTIM}#key-1", VICTIM), vm(f"{VICTIM}#enc", VICTIM, ATTACKER_KEY)],
        assertionMethod=[f"{VICTIM}#key-1"],
        keyAgreement=[f"{VICTIM}#enc"],
    )
    fetcher = world({"https://victim.example/.well-known/did.json": victim})
    assert_forgery_refused(verify(signed(VICTIM, f"{VICTIM}#enc"), fetcher))


def test_attacker_document_that_claims_the_victims_id() -> None:
    """A DID document served for did:web:attacker.example that says it is did:web:victim."""
    impostor = did_doc(
        VICTIM,
        [vm(f"{ATTACKER}#key-1", VICTIM, ATTACKER_KEY)],
        assertionMethod=[f"{ATTACKER}#key-1"],
    )
    fetcher = world({"https://attacker.example/.well-known/did.json": impostor})
    assert_forgery_refused(verify(signed(VICTIM, f"{ATTACKER}#key-1"), fetcher))


def test_victim_lists_the_method_id_but_with_another_key() -> None:
    """The issuer's document embeds a method with the attacker's method id but the victim's own
    key: the attacker's key material is not what the issuer vouched for."""
    attacker = did_doc(ATTACKER, [vm(f"{ATTACKER}#key-1", VICTIM, ATTACKER_KEY)])
    victim = did_doc(
        VICTIM,
        [vm(f"{VICTIM}#key-1", VICTIM)],
        assertionMethod=[f"{VICTIM}#key-1", vm(f"{ATTACKER}#key-1", VICTIM, VICTIM_KEY)],
    )
    fetcher = world(
        {
            "https://attacker.example/.well-known/did.json": attacker,
            "https://victim.example/.well-known/did.json": victim,
        }
    )
    assert_forgery_refused(verify(signed(VICTIM, f"{ATTACKER}#key-1"), fetcher))


def test_https_key_document_served_under_another_id() -> None:
    """The document at the attacker's URL claims to be the victim's key."""
    method = "https://attacker.example/keys/1"
    fetcher = world(
        {"https://attacker.example/keys/1": vm(f"{VICTIM_HTTPS}#key-1", VICTIM_HTTPS, ATTACKER_KEY)}
    )
    assert_forgery_refused(verify(signed(VICTIM_HTTPS, method), fetcher))


def test_did_web_path_traversal_is_refused() -> None:
    did = "did:web:victim.example:issuers:..%2F..%2Fattacker"
    report = verify(signed(did, f"{did}#key-1"), world())
    assert report.verdict is Verdict.NOT_VERIFIED
    assert "not a valid did:web" in check(report, "proof").reason


def test_did_web_on_another_port_is_another_issuer() -> None:
    """did:web:victim.example%3A8443 is a different DID from did:web:victim.example: whoever runs
    port 8443 cannot sign for the issuer on 443."""
    other = "did:web:victim.example%3A8443"
    doc = did_doc(other, [vm(f"{other}#key-1", VICTIM, ATTACKER_KEY)], assertionMethod=[])
    fetcher = world({"https://victim.example:8443/.well-known/did.json": doc})
    assert_forgery_refused(verify(signed(VICTIM, f"{other}#key-1"), fetcher))


def test_did_web_with_path_and_port_verifies_when_honest() -> None:
    did = "did:web:victim.example%3A8443:issuers:hrd"
    doc = did_doc(did, [vm("#key-1", did)], assertionMethod=["#key-1"])
    fetcher = world({"https://victim.example:8443/issuers/hrd/did.json": doc})
    report = verify(signed(did, f"{did}#key-1", VICTIM_KEY), fetcher)
    assert report.verdict is Verdict.VERIFIED, report.to_dict()


def test_a_did_key_cannot_sign_for_a_did_web_issuer() -> None:
    method = f"{did_key(ATTACKER_KEY)}#{did_key(ATTACKER_KEY).removeprefix('did:key:')}"
    assert_forgery_refused(verify(signed(VICTIM, method), world()))


def test_unreachable_controller_document_is_never_verified() -> None:
    """The attacker's key names a controller whose document cannot be fetched."""
    gone = "did:web:gone.example"
    attacker = did_doc(ATTACKER, [vm(f"{ATTACKER}#key-1", gone, ATTACKER_KEY)])
    fetcher = world({"https://attacker.example/.well-known/did.json": attacker})
    report = verify(signed(gone, f"{ATTACKER}#key-1"), fetcher)
    assert report.verdict is Verdict.COULD_NOT_DECIDE
    assert check(report, "issuer").outcome is Outcome.UNKNOWN


# --- VC-JWT: kid and jwk -------------------------------------------------------------------------


def jwt_signed(issuer: str, header: dict[str, Any], key: Any) -> str:
    credential = make_credential(issuer)
    payload = {**credential, **vcjwt.claims_for(credential)}
    alg = {"OKP": "EdDSA", "EC": "ES256", "RSA": "RS256"}[public_jwk(key)["kty"]]
    signing_input = vcjwt.signing_input({"alg": alg, **header}, payload)
    import jwt as pyjwt

    signature = pyjwt.get_algorithm_by_name(alg).sign(signing_input, key)
    return vcjwt.assemble(signing_input, signature)


def test_jwt_kid_with_a_borrowed_controller() -> None:
    attacker = did_doc(ATTACKER, [vm(f"{ATTACKER}#key-1", VICTIM, ATTACKER_KEY)])
    fetcher = world({"https://attacker.example/.well-known/did.json": attacker})
    token = jwt_signed(VICTIM, {"kid": f"{ATTACKER}#key-1"}, ATTACKER_KEY)
    assert_forgery_refused(verify(token, fetcher))


def test_jwt_header_jwk_that_the_did_issuer_does_not_list() -> None:
    jwk = {k: v for k, v in public_jwk(ATTACKER_KEY).items() if k != "kid"}
    token = jwt_signed(VICTIM, {"jwk": {**jwk, "iss": VICTIM}}, ATTACKER_KEY)
    report = verify(token, world())
    assert_forgery_refused(report)
    assert "not one the issuer's DID document lists" in check(report, "issuer").reason


def test_jwt_header_jwk_listed_only_for_authentication() -> None:
    victim = did_doc(
        VICTIM,
        [vm(f"{VICTIM}#key-1", VICTIM), vm(f"{VICTIM}#login", VICTIM, ATTACKER_KEY)],
        assertionMethod=[f"{VICTIM}#key-1"],
        authentication=[f"{VICTIM}#login"],
    )
    fetcher = world({"https://victim.example/.well-known/did.json": victim})
    jwk = {k: v for k, v in public_jwk(ATTACKER_KEY).items() if k != "kid"}
    assert_forgery_refused(verify(jwt_signed(VICTIM, {"jwk": jwk}, ATTACKER_KEY), fetcher))


def test_jwt_header_jwk_from_a_shared_key_set_belongs_to_its_own_issuer() -> None:
    """One host's JWKS lists keys of several issuers, each with ``iss``: issuer B's key does not
    sign for issuer A."""
    attacker_jwk = public_jwk(ATTACKER_KEY, kid="b", iss="https://victim.example/issuers/b")
    victim_jwk = public_jwk(VICTIM_KEY, kid="a", iss=VICTIM_HTTPS)
    fetcher = world(
        {"https://victim.example/.well-known/jwks.json": {"keys": [victim_jwk, attacker_jwk]}}
    )
    header_jwk = {k: v for k, v in attacker_jwk.items() if k not in ("kid", "iss")}
    assert_forgery_refused(
        verify(jwt_signed(VICTIM_HTTPS, {"jwk": header_jwk}, ATTACKER_KEY), fetcher)
    )
    honest_jwk = {k: v for k, v in victim_jwk.items() if k not in ("kid", "iss")}
    honest = verify(jwt_signed(VICTIM_HTTPS, {"jwk": honest_jwk}, VICTIM_KEY), fetcher)
    assert check(honest, "issuer").outcome is Outcome.PASSED, honest.to_dict()


def test_jwt_header_jwk_of_the_did_web_issuer_verifies() -> None:
    jwk = {k: v for k, v in public_jwk(VICTIM_KEY).items() if k != "kid"}
    report = verify(jwt_signed(VICTIM, {"jwk": jwk}, VICTIM_KEY), world())
    assert check(report, "issuer").outcome is Outcome.PASSED, report.to_dict()


def test_jwt_kid_of_the_did_web_issuer_verifies() -> None:
    rsa = generate_for_jwt("RS256")
    victim = did_doc(
        VICTIM,
        [
            vm(f"{VICTIM}#key-1", VICTIM),
            {
                "id": f"{VICTIM}#jwt-1",
                "type": "JsonWebKey",
                "controller": VICTIM,
                "publicKeyJwk": {
                    k: v for k, v in public_jwk(rsa).items() if k not in ("kid", "iss")
                },
            },
        ],
        assertionMethod=[f"{VICTIM}#key-1", f"{VICTIM}#jwt-1"],
    )
    fetcher = world({"https://victim.example/.well-known/did.json": victim})
    token = sign_jwt(make_credential(VICTIM), rsa, kid=f"{VICTIM}#jwt-1")
    assert verify(token, fetcher).verdict is Verdict.VERIFIED


# --- did:jwk purposes ----------------------------------------------------------------------------


def _did_jwk(jwk: dict[str, Any]) -> str:
    return "did:jwk:" + b64url_encode(json.dumps(jwk, separators=(",", ":")).encode())


@pytest.mark.parametrize(
    ("use", "verdict"), [(None, Verdict.VERIFIED), ("sig", Verdict.VERIFIED), ("enc", None)]
)
def test_did_jwk_encryption_keys_do_not_sign(use: str | None, verdict: Verdict | None) -> None:
    jwk = {k: v for k, v in public_jwk(ATTACKER_KEY).items() if k not in ("kid", "iss")}
    if use:
        jwk["use"] = use
    did = _did_jwk(jwk)
    report = verify(signed(did, f"{did}#0"), world())
    if verdict is None:
        assert_forgery_refused(report)
    else:
        assert report.verdict is verdict, report.to_dict()
