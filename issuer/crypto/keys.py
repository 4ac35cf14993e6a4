"""Key material for issuing: generation, JWK and Multikey forms, and ``did:key`` derivation.

Ed25519 keys sign Data Integrity proofs (``eddsa-rdfc-2022``); RSA-2048 (RS256, the OB 3.0
minimum), P-256 (ES256) or Ed25519 (EdDSA) keys sign VC-JWTs. Private keys never leave this
module's callers except as encrypted PKCS#8 (``to_pkcs8``: scrypt; older keys: PBKDF2).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from issuer.crypto import pkcs8
from issuer.crypto.pkcs8 import STRONG, ScryptCost
from verifier.multibase import ED25519_PRIV, b58encode, encode_multikey

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
JwtAlgorithm = Literal["RS256", "ES256", "EdDSA"]


def generate_ed25519() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def generate_for_jwt(alg: JwtAlgorithm) -> PrivateKey:
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"unsupported JWT algorithm {alg!r}")


def ed25519_from_seed(seed: bytes) -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.from_private_bytes(seed)


def multikey(key: PrivateKey | ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey) -> str:
    """``publicKeyMultibase`` of an Ed25519 or P-256 key (RSA has no Multikey form)."""
    if isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("an RSA key has no Multikey form")
    if isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        return encode_multikey(key.public_key())
    return encode_multikey(key)


def secret_multikey(key: ed25519.Ed25519PrivateKey) -> str:
    """``secretKeyMultibase``: ``z`` + base58btc(0x8026 ‖ 32-byte seed)."""
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return "z" + b58encode(ED25519_PRIV + seed)


def did_key(key: PrivateKey) -> str:
    """The ``did:key`` of an Ed25519 or P-256 key."""
    return f"did:key:{multikey(key)}"


def did_key_method(key: PrivateKey) -> str:
    """The verification method id of a ``did:key``: ``did:key:z…#z…``."""
    value = multikey(key)
    return f"did:key:{value}#{value}"


def public_jwk(
    key: PrivateKey, *, kid: str | None = None, iss: str | None = None
) -> dict[str, Any]:
    """The public JWK (no private members), with ``alg``, ``use`` and optional ``kid`` / ``iss``."""
    algorithm: Any
    if isinstance(key, rsa.RSAPrivateKey):
        algorithm, alg = jwt.algorithms.RSAAlgorithm, "RS256"
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        algorithm, alg = jwt.algorithms.ECAlgorithm, "ES256"
    else:
        algorithm, alg = jwt.algorithms.OKPAlgorithm, "EdDSA"
    jwk: dict[str, Any] = json.loads(algorithm.to_jwk(key.public_key()))
    jwk.update({"alg": alg, "use": "sig"})
    if kid:
        jwk["kid"] = kid
    if iss:
        jwk["iss"] = iss
    return jwk


def jwk_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 thumbprint (base64url SHA-256 of the required members, sorted)."""
    required = {
        "RSA": ("e", "kty", "n"),
        "EC": ("crv", "kty", "x", "y"),
        "OKP": ("crv", "kty", "x"),
    }
    members = {name: jwk[name] for name in required[jwk["kty"]]}
    digest = hashlib.sha256(
        json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def did_jwk(key: PrivateKey) -> str:
    jwk = {k: v for k, v in public_jwk(key).items() if k not in ("alg", "use")}
    encoded = base64.urlsafe_b64encode(json.dumps(jwk, separators=(",", ":")).encode())
    return "did:jwk:" + encoded.rstrip(b"=").decode("ascii")


def to_pkcs8(key: PrivateKey, passphrase: bytes, cost: ScryptCost = STRONG) -> bytes:
    """PEM PKCS#8, encrypted with ``passphrase``: PBES2, scrypt at ``cost``, AES-256-CBC."""
    plain = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pkcs8.encrypt(plain, passphrase, cost)


def from_pkcs8(pem: bytes, passphrase: bytes) -> PrivateKey:
    """The key in an encrypted PKCS#8 PEM, whichever scheme encrypted it (scrypt, or the PBKDF2
    of keys written before); ``ValueError`` for a wrong passphrase."""
    key = serialization.load_pem_private_key(pem, password=passphrase)
    if not isinstance(
        key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    ):
        raise ValueError("unsupported private key type")
    return key
