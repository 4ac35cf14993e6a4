"""Data Integrity proofs: ``eddsa-rdfc-2022`` (VC DI EdDSA §3.1) and its accepted predecessors.

The bytes that get signed are built here and only here (``signing_input``), for the issuer and
for the verifier alike:

    SHA-256(canonical proof config) ‖ SHA-256(canonical document without proof)

where the proof config is the proof without ``proofValue`` and with the document's ``@context``.
``eddsa-2022`` (the suite's earlier name) and ``Ed25519Signature2020`` use the same algorithm and
are accepted on verification (OB 3.0 Implementation Guide: displayers keep accepting them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from verifier.errors import InvalidSignature, ProofError, UnsupportedProof
from verifier.jsonld import canonicalize, canonicalize_memo
from verifier.keys import KeyResolver, ResolvedKey
from verifier.multibase import b58decode, b58encode

CRYPTOSUITE = "eddsa-rdfc-2022"
LEGACY_CRYPTOSUITES = ("eddsa-2022",)
LEGACY_PROOF_TYPE = "Ed25519Signature2020"


def is_legacy(proof: Mapping[str, Any]) -> bool:
    return proof.get("type") == LEGACY_PROOF_TYPE or proof.get("cryptosuite") in LEGACY_CRYPTOSUITES


def unsigned(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document without its ``proof``."""
    return {key: value for key, value in document.items() if key != "proof"}


def proof_config(document: Mapping[str, Any], proof: Mapping[str, Any]) -> dict[str, Any]:
    config = {key: value for key, value in proof.items() if key != "proofValue"}
    config["@context"] = document["@context"]
    return config


def hash_data(canonical_document: str, canonical_proof_config: str) -> bytes:
    """The data signed: proof-config hash first, then document hash."""
    return (
        hashlib.sha256(canonical_proof_config.encode("utf-8")).digest()
        + hashlib.sha256(canonical_document.encode("utf-8")).digest()
    )


def signing_input(
    document: Mapping[str, Any],
    proof_options: Mapping[str, Any],
    *,
    canonical_document: str | None = None,
) -> bytes:
    """The bytes an Ed25519 key signs for ``document`` under ``proof_options``."""
    doc = unsigned(document)
    canonical = canonical_document if canonical_document is not None else canonicalize(doc)
    return hash_data(canonical, canonicalize_memo(proof_config(doc, proof_options)))


def make_proof(proof_options: Mapping[str, Any], signature: bytes) -> dict[str, Any]:
    """The proof object: its options and the signature as ``proofValue``."""
    return {**proof_options, "proofValue": "z" + b58encode(signature)}


def append_proof(document: Mapping[str, Any], proof: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` with ``proof`` appended to its ``proof`` array (always emitted as an array)."""
    signed = dict(document)
    existing = document.get("proof", [])
    proofs = list(existing) if isinstance(existing, list) else [existing]
    proofs.append(proof)
    signed["proof"] = proofs
    return signed


def attach_proof(
    document: Mapping[str, Any], proof_options: Mapping[str, Any], signature: bytes
) -> dict[str, Any]:
    """``document`` with the proof appended to its ``proof`` array (always emitted as an array)."""
    return append_proof(document, make_proof(proof_options, signature))


def _check_shape(proof: Mapping[str, Any], purpose: str) -> None:
    kind, suite = proof.get("type"), proof.get("cryptosuite")
    if kind == "DataIntegrityProof":
        if suite != CRYPTOSUITE and suite not in LEGACY_CRYPTOSUITES:
            raise UnsupportedProof(f"cryptosuite {suite!r} is not supported")
    elif kind != LEGACY_PROOF_TYPE:
        raise UnsupportedProof(f"proof type {kind!r} is not supported")
    if proof.get("proofPurpose") != purpose:
        raise ProofError(f"proofPurpose is {proof.get('proofPurpose')!r}, not {purpose!r}")
    created = proof.get("created")
    if created is not None:
        try:
            datetime.fromisoformat(str(created).replace("Z", "+00:00"))
        except ValueError as exc:
            raise ProofError(f"proof 'created' {created!r} is not a date-time") from exc
    if not isinstance(proof.get("verificationMethod"), str):
        raise ProofError("the proof has no verificationMethod")
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofError("proofValue is missing or not base58btc multibase ('z…')")


def _check_expiry(proof: Mapping[str, Any], now: datetime, skew: timedelta) -> None:
    expires = proof.get("expires")
    if expires is None:
        return
    try:
        end = datetime.fromisoformat(str(expires).strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ProofError(f"proof 'expires' {expires!r} is not a date-time") from exc
    if not isinstance(expires, str) or end.tzinfo is None:
        raise ProofError(f"proof 'expires' {expires!r} is not a date-time with a time zone")
    if end < now - skew:
        raise ProofError(f"the proof expired on {expires}")


def verify_proof(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    resolve_key: KeyResolver,
    *,
    canonical_document: str | None = None,
    purpose: str = "assertionMethod",
    now: datetime | None = None,
    skew: timedelta = timedelta(0),
) -> ResolvedKey:
    """Verify one Data Integrity proof over ``document``; return the key that signed it.
    ``purpose`` is the ``proofPurpose`` expected (``authentication`` for a presentation).

    A proof with ``expires`` (VC Data Integrity §2.1) is good until then: after ``now`` (default:
    the current time) less ``skew`` it does not verify.

    Raises a ``ProofError`` subclass (or a ``KeyResolutionError`` / ``JsonLdError``) on failure.
    """
    _check_shape(proof, purpose)
    _check_expiry(proof, now or datetime.now(UTC), skew)
    try:
        signature = b58decode(str(proof["proofValue"])[1:])
    except ValueError as exc:
        raise ProofError(f"proofValue is not valid base58btc: {exc}") from exc
    if len(signature) != 64:
        raise InvalidSignature(f"an Ed25519 signature has 64 bytes, this one {len(signature)}")
    resolved = resolve_key(str(proof["verificationMethod"]))
    if not isinstance(resolved.key, ed25519.Ed25519PublicKey):
        raise ProofError("the verification method is not an Ed25519 key")
    data = signing_input(document, proof, canonical_document=canonical_document)
    try:
        resolved.key.verify(signature, data)
    except _CryptoInvalidSignature:
        raise InvalidSignature("the signature does not match the credential") from None
    return resolved
