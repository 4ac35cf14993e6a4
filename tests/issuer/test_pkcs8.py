"""Keys at rest: encrypted PKCS#8 with scrypt (standard PBES2, read by ``cryptography`` and by
OpenSSL), the older PBKDF2 keys still read, and how each is protected."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from issuer.crypto import pkcs8
from issuer.crypto.keys import PrivateKey, from_pkcs8, generate_ed25519, generate_for_jwt, to_pkcs8

PASSPHRASE = b"a long enough passphrase"


def _raw(key: PrivateKeyTypes) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _old_format(key: PrivateKey) -> bytes:
    """How keys were written before: ``cryptography``'s best available scheme, which is PBKDF2
    with OpenSSL's 2,048 iterations."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE),
    )


@pytest.mark.parametrize(
    "generate",
    [generate_ed25519, lambda: generate_for_jwt("RS256"), lambda: generate_for_jwt("ES256")],
    ids=["Ed25519", "RSA", "P-256"],
)
def test_keys_are_encrypted_with_strong_scrypt_and_read_back(
    generate: Callable[[], PrivateKey],
) -> None:
    key = generate()
    pem = to_pkcs8(key, PASSPHRASE)
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    assert pkcs8.protection(pem) == pkcs8.Protection("scrypt", cost=pkcs8.STRONG)
    assert _raw(from_pkcs8(pem, PASSPHRASE)) == _raw(key)
    with pytest.raises(ValueError):
        from_pkcs8(pem, b"another passphrase")


def test_keys_written_before_still_read_and_show_as_weak() -> None:
    key = generate_ed25519()
    old = _old_format(key)
    protection = pkcs8.protection(old)
    assert protection == pkcs8.Protection("pbkdf2", iterations=2048)
    assert not protection.at_least(pkcs8.TEST)
    assert str(protection) == "PBKDF2, 2,048 iterations"
    assert _raw(from_pkcs8(old, PASSPHRASE)) == _raw(key)


def test_a_cheaper_scrypt_is_weaker_than_the_strong_one() -> None:
    cheap = pkcs8.protection(to_pkcs8(generate_ed25519(), PASSPHRASE, pkcs8.TEST))
    assert cheap.at_least(pkcs8.TEST) and not cheap.at_least(pkcs8.STRONG)
    assert str(cheap) == "scrypt N=2^10, r=8, p=1"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_openssl_reads_the_keys(tmp_path: Path) -> None:
    """The format is standard: OpenSSL decrypts it (its scrypt allows 32 MiB, STRONG uses 16)."""
    key = generate_for_jwt("ES256")
    path = tmp_path / "key.pem"
    path.write_bytes(to_pkcs8(key, PASSPHRASE))
    result = subprocess.run(
        ["openssl", "pkey", "-in", str(path), "-passin", f"pass:{PASSPHRASE.decode()}"],
        capture_output=True,
        check=True,
    )
    decrypted = serialization.load_pem_private_key(result.stdout, password=None)
    assert _raw(decrypted) == _raw(key)


@pytest.mark.parametrize(
    "pem",
    [
        b"-----BEGIN PRIVATE KEY-----\nMC4CAQA=\n-----END PRIVATE KEY-----\n",
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nnot base64!\n-----END ENCRYPTED PRIVATE KEY-----",
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAMCAQA=\n-----END ENCRYPTED PRIVATE KEY-----\n",
    ],
)
def test_what_is_not_an_encrypted_key_is_refused(pem: bytes) -> None:
    with pytest.raises(ValueError):
        pkcs8.protection(pem)


def test_an_empty_passphrase_is_refused() -> None:
    with pytest.raises(ValueError):
        to_pkcs8(generate_ed25519(), b"")
