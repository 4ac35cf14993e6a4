"""Signing primitives: re-signing the official vectors reproduces them byte for byte, and what
Laurel signs (Data Integrity and VC-JWT, every algorithm, every key form) verifies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from issuer.crypto.keys import (
    JwtAlgorithm,
    did_jwk,
    did_key,
    did_key_method,
    ed25519_from_seed,
    from_pkcs8,
    generate_ed25519,
    generate_for_jwt,
    jwk_thumbprint,
    multikey,
    public_jwk,
    secret_multikey,
    to_pkcs8,
)
from issuer.crypto.signing import (
    UnsuitableKey,
    sign_data_integrity,
    sign_domain_linkage,
    sign_jwt,
)
from tests.issuer.credentials import make_credential
from tests.vectors import NOW, VECTORS, load_json
from verifier import Outcome, Verdict, verify_credential
from verifier.fetch import NO_NETWORK, MappingFetcher
from verifier.multibase import b58decode, b64url_decode, decode_multikey
from verifier.proof import data_integrity
from verifier.proof import jwt as vcjwt


def _guide_key() -> ed25519.Ed25519PrivateKey:
    return ed25519_from_seed(bytes.fromhex(load_json("ob3-impl-guide/key.json")["seedHex"]))


def _w3c_key() -> ed25519.Ed25519PrivateKey:
    private = load_json("w3c-vc-di-eddsa/keyPair.json")["privateKeyMultibase"]
    return ed25519_from_seed(b58decode(private[1:])[2:])


@pytest.mark.parametrize("guide", ["ob", "clr"])
def test_resigning_implementation_guide_vectors_reproduces_proof_value(guide: str) -> None:
    options = load_json(f"ob3-impl-guide/{guide}/proof-options.json")
    signed = sign_data_integrity(
        load_json(f"ob3-impl-guide/{guide}/credential.json"),
        _guide_key(),
        options["verificationMethod"],
        created=options["created"],
    )
    expected = load_json(f"ob3-impl-guide/{guide}/signed-credential.json")["proof"]
    expected = expected if isinstance(expected, dict) else expected[0]
    assert signed["proof"][0]["proofValue"] == expected["proofValue"]


def test_implementation_guide_intermediate_values() -> None:
    values = load_json("ob3-impl-guide/ob/intermediate-values.json")
    options = load_json("ob3-impl-guide/ob/proof-options.json")
    data = data_integrity.signing_input(load_json("ob3-impl-guide/ob/credential.json"), options)
    assert data.hex() == values["dataToSignHex"]
    assert _guide_key().sign(data).hex() == values["signatureHex"]


@pytest.mark.parametrize("name", ["alumni", "employ"])
def test_resigning_w3c_vectors_reproduces_signature(name: str) -> None:
    base = f"w3c-vc-di-eddsa/{name}"
    config = load_json(f"{base}/proofConfigDataInt.json")
    unsigned = load_json(f"{base}/signedDataInt.json")
    unsigned.pop("proof")
    signed = sign_data_integrity(
        unsigned, _w3c_key(), config["verificationMethod"], created=config["created"]
    )
    expected = (VECTORS / base / "sigBTC58DataInt.txt").read_text().strip()
    assert signed["proof"][0]["proofValue"] == expected


def test_w3c_key_pair_encodings() -> None:
    pair = load_json("w3c-vc-di-eddsa/keyPair.json")
    key = _w3c_key()
    assert multikey(key) == pair["publicKeyMultibase"]
    assert secret_multikey(key) == pair["privateKeyMultibase"]


def test_multikey_round_trip_ed25519_and_p256() -> None:
    for key in (generate_ed25519(), ec.generate_private_key(ec.SECP256R1())):
        value = multikey(key)
        assert value.startswith("z6Mk" if isinstance(key, ed25519.Ed25519PrivateKey) else "zDn")
        assert multikey(decode_multikey(value)) == value


def test_pkcs8_round_trip_is_encrypted() -> None:
    key = generate_ed25519()
    pem = to_pkcs8(key, b"correct horse")
    assert b"ENCRYPTED PRIVATE KEY" in pem
    assert multikey(from_pkcs8(pem, b"correct horse")) == multikey(key)
    with pytest.raises(ValueError):
        from_pkcs8(pem, b"wrong")


def test_jwk_thumbprint_rfc7638_example() -> None:
    jwk = {
        "kty": "RSA",
        "e": "AQAB",
        "n": (
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1"
            "L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4"
            "QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbO"
            "pbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csF"
            "Cur-kEgU8awapJzKnqDKgw"
        ),
    }
    assert jwk_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def _verify(source: Any, fetcher: Any = NO_NETWORK, **kwargs: Any) -> Any:
    return verify_credential(source, now=NOW, fetcher=fetcher, **kwargs)


def test_data_integrity_with_did_key_issuer_verifies() -> None:
    key = generate_ed25519()
    signed = sign_data_integrity(make_credential(did_key(key)), key, did_key_method(key))
    report = _verify(signed, email="Learner@Example.org ")
    assert report.verdict is Verdict.VERIFIED, report.to_dict()
    assert report.check("recipient").outcome is Outcome.PASSED


def _did_web_world(key: Any, jwt_key: Any) -> tuple[str, MappingFetcher]:
    did = "did:web:badges.example.org:issuers:hrd"
    document = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [
            {
                "id": f"{did}#key-1",
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": multikey(key),
            },
            {
                "id": f"{did}#jwt-1",
                "type": "JsonWebKey",
                "controller": did,
                "publicKeyJwk": public_jwk(jwt_key),
            },
        ],
        "assertionMethod": [f"{did}#key-1", f"{did}#jwt-1"],
    }
    url = "https://badges.example.org/issuers/hrd/did.json"
    return did, MappingFetcher({url: json.dumps(document).encode()})


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_jwt_round_trip_with_did_web_issuer(alg: JwtAlgorithm) -> None:
    key, jwt_key = generate_ed25519(), generate_for_jwt(alg)
    did, fetcher = _did_web_world(key, jwt_key)
    signed = sign_data_integrity(make_credential(did), key, f"{did}#key-1")
    assert _verify(signed, fetcher).verdict is Verdict.VERIFIED
    token = sign_jwt(signed, jwt_key, kid=f"{did}#jwt-1")
    report = _verify(token, fetcher)
    assert report.verdict is Verdict.VERIFIED, report.to_dict()
    assert report.check("proof").reason.startswith(alg)
    assert (
        _verify(token, fetcher, algorithms=("ES256",) if alg != "ES256" else ("RS256",)).verdict
        is Verdict.NOT_VERIFIED
    )


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_jwt_round_trip_with_did_jwk_issuer(alg: JwtAlgorithm) -> None:
    key = generate_for_jwt(alg)
    did = did_jwk(key)
    token = sign_jwt(make_credential(did), key, kid=f"{did}#0")
    assert _verify(token).verdict is Verdict.VERIFIED


def _edit_payload(token: str, edit: Any) -> str:
    header, _, signature = token.split(".")
    decoded = vcjwt.decode(token).payload
    edit(decoded)
    return (
        vcjwt.signing_input(json.loads(b64url_decode(header)), decoded).decode() + "." + signature
    )


def test_edited_jwt_payload_fails() -> None:
    key = generate_for_jwt("ES256")
    did = did_jwk(key)
    token = sign_jwt(make_credential(did), key, kid=f"{did}#0")

    def rename(payload: dict[str, Any]) -> None:
        payload["credentialSubject"]["achievement"]["name"] = "Something Else"

    report = _verify(_edit_payload(token, rename))
    assert report.verdict is Verdict.NOT_VERIFIED
    assert report.check("proof").outcome is Outcome.FAILED


def test_jwt_with_embedded_jwk_is_bound_through_the_issuers_jwks() -> None:
    key = generate_for_jwt("RS256")
    issuer = "https://badges.example.org/issuers/hrd"
    credential = make_credential(issuer)
    header = {"alg": "RS256", "jwk": public_jwk(key), "typ": "JWT"}
    signed = vcjwt.signing_input(header, {**credential, **vcjwt.claims_for(credential)})
    import jwt as pyjwt

    token = vcjwt.assemble(signed, pyjwt.get_algorithm_by_name("RS256").sign(signed, key))
    jwks_url = "https://badges.example.org/.well-known/jwks.json"
    listed = MappingFetcher({jwks_url: json.dumps({"keys": [public_jwk(key)]}).encode()})
    assert _verify(token, listed).verdict is Verdict.VERIFIED
    other = MappingFetcher(
        {jwks_url: json.dumps({"keys": [public_jwk(generate_for_jwt("RS256"))]}).encode()}
    )
    assert _verify(token, other).check("issuer").outcome is Outcome.FAILED
    assert _verify(token).verdict is Verdict.COULD_NOT_DECIDE  # JWKS unreachable


def test_key_from_another_did_fails_issuer_binding() -> None:
    key, impostor = generate_ed25519(), generate_ed25519()
    signed = sign_data_integrity(make_credential(did_key(key)), impostor, did_key_method(impostor))
    report = _verify(signed)
    assert report.check("proof").outcome is Outcome.PASSED
    assert report.check("issuer").outcome is Outcome.FAILED
    assert report.verdict is Verdict.NOT_VERIFIED


def _key(kind: str) -> Any:
    if kind.startswith("rsa"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))
    if kind == "ed25519":
        return generate_ed25519()
    curves = {"p256": ec.SECP256R1(), "p384": ec.SECP384R1(), "secp256k1": ec.SECP256K1()}
    return ec.generate_private_key(curves[kind])


@pytest.mark.parametrize(
    ("kind", "alg"),
    [
        ("p384", None),
        ("secp256k1", None),
        ("p384", "ES256"),
        ("secp256k1", "ES256"),
        ("rsa1024", None),
        ("rsa1024", "RS256"),
        ("ed25519", "ES256"),
        ("ed25519", "RS256"),
        ("p256", "EdDSA"),
        ("p256", "RS256"),
        ("rsa2048", "ES256"),
        ("rsa2048", "EdDSA"),
    ],
)
def test_issuer_refuses_a_key_its_jwt_algorithm_may_not_use(kind: str, alg: str | None) -> None:
    """ES256 ⇔ P-256, EdDSA ⇔ Ed25519, RS256 ⇔ RSA of 2048 bits or more: anything else is refused
    before signing (before, an RSA-1024 key signed RS256, and ``alg`` could not be pinned)."""
    key = _key(kind)
    with pytest.raises(UnsuitableKey):
        sign_jwt(make_credential("did:example:issuer"), key, kid="did:example:issuer#0", alg=alg)
    with pytest.raises(UnsuitableKey):
        sign_domain_linkage(
            "did:example:issuer",
            "https://example.org",
            key,
            kid="did:example:issuer#0",
            issued=NOW,
            expires=NOW,
            alg=alg,
        )


@pytest.mark.parametrize(
    ("kind", "alg"),
    [("p256", "ES256"), ("ed25519", "EdDSA"), ("rsa2048", "RS256"), ("rsa3072", "RS256")],
)
def test_a_key_of_its_algorithm_signs(kind: str, alg: str) -> None:
    key = _key(kind)
    did = did_jwk(key)
    token = sign_jwt(make_credential(did), key, kid=f"{did}#0", alg=alg)
    assert json.loads(b64url_decode(token.split(".")[0]))["alg"] == alg
    assert _verify(token).verdict is Verdict.VERIFIED
