"""Sealing secrets Laurel must use again later (its client secrets and tokens at other OB 3.0
API hosts): AES-256-GCM (NIST SP 800-38D) under a key derived from ``LAUREL_KEY_PASSPHRASE``
with HKDF-SHA256 (RFC 5869). The ``label`` (e.g. ``"ob_connection.access_token"``) is the
associated data, so a sealed value cannot be moved to another column and still open.

Sealed text: ``v1.`` + base64url(12-byte nonce ‖ ciphertext ‖ tag)."""

from __future__ import annotations

import base64
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "v1."


class Unsealable(ValueError):
    """A sealed value that does not open: another passphrase, another column, or altered."""


@lru_cache(maxsize=8)
def _key(passphrase: str) -> AESGCM:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"laurel sealing v1", info=b"secrets"
    ).derive(passphrase.encode("utf-8"))
    return AESGCM(derived)


def seal(passphrase: str, label: str, secret: str) -> str:
    nonce = os.urandom(12)
    sealed = _key(passphrase).encrypt(nonce, secret.encode("utf-8"), label.encode("utf-8"))
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def unseal(passphrase: str, label: str, sealed: str) -> str:
    if not sealed.startswith(PREFIX):
        raise Unsealable(f"{label}: not a sealed value")
    try:
        raw = base64.urlsafe_b64decode(sealed.removeprefix(PREFIX).encode("ascii"))
        plain = _key(passphrase).decrypt(raw[:12], raw[12:], label.encode("utf-8"))
    except (InvalidTag, ValueError) as exc:
        raise Unsealable(f"{label}: does not open with this passphrase") from exc
    return plain.decode("utf-8")
