"""Where issuers' private keys live: a ``KeyStore``.

* ``FileKeyStore`` (the default): one PKCS#8 PEM file per key under ``keys/``, encrypted with
  ``LAUREL_KEY_PASSPHRASE``, readable only by its owner.
* ``DatabaseKeyStore``: the same encrypted PEM in the ``signing_key`` row, so that several app
  processes on several machines can sign.

Keys are encrypted with scrypt (``crypto.pkcs8``); keys written before with PBKDF2 still load, and
``rewrap_keys`` (``laurel keys rewrap``) re-encrypts them, or every key under a new passphrase.
Decrypted keys are cached in memory by key id (decrypting is deliberately slow: once per key per
process).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlmodel import Session, col, select

from issuer.core import audit
from issuer.core.errors import LaurelError
from issuer.crypto.keys import PrivateKey, from_pkcs8, to_pkcs8
from issuer.crypto.pkcs8 import STRONG, Protection, ScryptCost, protection
from issuer.models import SigningKey

PASSPHRASE = "LAUREL_KEY_PASSPHRASE"
OLD_PASSPHRASE = "LAUREL_OLD_KEY_PASSPHRASE"


class KeyStoreError(LaurelError):
    title = "Key store error"


class KeyStore(Protocol):
    cost: ScryptCost
    """How hard the passphrase is stretched for the keys it encrypts."""

    def store(self, row: SigningKey, key: PrivateKey) -> None:
        """Keep ``key`` for ``row`` (may set ``row.private_pem``)."""

    def load(self, row: SigningKey) -> PrivateKey: ...

    def protection(self, row: SigningKey) -> Protection:
        """How the stored key of ``row`` is encrypted."""

    def rewrap(self, rows: Sequence[SigningKey], old_passphrase: str | None = None) -> None:
        """Encrypt the keys of ``rows`` again, with the current passphrase and scheme; decrypt
        them with ``old_passphrase`` if given (to change the passphrase). Every key decrypts, or
        nothing is written."""


def proof_key(keystore: KeyStore, row: SigningKey) -> ed25519.Ed25519PrivateKey:
    """The Ed25519 key of a ``di`` row: ``eddsa-rdfc-2022`` proofs sign with nothing else."""
    key = keystore.load(row)
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise KeyStoreError(f"{row.kid} is not an Ed25519 key and cannot sign an eddsa proof")
    return key


class _Cached:
    def __init__(self, passphrase: str, cost: ScryptCost = STRONG) -> None:
        self.passphrase = passphrase.encode("utf-8")
        self.cost = cost
        self._cache: dict[str, PrivateKey] = {}

    def _decrypt(self, kid: str, pem: bytes) -> PrivateKey:
        if kid not in self._cache:
            self._cache[kid] = _open(kid, pem, self.passphrase, PASSPHRASE)
        return self._cache[kid]

    def _rewrapped(
        self, rows: Sequence[SigningKey], pems: Sequence[bytes], old_passphrase: str | None
    ) -> list[bytes]:
        """The new PEMs, once every key has decrypted."""
        secret, name = self.passphrase, PASSPHRASE
        if old_passphrase is not None:
            secret, name = old_passphrase.encode("utf-8"), OLD_PASSPHRASE
        keys = [_open(row.kid, pem, secret, name) for row, pem in zip(rows, pems, strict=True)]
        for row, key in zip(rows, keys, strict=True):
            self._cache[row.kid] = key
        return [to_pkcs8(key, self.passphrase, self.cost) for key in keys]


def _open(kid: str, pem: bytes, secret: bytes, name: str) -> PrivateKey:
    try:
        return from_pkcs8(pem, secret)
    except (ValueError, TypeError) as exc:
        raise KeyStoreError(f"the private key {kid} cannot be decrypted: is {name} right?") from exc


class FileKeyStore(_Cached):
    def __init__(self, directory: Path, passphrase: str, cost: ScryptCost = STRONG) -> None:
        super().__init__(passphrase, cost)
        self.directory = directory

    def _path(self, kid: str) -> Path:
        return self.directory / f"{hashlib.sha256(kid.encode()).hexdigest()[:32]}.pem"

    def _read(self, kid: str) -> bytes:
        path = self._path(kid)
        if not path.is_file():
            raise KeyStoreError(f"the private key {kid} is not in {self.directory}")
        return path.read_bytes()

    def store(self, row: SigningKey, key: PrivateKey) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        _write_new(self._path(row.kid), to_pkcs8(key, self.passphrase, self.cost))
        self._cache[row.kid] = key

    def load(self, row: SigningKey) -> PrivateKey:
        if row.kid in self._cache:
            return self._cache[row.kid]
        return self._decrypt(row.kid, self._read(row.kid))

    def protection(self, row: SigningKey) -> Protection:
        return protection(self._read(row.kid))

    def rewrap(self, rows: Sequence[SigningKey], old_passphrase: str | None = None) -> None:
        pems = self._rewrapped(rows, [self._read(row.kid) for row in rows], old_passphrase)
        staged = []
        for row, pem in zip(rows, pems, strict=True):
            path = self._path(row.kid)
            staged.append((path.with_suffix(".pem.new"), path))
            staged[-1][0].unlink(missing_ok=True)  # left by an interrupted rewrap
            _write_new(staged[-1][0], pem)
        for new, path in staged:
            os.replace(new, path)


def _write_new(path: Path, data: bytes) -> None:
    """Write a file that must not exist yet, readable by its owner only, to disk."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


class DatabaseKeyStore(_Cached):
    def _pem(self, row: SigningKey) -> bytes:
        if row.private_pem is None:
            raise KeyStoreError(f"the private key {row.kid} is not in the database")
        return row.private_pem

    def store(self, row: SigningKey, key: PrivateKey) -> None:
        row.private_pem = to_pkcs8(key, self.passphrase, self.cost)
        self._cache[row.kid] = key

    def load(self, row: SigningKey) -> PrivateKey:
        return self._decrypt(row.kid, self._pem(row))

    def protection(self, row: SigningKey) -> Protection:
        return protection(self._pem(row))

    def rewrap(self, rows: Sequence[SigningKey], old_passphrase: str | None = None) -> None:
        pems = self._rewrapped(rows, [self._pem(row) for row in rows], old_passphrase)
        for row, pem in zip(rows, pems, strict=True):
            row.private_pem = pem  # committed with the unit of work, all rows or none


def weak_keys(session: Session, keystore: KeyStore) -> list[SigningKey]:
    """The keys (retired ones too) encrypted more weakly than the key store would encrypt them
    now (with PBKDF2, as keys were before, or scrypt at a lower cost)."""
    rows = session.exec(select(SigningKey).order_by(col(SigningKey.id)))
    return [row for row in rows if not keystore.protection(row).at_least(keystore.cost)]


def rewrap_keys(
    session: Session, keystore: KeyStore, *, old_passphrase: str | None = None, actor: str = "cli"
) -> list[SigningKey]:
    """Encrypt again, with the current passphrase and scheme, the keys ``weak_keys`` finds — or,
    given ``old_passphrase``, every key (a passphrase change). Returns the rows rewrapped."""
    if old_passphrase is None:
        rows = weak_keys(session, keystore)
    else:
        rows = list(session.exec(select(SigningKey).order_by(col(SigningKey.id))))
    if rows:
        keystore.rewrap(rows, old_passphrase)
        details = {
            "keys": len(rows),
            "scheme": str(keystore.cost),
            "new_passphrase": old_passphrase is not None,
        }
        audit.append(session, actor, "keys.rewrap", "signing keys", details)
    return rows
