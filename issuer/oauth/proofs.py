"""OpenID4VCI 1.0 key proofs of type ``jwt`` (OID4VCI §8.2.1.1, Appendix F.1): the wallet signs
``{aud, iat, nonce}`` with the key the badge is to be bound to, and names that key in the header
by ``kid`` (a did:key or did:jwk DID URL) or ``jwk``.

``check_jwt_proof`` raises ``ProofError`` (answered ``invalid_proof``) for anything but a proof
that is typed ``openid4vci-proof+jwt``, signed with EdDSA (Ed25519) or ES256 (P-256) by exactly
the key its header names, addressed to this credential issuer, issued recently, and without an
``iss`` (the pre-authorized code flow here is anonymous). Whether the nonce is live is the
caller's to check (``invalid_nonce``); this module only reads it.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from verifier.errors import KeyResolutionError
from verifier.keys import (
    PublicKey,
    did_jwk_document,
    did_key_document,
    find_method,
    key_from_jwk,
    key_from_method_document,
)

PROOF_TYPE = "openid4vci-proof+jwt"
ALGORITHMS = ("EdDSA", "ES256")
MAX_AGE = timedelta(minutes=5)
"""How old a proof's ``iat`` may be (the nonce it signs lives no longer)."""
CLOCK_SKEW = timedelta(seconds=60)
MAX_PROOF_LENGTH = 8000


class ProofError(ValueError):
    """The key proof is not acceptable; the message says why (``invalid_proof``)."""


@dataclass(frozen=True)
class Proof:
    holder: str
    """The DID of the proof's key: the ``kid``'s DID, or the did:jwk of a ``jwk`` header."""
    nonce: str | None


def check_jwt_proof(token: object, audience: str, now: datetime) -> Proof:
    """The holder and nonce of a valid ``jwt`` key proof; ``ProofError`` otherwise."""
    if not isinstance(token, str) or not token or len(token) > MAX_PROOF_LENGTH:
        raise ProofError("the proof must be a compact JWS")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise ProofError(f"the proof is not a JWS: {exc}") from None
    if header.get("typ") != PROOF_TYPE:
        raise ProofError(f"the proof's typ must be {PROOF_TYPE!r}")
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise ProofError(f"the proof's alg must be one of {', '.join(ALGORITHMS)}")
    holder, key = _holder_key(header)
    _check_key_type(str(alg), key)
    try:
        claims = jwt.decode(
            token,
            key=key,
            algorithms=[str(alg)],
            audience=audience,
            options={"require": ["aud", "iat"], "verify_iat": False},
        )
    except jwt.InvalidAudienceError:
        raise ProofError(f"the proof's aud must be {audience!r}") from None
    except jwt.PyJWTError as exc:
        raise ProofError(f"the proof does not verify: {exc}") from None
    _check_claims(claims, now)
    nonce = claims.get("nonce")
    return Proof(holder, nonce if isinstance(nonce, str) else None)


def _holder_key(header: dict[str, Any]) -> tuple[str, PublicKey]:
    named = [name for name in ("kid", "jwk", "x5c") if name in header]
    if len(named) != 1:
        raise ProofError("the proof's header must name its key by exactly one of kid, jwk, x5c")
    try:
        if named == ["jwk"]:
            jwk = header["jwk"]
            key = key_from_jwk(jwk)  # refuses private members
            return _did_jwk(jwk), key
        if named == ["kid"]:
            return _from_kid(header["kid"])
    except KeyResolutionError as exc:
        raise ProofError(f"the proof's key cannot be used: {exc}") from None
    raise ProofError("x5c key proofs are not supported; use kid (did:key, did:jwk) or jwk")


def _from_kid(kid: object) -> tuple[str, PublicKey]:
    if not isinstance(kid, str) or "#" not in kid or len(kid) > 2000:
        raise ProofError("the proof's kid must be a DID URL (did:key or did:jwk, with a fragment)")
    did = kid.partition("#")[0]
    if did.startswith("did:key:"):
        document = did_key_document(did)
    elif did.startswith("did:jwk:"):
        document = did_jwk_document(did)
    else:
        raise ProofError("the proof's kid must be a did:key or did:jwk DID URL")
    method = find_method(document, kid)
    if method is None or kid not in document.get("authentication", []):
        raise ProofError(f"{kid} is not an authentication key of {did}")
    return did, key_from_method_document(method)


def _did_jwk(jwk: dict[str, Any]) -> str:
    """did:jwk of the key's required public members, sorted as in an RFC 7638 thumbprint: JWS
    libraries reorder header members, so the order the wallet wrote cannot be known."""
    public = {name: jwk[name] for name in ("crv", "kty", "x", "y") if name in jwk}
    encoded = base64.urlsafe_b64encode(json.dumps(public, separators=(",", ":")).encode())
    return "did:jwk:" + encoded.rstrip(b"=").decode("ascii")


def _check_key_type(alg: str, key: PublicKey) -> None:
    if alg == "EdDSA" and isinstance(key, ed25519.Ed25519PublicKey):
        return
    if (
        alg == "ES256"
        and isinstance(key, ec.EllipticCurvePublicKey)
        and isinstance(key.curve, ec.SECP256R1)
    ):
        return
    raise ProofError(f"the proof's key is not one {alg} signs with (Ed25519 or P-256)")


def _check_claims(claims: dict[str, Any], now: datetime) -> None:
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise ProofError("the proof's iat must be a number")
    moment = now.timestamp()
    if iat > moment + CLOCK_SKEW.total_seconds():
        raise ProofError("the proof's iat is in the future")
    if iat < moment - MAX_AGE.total_seconds():
        raise ProofError("the proof is too old (iat); sign a new one with a fresh nonce")
    if "iss" in claims:
        raise ProofError("the proof must not carry iss: the pre-authorized code flow is anonymous")
