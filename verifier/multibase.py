"""Multibase (base58btc ``z``, base64url ``u``) and Multikey encodings of public keys.

Multikey per VC Data Integrity EdDSA §2.1.1 and the did:key spec: ``z`` + base58btc(multicodec
prefix ‖ key bytes); Ed25519 public keys use prefix 0xed01 (32 bytes), P-256 public keys 0x8024
(33-byte compressed point).
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {char: i for i, char in enumerate(_ALPHABET)}

ED25519_PUB = b"\xed\x01"
P256_PUB = b"\x80\x24"
ED25519_PRIV = b"\x80\x26"

PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey


MAX_BASE58_BYTES = 768
"""The longest value written or read in base58 (1,049 characters): a key or a signature has at
most ~100 bytes, and the conversion takes time that grows with the square of the length (64 KB
took 7 s to write and 2 s to read), so a longer value is refused with ``ValueError``."""
MAX_BASE58_CHARS = 1049


def b58encode(data: bytes) -> str:
    if len(data) > MAX_BASE58_BYTES:
        raise ValueError(f"{len(data):,} bytes are too many to write in base58")
    number = int.from_bytes(data, "big")
    chars = []
    while number:
        number, rem = divmod(number, 58)
        chars.append(_ALPHABET[rem])
    leading = len(data) - len(data.lstrip(b"\0"))
    return "1" * leading + "".join(reversed(chars))


def b58decode(text: str) -> bytes:
    if len(text) > MAX_BASE58_CHARS:
        raise ValueError(
            f"a base58 value of {len(text):,} characters is longer than any key or signature"
        )
    number = 0
    for char in text:
        if char not in _INDEX:
            raise ValueError(f"{char!r} is not a base58btc character")
        number = number * 58 + _INDEX[char]
    leading = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * leading + body


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def multibase_decode(value: str) -> bytes:
    """Decode a ``z`` (base58btc) or ``u`` (base64url) multibase string."""
    if value.startswith("z"):
        return b58decode(value[1:])
    if value.startswith("u"):
        return b64url_decode(value[1:])
    raise ValueError("multibase value must start with 'z' (base58btc) or 'u' (base64url)")


def encode_multikey(key: PublicKey) -> str:
    """``publicKeyMultibase`` of an Ed25519 or P-256 public key."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "z" + b58encode(ED25519_PUB + key.public_bytes(Encoding.Raw, PublicFormat.Raw))
    if isinstance(key.curve, ec.SECP256R1):
        point = key.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
        return "z" + b58encode(P256_PUB + point)
    raise ValueError(f"no Multikey encoding for curve {key.curve.name}")


MAX_REMEMBERED_MULTIKEY = 64
"""Keys written in at most this many characters (an Ed25519 or P-256 Multikey has ~48) are
remembered once parsed: a did:key is read several times per verification (the key, then its
relationships), and one issuer's key in every credential it signs."""


def decode_multikey(value: str) -> PublicKey:
    """Parse a ``publicKeyMultibase``; raise ``ValueError`` unless it is Ed25519 or P-256."""
    if len(value) <= MAX_REMEMBERED_MULTIKEY:
        return _remembered_multikey(value)
    return _decode_multikey(value)


@lru_cache(maxsize=1024)
def _remembered_multikey(value: str) -> PublicKey:
    return _decode_multikey(value)  # public keys are immutable; failures are not remembered


def _decode_multikey(value: str) -> PublicKey:
    if not value.startswith("z"):
        raise ValueError("publicKeyMultibase must be base58btc ('z…')")
    raw = b58decode(value[1:])
    if raw[:2] == ED25519_PUB and len(raw) == 34:
        return ed25519.Ed25519PublicKey.from_public_bytes(raw[2:])
    if raw[:2] == P256_PUB and len(raw) == 35:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw[2:])
    raise ValueError("not an Ed25519 (z6Mk…) or P-256 (zDn…) Multikey")
