"""VC-JWT: compact JWS proofs (OB 3.0 §8.2 "JSON Web Token Proof Format"; RFC 7515, RFC 7519).

Header: ``alg`` from the caller's allow-list; ``kid`` and/or ``jwk`` (public only); ``typ`` if
present is ``JWT``; no other parameters. Each algorithm takes one kind of key (``KEY_RULES``):
``ES256`` a P-256 key only (RFC 7518 §3.4), ``EdDSA`` an Ed25519 key only (RFC 8037; OB 3.0
names Ed25519), ``RS256`` an RSA key of at least ``MIN_RSA_BITS`` (RFC 7518 §3.3). A ``jwk``
whose own ``alg`` names another algorithm is refused (RFC 7517 §4.4).

Payload: the credential plus ``iss`` = issuer id, ``jti`` = credential id, ``sub`` =
credentialSubject.id, ``nbf`` = validFrom and ``exp`` = validUntil when present. VCDM 1.1 tokens
carry the credential in the ``vc`` claim.

``signing_input`` builds the bytes a JWT signature covers, for the issuer and the verifier alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from verifier import safejson
from verifier.errors import (
    AlgorithmNotAllowed,
    ClaimMismatch,
    InvalidSignature,
    KeyResolutionError,
    MalformedInput,
    ProofError,
)
from verifier.keys import KeyResolver, PublicKey, ResolvedKey, key_from_jwk
from verifier.multibase import b64url_decode, b64url_encode

DEFAULT_ALGORITHMS: tuple[str, ...] = ("RS256", "ES256", "EdDSA")
ALLOWED_HEADER = frozenset({"alg", "kid", "jwk", "typ"})
REGISTERED_CLAIMS = ("iss", "sub", "jti", "nbf", "exp", "iat", "aud")

MIN_RSA_BITS = 2048


def _p256(key: PublicKey) -> bool:
    return isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1)


def _ed25519(key: PublicKey) -> bool:
    return isinstance(key, ed25519.Ed25519PublicKey)


def _rsa(key: PublicKey) -> bool:
    return isinstance(key, rsa.RSAPublicKey) and key.key_size >= MIN_RSA_BITS


KEY_RULES: dict[str, tuple[Callable[[PublicKey], bool], str]] = {
    "ES256": (_p256, "a P-256 key"),
    "EdDSA": (_ed25519, "an Ed25519 key"),
    "RS256": (_rsa, f"an RSA key of at least {MIN_RSA_BITS} bits"),
}
"""What each supported algorithm verifies with: the test, and its name for a reason."""


def describe_key(key: PublicKey) -> str:
    """``a P-384 key``, ``an RSA key of 1024 bits``: for reasons a person reads."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        names = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
        return f"a {names.get(key.curve.name, key.curve.name)} key"
    if isinstance(key, rsa.RSAPublicKey):
        return f"an RSA key of {key.key_size} bits"
    return "an Ed25519 key"


@dataclass(frozen=True)
class DecodedJwt:
    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def credential(self) -> dict[str, Any]:
        """The credential the token carries (the ``vc`` claim, or the payload minus JWT claims)."""
        if isinstance(self.payload.get("vc"), dict):
            return dict(self.payload["vc"])
        return {k: v for k, v in self.payload.items() if k not in REGISTERED_CLAIMS}


def _json_segment(data: Mapping[str, Any]) -> bytes:
    text = json.dumps(dict(data), separators=(",", ":"), ensure_ascii=False)
    return b64url_encode(text.encode("utf-8")).encode("ascii")


def signing_input(header: Mapping[str, Any], payload: Mapping[str, Any]) -> bytes:
    """``BASE64URL(header) '.' BASE64URL(payload)`` — the bytes a JWS signature covers."""
    return _json_segment(header) + b"." + _json_segment(payload)


def assemble(signed: bytes, signature: bytes) -> str:
    return signed.decode("ascii") + "." + b64url_encode(signature)


def claims_for(credential: Mapping[str, Any]) -> dict[str, Any]:
    """The JWT claims OB 3.0 requires for ``credential`` (merged into the payload on issue)."""
    subject = credential.get("credentialSubject", {})
    claims: dict[str, Any] = {
        "iss": issuer_id(credential),
        "jti": credential.get("id"),
        "sub": subject.get("id") if isinstance(subject, dict) else None,
        "nbf": _epoch(credential.get("validFrom")),
    }
    if credential.get("validUntil"):
        claims["exp"] = _epoch(credential["validUntil"])
    return {k: v for k, v in claims.items() if v is not None}


