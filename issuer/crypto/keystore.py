"""Where issuers' private keys live: a ``KeyStore``.

* ``FileKeyStore`` (the default): one PKCS#8 PEM file per key under ``keys/``, encrypted with
  ``LAUREL_KEY_PASSPHRASE``, readable only by its owner.
* ``DatabaseKeyStore``: the same encrypted PEM in the ``signing_key`` row, so that several app
  processes on several machines can sign.

Decrypted keys are cached in memory by key id (decrypting PKCS#8 is deliberately slow).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric import ed25519

from issuer.core.errors import LaurelError
from issuer.crypto.keys import PrivateKey, from_pkcs8, to_pkcs8
from issuer.models import SigningKey


class KeyStoreError(LaurelError):
    title = "Key store error"


class KeyStore(Protocol):
    def store(self, row: SigningKey, key: PrivateKey) -> None:
        """Keep ``key`` for ``row`` (may set ``row.private_pem``)."""

    def load(self, row: SigningKey) -> PrivateKey: ...


def proof_key(keystore: KeyStore, row: SigningKey) -> ed25519.Ed25519PrivateKey:
    """The Ed25519 key of a ``di`` row: ``eddsa-rdfc-2022`` proofs sign with nothing else."""
    key = keystore.load(row)
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise KeyStoreError(f"{row.kid} is not an Ed25519 key and cannot sign an eddsa proof")
    return key


class _Cached:
    def __init__(self, passphrase: str) -> None:
        self.passphrase = passphrase.encode("utf-8")
        self._cache: dict[str, PrivateKey] = {}

    def _decrypt(self, kid: str, pem: bytes) -> PrivateKey:
        if kid not in self._cache:
            try:
                self._cache[kid] = from_pkcs8(pem, self.passphrase)
            except (ValueError, TypeError) as exc:
                raise KeyStoreError(
                    f"the private key {kid} cannot be decrypted: is LAUREL_KEY_PASSPHRASE right?"
                ) from exc
        return self._cache[kid]


class FileKeyStore(_Cached):
    def __init__(self, directory: Path, passphrase: str) -> None:
        super().__init__(passphrase)
        self.directory = directory

    def _path(self, kid: str) -> Path:
        return self.directory / f"{hashlib.sha256(kid.encode()).hexdigest()[:32]}.pem"

    def store(self, row: SigningKey, key: PrivateKey) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path(row.kid)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(to_pkcs8(key, self.passphrase))
        self._cache[row.kid] = key

    def load(self, row: SigningKey) -> PrivateKey:
        if row.kid in self._cache:
            return self._cache[row.kid]
        path = self._path(row.kid)
        if not path.is_file():
            raise KeyStoreError(f"the private key {row.kid} is not in {self.directory}")
        return self._decrypt(row.kid, path.read_bytes())


class DatabaseKeyStore(_Cached):
    def store(self, row: SigningKey, key: PrivateKey) -> None:
        row.private_pem = to_pkcs8(key, self.passphrase)
        self._cache[row.kid] = key

    def load(self, row: SigningKey) -> PrivateKey:
        if row.private_pem is None:
            raise KeyStoreError(f"the private key {row.kid} is not in the database")
        return self._decrypt(row.kid, row.private_pem)
