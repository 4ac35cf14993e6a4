"""Encrypted PKCS#8 private keys whose passphrase is stretched with scrypt.

The format is the standard one (``-----BEGIN ENCRYPTED PRIVATE KEY-----``): RFC 5958
``EncryptedPrivateKeyInfo`` with PBES2 (RFC 8018 §6.2), its key derived by scrypt (RFC 7914 §7)
and the key encrypted with AES-256-CBC. ``cryptography`` and OpenSSL read it
(``openssl pkey -in key.pem``); ``cryptography`` decrypts it here. It writes encrypted PKCS#8 only
with PBKDF2 at OpenSSL's 2,048 iterations and no way to raise them, so the few DER structures
are written here, and ``protection`` reads back how a stored key is protected (to re-encrypt the
weak ones).

Cost: ``STRONG`` is scrypt N=2^14, r=8, p=5 — one of OWASP's equivalent scrypt settings (16 MiB of
memory per guess). The better known N=2^17, r=8, p=1 needs 128 MiB, over the 32 MiB OpenSSL allows
when it decrypts a PKCS#8 file, and a key OpenSSL cannot read is a worse backup.
"""

from __future__ import annotations

import base64
import os
import textwrap
from dataclasses import dataclass

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

# DER encodings of the object identifiers used (tag, length, value).
PBES2 = bytes.fromhex("06092a864886f70d01050d")  # 1.2.840.113549.1.5.13
PBKDF2 = bytes.fromhex("06092a864886f70d01050c")  # 1.2.840.113549.1.5.12
SCRYPT = bytes.fromhex("06092b06010401da47040b")  # 1.3.6.1.4.1.11591.4.11
AES256_CBC = bytes.fromhex("060960864801650304012a")  # 2.16.840.1.101.3.4.1.42

PEM_LABEL = "ENCRYPTED PRIVATE KEY"
SEQUENCE, INTEGER, OCTET_STRING = 0x30, 0x02, 0x04


@dataclass(frozen=True, order=True)
class ScryptCost:
    log2_n: int
    r: int
    p: int

    def __str__(self) -> str:
        return f"scrypt N=2^{self.log2_n}, r={self.r}, p={self.p}"

    def at_least(self, other: ScryptCost) -> bool:
        return self.log2_n >= other.log2_n and self.r >= other.r and self.p >= other.p


STRONG = ScryptCost(14, 8, 5)
TEST = ScryptCost(10, 8, 1)
"""Only for test suites (``LAUREL_KEY_KDF_COST=test``): 1/80 of the work, 1 MiB."""
KDF_COSTS = {"strong": STRONG, "test": TEST}


@dataclass(frozen=True)
class Protection:
    """How a stored key is protected: ``scrypt`` (with its ``cost``), ``pbkdf2`` (with its
    ``iterations``) or another PBES2 / PBES1 scheme (``kdf`` is then ``"other"``)."""

    kdf: str
    cost: ScryptCost | None = None
    iterations: int | None = None

    def __str__(self) -> str:
        if self.cost is not None:
            return str(self.cost)
        if self.iterations is not None:
            return f"PBKDF2, {self.iterations:,} iterations"
        return "an older scheme"

    def at_least(self, cost: ScryptCost) -> bool:
        return self.cost is not None and self.cost.at_least(cost)


def encrypt(private_key_info: bytes, passphrase: bytes, cost: ScryptCost = STRONG) -> bytes:
    """PEM ``EncryptedPrivateKeyInfo`` of a DER ``PrivateKeyInfo`` (unencrypted PKCS#8)."""
    if not passphrase:
        raise ValueError("a key is not encrypted with an empty passphrase")
    salt, iv = os.urandom(16), os.urandom(16)
    secret = Scrypt(salt=salt, length=32, n=2**cost.log2_n, r=cost.r, p=cost.p).derive(passphrase)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(private_key_info) + padder.finalize()
    encryptor = Cipher(algorithms.AES(secret), modes.CBC(iv)).encryptor()
    encrypted = encryptor.update(padded) + encryptor.finalize()
    scrypt_params = _seq(_octets(salt), _int(2**cost.log2_n), _int(cost.r), _int(cost.p))
    pbes2_params = _seq(_seq(SCRYPT, scrypt_params), _seq(AES256_CBC, _octets(iv)))
    der = _seq(_seq(PBES2, pbes2_params), _octets(encrypted))
    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode("ascii"), 64))
    return f"-----BEGIN {PEM_LABEL}-----\n{body}\n-----END {PEM_LABEL}-----\n".encode("ascii")


def protection(pem: bytes) -> Protection:
    """How ``pem`` (an encrypted PKCS#8 key) is protected; ``ValueError`` if it is not one."""
    text = pem.decode("ascii", "replace")
    begin, end = f"-----BEGIN {PEM_LABEL}-----", f"-----END {PEM_LABEL}-----"
    if begin not in text or end not in text:
        raise ValueError("not an encrypted PKCS#8 key")
    try:
        der = base64.b64decode(text.split(begin, 1)[1].split(end, 1)[0])
        [(tag, info)] = _items(der)  # EncryptedPrivateKeyInfo
        algorithm = _items(_items(info)[0][1])  # its encryptionAlgorithm: OID, parameters
        if tag != SEQUENCE or _raw(algorithm[0]) != PBES2:
            return Protection("other")
        kdf = _items(_items(algorithm[1][1])[0][1])  # PBES2-params keyDerivationFunc
        params = [value for _, value in _items(kdf[1][1])]
        if _raw(kdf[0]) == SCRYPT:  # salt, N, r, p
            n, r, p = (int.from_bytes(value, "big") for value in params[1:4])
            return Protection("scrypt", cost=ScryptCost(n.bit_length() - 1, r, p))
        if _raw(kdf[0]) == PBKDF2:  # salt, iterationCount, …
            return Protection("pbkdf2", iterations=int.from_bytes(params[1], "big"))
    except (IndexError, ValueError) as exc:
        raise ValueError("not an encrypted PKCS#8 key") from exc
    return Protection("other")


# DER, just what the structures above need (X.690: definite lengths, short or long form).


def _tlv(tag: int, body: bytes) -> bytes:
    size = len(body)
    if size < 0x80:
        return bytes([tag, size]) + body
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + body


def _seq(*parts: bytes) -> bytes:
    return _tlv(SEQUENCE, b"".join(parts))


def _int(value: int) -> bytes:
    return _tlv(INTEGER, value.to_bytes(value.bit_length() // 8 + 1, "big"))  # leading 0: positive


def _octets(value: bytes) -> bytes:
    return _tlv(OCTET_STRING, value)


def _items(der: bytes) -> list[tuple[int, bytes]]:
    """The (tag, value) elements of a constructed value's contents."""
    items, at = [], 0
    while at < len(der):
        tag, size, at = der[at], der[at + 1], at + 2
        if size & 0x80:
            count = size & 0x7F
            size, at = int.from_bytes(der[at : at + count], "big"), at + count
        if at + size > len(der):
            raise ValueError("truncated DER")
        items.append((tag, der[at : at + size]))
        at += size
    return items


def _raw(item: tuple[int, bytes]) -> bytes:
    return _tlv(*item)