def issuer_id(credential: Mapping[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        value = issuer.get("id")
        return value if isinstance(value, str) else None
    return issuer if isinstance(issuer, str) else None


def _epoch(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def decode(token: str) -> DecodedJwt:
    """Split and decode a compact JWS without verifying it."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise MalformedInput("a compact JWS has three dot-separated parts")
    try:
        header_bytes, payload_bytes = b64url_decode(parts[0]), b64url_decode(parts[1])
        signature = b64url_decode(parts[2])
    except ValueError as exc:
        raise MalformedInput("the JWS is not valid base64url") from exc
    header, payload = safejson.loads(header_bytes), safejson.loads(payload_bytes)
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise MalformedInput("the JWS header and payload must be JSON objects")
    return DecodedJwt(header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), signature)


def _check_header(header: dict[str, Any], algorithms: tuple[str, ...]) -> str:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none":
        raise AlgorithmNotAllowed(str(alg), algorithms)
    if alg not in algorithms or alg not in KEY_RULES:
        raise AlgorithmNotAllowed(alg, tuple(a for a in algorithms if a in KEY_RULES))
    extra = set(header) - ALLOWED_HEADER
    if extra:
        raise ProofError(f"JOSE header parameters {sorted(extra)} are not allowed by OB 3.0")
    if "typ" in header and header["typ"] != "JWT":
        raise ProofError(f"JOSE header typ is {header['typ']!r}, not 'JWT'")
    if "kid" not in header and "jwk" not in header:
        raise KeyResolutionError("the JOSE header has neither 'kid' nor 'jwk', so there is no key")
    return alg


def _key(header: dict[str, Any], resolve_key: KeyResolver) -> ResolvedKey:
    if isinstance(header.get("kid"), str) and ":" in header["kid"]:
        return resolve_key(header["kid"])
    if "jwk" in header:
        jwk = header["jwk"]
        key: PublicKey = key_from_jwk(jwk)
        if isinstance(jwk, dict) and jwk.get("alg", header["alg"]) != header["alg"]:
            raise ProofError(
                f"the JWK is for {jwk['alg']!r}, the JWT is signed with {header['alg']!r}"
            )
        controller = jwk.get("iss", "") if isinstance(jwk, dict) else ""
        return ResolvedKey(id="jwk", controller=str(controller), key=key, confirmed=False)
    raise KeyResolutionError(f"the kid {header.get('kid')!r} is not a resolvable URL")


def verify_signature(
    decoded: DecodedJwt, *, algorithms: tuple[str, ...], resolve_key: KeyResolver
) -> ResolvedKey:
    """Check the header rules and the signature; return the key. Raises on any failure."""
    alg = _check_header(decoded.header, algorithms)
    resolved = _key(decoded.header, resolve_key)
    suits, wanted = KEY_RULES[alg]
    if not suits(resolved.key):
        raise ProofError(f"{alg} needs {wanted}; the key is {describe_key(resolved.key)}")
    algorithm = jwt.get_algorithm_by_name(alg)
    if not algorithm.verify(decoded.signing_input, resolved.key, decoded.signature):
        raise InvalidSignature("the JWT signature does not match")
    return resolved


def check_claims(decoded: DecodedJwt, now: datetime) -> None:
    """OB 3.0 claim rules: iss, jti, sub and nbf agree with the credential; exp not passed."""
    credential = decoded.credential
    claims = decoded.payload
    vcdm1 = isinstance(claims.get("vc"), dict)
    subject = credential.get("credentialSubject")
    expected = {
        "iss": issuer_id(credential),
        "jti": credential.get("id"),
        "sub": subject.get("id") if isinstance(subject, dict) else None,
    }
    for claim, value in expected.items():
        if claim not in claims:
            raise ClaimMismatch(f"the JWT has no '{claim}' claim, which OB 3.0 requires")
        if value is not None and claims[claim] != value:
            raise ClaimMismatch(f"the JWT '{claim}' claim {claims[claim]!r} differs from {value!r}")
    if "nbf" not in claims:
        raise ClaimMismatch("the JWT has no 'nbf' claim, which OB 3.0 requires")
    start = _epoch(credential.get("issuanceDate" if vcdm1 else "validFrom"))
    if start is not None and claims["nbf"] != start:
        raise ClaimMismatch("the JWT 'nbf' claim differs from the credential's start date")
    end = _epoch(credential.get("expirationDate" if vcdm1 else "validUntil"))
    if "exp" in claims and end is not None and claims["exp"] != end:
        raise ClaimMismatch("the JWT 'exp' claim differs from the credential's end date")
    if not isinstance(claims["nbf"], int | float) or (
        "exp" in claims and not isinstance(claims["exp"], int | float)
    ):
        raise ClaimMismatch("the JWT 'nbf' and 'exp' claims must be numbers")


def exp_as_datetime(decoded: DecodedJwt) -> datetime | None:
    """The ``exp`` claim as a time; ``ClaimMismatch`` if it is not a usable timestamp."""
    exp = decoded.payload.get("exp")
    if exp is None:
        return None
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        raise ClaimMismatch("the JWT 'exp' claim is not a number")
    try:
        return datetime.fromtimestamp(exp, UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise ClaimMismatch("the JWT 'exp' claim is not a usable time") from exc
