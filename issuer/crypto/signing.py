"""Signing credentials: a Data Integrity ``eddsa-rdfc-2022`` proof and the VC-JWT form.

The bytes that get signed come from ``verifier`` (``data_integrity.signing_input`` and
``jwt.signing_input``); this module only adds the private key, so issuing and verifying can never
disagree. When both forms are wanted, the Data Integrity proof is added first and the JWT then
wraps the signed credential (OB 3.0 §8.2).

A JWS algorithm is pinned to its key (RFC 7518 §3.1, RFC 8037 §3.1): RS256 signs with RSA keys of
2048 bits or more (RFC 7518 §3.3), ES256 with P-256 keys only (§3.4), EdDSA with Ed25519 keys
here. ``UnsuitableKey`` is raised before anything is signed with any other pairing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from issuer.crypto.keys import JwtAlgorithm, PrivateKey
from verifier.proof import data_integrity
from verifier.proof import jwt as vcjwt

RSA_MIN_BITS = 2048


class UnsuitableKey(ValueError):
    """A key that its JWS algorithm may not sign with (wrong type, curve or size)."""


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
    proof = data_integrity_proof(credential, key, verification_method, created=created)
    return data_integrity.append_proof(credential, proof)


def data_integrity_proof(
    credential: Mapping[str, Any],
    key: ed25519.Ed25519PrivateKey,
    verification_method: str,
    *,
    created: str | None = None,
) -> dict[str, Any]:
    """The ``eddsa-rdfc-2022`` proof that ``sign_data_integrity`` appends to ``credential``."""
    options = proof_options(verification_method, created)
    signature = key.sign(data_integrity.signing_input(credential, options))
    return data_integrity.make_proof(options, signature)


def jwt_algorithm(key: PrivateKey, alg: str | None = None) -> JwtAlgorithm:
    """The JWS ``alg`` that signs with ``key``: RS256 (RSA, 2048 bits or more), ES256 (P-256) or
    EdDSA (Ed25519). ``UnsuitableKey`` for any other key, or when ``alg`` is given and ``key`` is
    not a key of that algorithm."""
    found: JwtAlgorithm
    if isinstance(key, rsa.RSAPrivateKey):
        found, kind = "RS256", "an RSA"
        weak = key.key_size < RSA_MIN_BITS and f"an RSA key of {key.key_size} bits (2048 at least)"
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        found, kind = "ES256", f"a {key.curve.name}"
        weak = not isinstance(key.curve, ec.SECP256R1) and f"a {key.curve.name} key (P-256 only)"
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        found, kind, weak = "EdDSA", "an Ed25519", False
    else:
        raise UnsuitableKey("JWT keys are RSA (2048 bits or more), P-256 or Ed25519")
    if alg is not None and alg != found:
        raise UnsuitableKey(f"{alg} cannot sign with {kind} key")
    if weak:
        raise UnsuitableKey(f"{found} cannot sign with {weak}")
    return found


def sign_jwt(
    credential: Mapping[str, Any], key: PrivateKey, *, kid: str, alg: str | None = None
) -> str:
    """A compact JWS: ``credential`` plus the OB 3.0 claims (iss, jti, sub, nbf, exp) as payload.

    ``kid`` must dereference to the public key (a DID URL or a JWKS entry URL). ``alg`` (for
    example the key row's) pins the algorithm: ``UnsuitableKey`` if ``key`` is not its kind, and
    always for keys no JWS algorithm here may use (see ``jwt_algorithm``).
    """
    alg = jwt_algorithm(key, alg)
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
    alg: str | None = None,
) -> str:
    """A Domain Linkage credential in its JWT form (DIF Well Known DID Configuration): ``did``
    says it controls ``origin``. It goes into ``{origin}/.well-known/did-configuration.json``.
    ``alg`` pins the algorithm as for ``sign_jwt``."""
    alg = jwt_algorithm(key, alg)
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
