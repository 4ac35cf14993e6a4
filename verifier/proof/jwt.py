"""VC-JWT: compact JWS proofs (OB 3.0 §8.2 "JSON Web Token Proof Format"; RFC 7515, RFC 7519),
and the VC-JWTs of other stacks: VC-JOSE-COSE (``typ: vc+jwt``) and VCDM 1.1 §6.3 (``vc`` claim).

Header: ``alg`` from the caller's allow-list; ``kid`` and/or ``jwk`` (public only); ``typ`` if
present is ``JWT`` (OB 3.0) or ``vc+jwt`` (VC-JOSE-COSE; its drafts' ``vc+ld+json+jwt`` and
``vc+ld+jwt`` too); ``cty`` if present is ``vc`` (or the drafts' ``vc+ld+json``); no other
parameters (``crit``, ``b64``, ``jku``, ``x5u``, ``x5c`` are refused). Each algorithm takes one
kind of key (``KEY_RULES``): ``ES256`` a P-256 key only (RFC 7518 §3.4), ``EdDSA`` an Ed25519
key only (RFC 8037; OB 3.0 names Ed25519), ``RS256`` an RSA key of at least ``MIN_RSA_BITS``
(RFC 7518 §3.3). A ``jwk`` whose own ``alg`` names another algorithm is refused (RFC 7517 §4.4).

Payload: the credential plus ``iss`` = issuer id, ``jti`` = credential id, ``sub`` =
credentialSubject.id, ``nbf`` = validFrom and ``exp`` = validUntil when present. Every claim
present must agree with the credential (VC-JOSE-COSE: they "MUST NOT conflict"); OB 3.0 requires
``iss``, ``jti``, ``nbf``, and ``sub`` whenever the subject has an id (a subject known only by its
``identifier`` has no ``sub``: a warning). A ``vc+jwt`` token may leave the claims out (warnings).

VCDM 1.1 tokens carry the credential in the ``vc`` claim and may keep ``issuer``,
``issuanceDate``, ``expirationDate``, ``id`` and ``credentialSubject.id`` only in ``iss``,
``nbf``, ``exp``, ``jti`` and ``sub``: ``DecodedJwt.credential`` rebuilds them (VCDM 1.1 §6.3.2,
"JWT decoding"), filling only what the credential lacks, so a claim that disagrees with the
credential is a failed check, never a silent choice.

``departures`` lists where a token that verifies departs from OB 3.0 §8.2 (reported as warnings).

``signing_input`` builds the bytes a JWT signature covers, for the issuer and the verifier alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
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
ALLOWED_HEADER = frozenset({"alg", "kid", "jwk", "typ", "cty"})
REGISTERED_CLAIMS = ("iss", "sub", "jti", "nbf", "exp", "iat", "aud")
OB_TYP = "jwt"
VC_JOSE_TYPES = frozenset({"vc+jwt", "vc+ld+json+jwt", "vc+ld+jwt"})
"""``typ`` of VC-JOSE-COSE (``vc+jwt``, VCDM 2.0) and of its drafts."""
CONTENT_TYPES = frozenset({"vc", "vc+ld+json"})
"""``cty`` of VC-JOSE-COSE (``vc``) and of its drafts."""
VCDM2_DATES = ("validFrom", "validUntil")
VCDM1_DATES = ("issuanceDate", "expirationDate")
_VC_V2 = "https://www.w3.org/ns/credentials/v2"

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
    def vcdm1(self) -> bool:
        """A VCDM 1.1 token: the credential is in the ``vc`` claim."""
        return isinstance(self.payload.get("vc"), dict)

    @property
    def vc_jose(self) -> bool:
        """A VC-JOSE-COSE token (``typ: vc+jwt`` or a draft's form of it)."""
        return media_type(self.header.get("typ")) in VC_JOSE_TYPES

    @property
    def carried(self) -> dict[str, Any]:
        """The credential as the token carries it (the ``vc`` claim, or the payload minus JWT
        claims), before anything is rebuilt from the claims."""
        if self.vcdm1:
            return dict(self.payload["vc"])
        return {k: v for k, v in self.payload.items() if k not in REGISTERED_CLAIMS}

    @cached_property
    def _rebuilt(self) -> tuple[dict[str, Any], tuple[str, ...]]:
        if not self.vcdm1:
            return self.carried, ()
        return rebuild_vcdm1(self.carried, self.payload)

    @property
    def credential(self) -> dict[str, Any]:
        """The credential the token stands for: what it carries, and for a VCDM 1.1 token the
        properties it keeps only in the registered claims (``rebuild_vcdm1``)."""
        return self._rebuilt[0]

    @property
    def rebuilt(self) -> tuple[str, ...]:
        """The credential properties taken from the claims (VCDM 1.1 tokens only)."""
        return self._rebuilt[1]


def media_type(value: Any) -> str | None:
    """A ``typ`` or ``cty`` value compared as RFC 7515 §4.1.9 says: case-insensitively, with or
    without ``application/``; None when it is not a string."""
    if not isinstance(value, str):
        return None
    lowered = value.strip().lower()
    return lowered.removeprefix("application/")


def _timestamp(value: Any) -> str | None:
    """A NumericDate as an XML Schema dateTime (seconds, UTC), or None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        moment = datetime.fromtimestamp(int(value), UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return moment.isoformat().replace("+00:00", "Z")


def _dates_of(credential: Mapping[str, Any]) -> tuple[str, str]:
    """The start and end property names of the credential's data model."""
    contexts = credential.get("@context")
    first = contexts[0] if isinstance(contexts, list) and contexts else contexts
    return VCDM2_DATES if first == _VC_V2 else VCDM1_DATES


def rebuild_vcdm1(
    carried: Mapping[str, Any], claims: Mapping[str, Any]
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """VCDM 1.1 §6.3.2 ("JWT decoding"): ``iss`` -> ``issuer`` (or ``issuer.id``), ``nbf`` ->
    ``issuanceDate``, ``exp`` -> ``expirationDate``, ``jti`` -> ``id``, ``sub`` ->
    ``credentialSubject.id``. Only what the credential lacks is filled in; where both are
    present, ``check_claims`` compares them. A ``vc`` claim holding a VCDM 2.0 credential gets
    ``validFrom`` / ``validUntil`` instead. Returns the credential and the names filled in."""
    credential = dict(carried)
    filled: list[str] = []
    start, end = _dates_of(credential)
    iss = claims.get("iss")
    if isinstance(iss, str):
        issuer = credential.get("issuer")
        if issuer is None:
            credential["issuer"] = iss
            filled.append("issuer")
        elif isinstance(issuer, dict) and "id" not in issuer:
            credential["issuer"] = {**issuer, "id": iss}
            filled.append("issuer.id")
    for claim, name in (("nbf", start), ("exp", end)):
        moment = _timestamp(claims.get(claim))
        if moment is not None and name not in credential:
            credential[name] = moment
            filled.append(name)
    jti = claims.get("jti")
    if isinstance(jti, str) and "id" not in credential:
        credential["id"] = jti
        filled.append("id")
    sub = claims.get("sub")
    subject = credential.get("credentialSubject")
    if isinstance(sub, str) and isinstance(subject, dict) and "id" not in subject:
        credential["credentialSubject"] = {**subject, "id": sub}
        filled.append("credentialSubject.id")
    return credential, tuple(filled)


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


def subject_id(credential: Mapping[str, Any]) -> str | None:
    """``credentialSubject.id`` of the one subject (a list of one counts as one)."""
    subject = credential.get("credentialSubject")
    if isinstance(subject, list) and len(subject) == 1:
        subject = subject[0]
    value = subject.get("id") if isinstance(subject, dict) else None
    return value if isinstance(value, str) else None


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
        raise ProofError(f"JOSE header parameters {sorted(extra)} are not allowed in a VC-JWT")
    if "typ" in header and media_type(header["typ"]) not in {OB_TYP, *VC_JOSE_TYPES}:
        raise ProofError(
            f"JOSE header typ is {header['typ']!r}, not 'JWT' (OB 3.0) or 'vc+jwt' (VC-JOSE-COSE)"
        )
    if "cty" in header and media_type(header["cty"]) not in CONTENT_TYPES:
        raise ProofError(f"JOSE header cty is {header['cty']!r}, not 'vc' (VC-JOSE-COSE)")
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


def _number(claims: Mapping[str, Any], name: str) -> None:
    value = claims.get(name)
    if name in claims and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ClaimMismatch(f"the JWT '{name}' claim must be a number, not {value!r}")


def _agree(claims: Mapping[str, Any], claim: str, value: Any, what: str) -> None:
    if claim not in claims or claims[claim] == value:
        return
    if value is None:
        raise ClaimMismatch(
            f"the JWT '{claim}' claim {claims[claim]!r} names {what}, which the "
            "credential does not have"
        )
    raise ClaimMismatch(f"the JWT '{claim}' claim {claims[claim]!r} differs from {what} {value!r}")


def _agree_in_time(claims: Mapping[str, Any], claim: str, value: Any, what: str) -> None:
    moment = _epoch(value)
    if claim in claims and moment is not None and int(claims[claim]) != moment:
        raise ClaimMismatch(f"the JWT '{claim}' claim differs from the credential's {what}")


def check_claims(decoded: DecodedJwt, now: datetime | None = None) -> str:
    """Every claim present agrees with the credential (after a VCDM 1.1 rebuild); an OB 3.0
    token (``typ`` ``JWT`` or none) has ``iss``, ``jti``, ``nbf``, and ``sub`` when the subject
    has an id. Raises ``ClaimMismatch``; returns which claims were compared."""
    credential = decoded.credential
    claims = decoded.payload
    if decoded.vc_jose and "vc" in claims:
        raise ClaimMismatch("a vc+jwt token's payload is the credential; it has no 'vc' claim")
    for name in ("nbf", "exp"):
        _number(claims, name)
    subject = subject_id(credential)
    _agree(claims, "iss", issuer_id(credential), "the issuer id")
    _agree(claims, "jti", credential.get("id"), "the credential id")
    _agree(claims, "sub", subject, "the subject id")
    start, end = _dates_of(credential)
    _agree_in_time(claims, "nbf", credential.get(start), f"start date ({start})")
    _agree_in_time(claims, "exp", credential.get(end), f"end date ({end})")
    if not decoded.vc_jose:
        for claim in ("iss", "jti", "nbf"):
            if claim not in claims:
                raise ClaimMismatch(f"the JWT has no '{claim}' claim, which OB 3.0 requires")
        if "sub" not in claims and subject is not None:
            raise ClaimMismatch(
                f"the JWT has no 'sub' claim, which OB 3.0 requires for the subject {subject}"
            )
    present = [claim for claim in ("iss", "sub", "jti", "nbf", "exp") if claim in claims]
    if not present:
        return "the token has no JWT claims to compare (VC-JOSE-COSE)"
    return f"{', '.join(present)} agree with the credential"


def departures(decoded: DecodedJwt) -> list[str]:
    """Where a token departs from OB 3.0 §8.2 without failing: each is a warning."""
    found: list[str] = []
    header, claims = decoded.header, decoded.payload
    if "typ" in header and media_type(header["typ"]) != OB_TYP:
        found.append(f"typ is {header['typ']!r} (VC-JOSE-COSE), where OB 3.0 has 'JWT'")
    if "cty" in header:
        found.append(f"the header has 'cty' {header['cty']!r}, which OB 3.0 does not allow")
    if decoded.vcdm1:
        found.append("a VCDM 1.1 token: the credential is in the 'vc' claim")
    if decoded.rebuilt:
        names = ", ".join(decoded.rebuilt)
        found.append(f"{names} taken from the JWT claims (VCDM 1.1 §6.3.2), not the credential")
    subject = subject_id(decoded.credential)
    if decoded.vc_jose:
        missing = [c for c in ("iss", "jti", "nbf") if c not in claims]
        missing += ["sub"] if subject is not None and "sub" not in claims else []
        if missing:
            found.append(f"no {', '.join(repr(c) for c in missing)} claim, which OB 3.0 requires")
    if subject is None and "sub" not in claims:
        found.append(
            "no 'sub' claim: the subject has no id (it is known by its 'identifier'), "
            "where OB 3.0 requires 'sub'"
        )
    return found


def exp_as_datetime(decoded: DecodedJwt) -> datetime | None:
    """The ``exp`` claim as a time; ``ClaimMismatch`` if it is not a usable timestamp."""
    return claim_as_datetime(decoded, "exp")


def claim_as_datetime(decoded: DecodedJwt, claim: str) -> datetime | None:
    """A time claim (``exp``, ``nbf``) as a time; ``ClaimMismatch`` if it is not a usable
    timestamp."""
    value = decoded.payload.get(claim)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ClaimMismatch(f"the JWT '{claim}' claim is not a number")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise ClaimMismatch(f"the JWT '{claim}' claim is not a usable time") from exc
