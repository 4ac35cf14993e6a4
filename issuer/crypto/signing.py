"""Signing credentials: a Data Integrity ``eddsa-rdfc-2022`` proof and the VC-JWT form.

The bytes that get signed come from ``verifier`` (``data_integrity.signing_input`` and
``jwt.signing_input``); this module only adds the private key, so issuing and verifying can never
disagree. When both forms are wanted, the Data Integrity proof is added first and the JWT then
wraps the signed credential (OB 3.0 §8.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from issuer.crypto.keys import PrivateKey
from verifier.proof import data_integrity
from verifier.proof import jwt as vcjwt

_JWT_ALG = {
    rsa.RSAPrivateKey: "RS256",
    ec.EllipticCurvePrivateKey: "ES256",
    ed25519.Ed25519PrivateKey: "EdDSA",
}


def utc_now() -> str:
    return _z(datetime.now(UTC))


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def proof_options(verification_method: str, created: str | None = None) -> dict[str, Any]:
    return {
        "type": "DataIntegrityProof",
        "cryptosuite": data_integrity.CRYPTOSUITE,
        "created": created or utc_now(),
        "verificationMethod": verification_method,
        "proofPurpose": "assertionMethod",
    }


def sign_data_integrity(
    credential: Mapping[str, Any],
    key: ed25519.Ed25519PrivateKey,
    verification_method: str,
    *,
    created: str | None = None,
) -> dict[str, Any]:
    """``credential`` with an ``eddsa-rdfc-2022`` proof appended (``proof`` is an array)."""
    options = proof_options(verification_method, created)
    signature = key.sign(data_integrity.signing_input(credential, options))
    return data_integrity.attach_proof(credential, options, signature)


def jwt_algorithm(key: PrivateKey) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey) and not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("JWT keys are RSA, P-256 or Ed25519")
    for kind, alg in _JWT_ALG.items():
        if isinstance(key, kind):
            return alg
    raise ValueError("JWT keys are RSA, P-256 or Ed25519")


def sign_jwt(credential: Mapping[str, Any], key: PrivateKey, *, kid: str) -> str:
    """A compact JWS: ``credential`` plus the OB 3.0 claims (iss, jti, sub, nbf, exp) as payload.

    ``kid`` must dereference to the public key (a DID URL or a JWKS entry URL).
    """
    alg = jwt_algorithm(key)
    header = {"alg": alg, "kid": kid, "typ": "JWT"}
    payload = {**credential, **vcjwt.claims_for(credential)}
    signed = vcjwt.signing_input(header, payload)
    signature = jwt.get_algorithm_by_name(alg).sign(signed, key)
    return vcjwt.assemble(signed, signature)


def sign_domain_linkage(
    did: str,
    origin: str,
    key: PrivateKey,
    *,
    kid: str,
    issued: datetime,
    expires: datetime,
) -> str:
    """A Domain Linkage credential in its JWT form (DIF Well Known DID Configuration): ``did``
    says it controls ``origin``. It goes into ``{origin}/.well-known/did-configuration.json``."""
    alg = jwt_algorithm(key)
    header = {"alg": alg, "kid": kid, "typ": "JWT"}
    payload = {
        "iss": did,
        "sub": did,
        "nbf": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
        "vc": {
            "@context": [
                "https://www.w3.org/2018/credentials/v1",
                "https://identity.foundation/.well-known/did-configuration/v1",
            ],
            "issuer": did,
            "issuanceDate": _z(issued),
            "expirationDate": _z(expires),
            "type": ["VerifiableCredential", "DomainLinkageCredential"],
            "credentialSubject": {"id": did, "origin": origin},
        },
    }
    signed = vcjwt.signing_input(header, payload)
    return vcjwt.assemble(signed, jwt.get_algorithm_by_name(alg).sign(signed, key))


def did_configuration(linked: list[str]) -> dict[str, Any]:
    """The ``/.well-known/did-configuration.json`` document for these Domain Linkage JWTs."""
    return {
        "@context": "https://identity.foundation/.well-known/did-configuration/v1",
        "linked_dids": linked,
    }
