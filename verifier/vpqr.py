"""VPQR: a verifiable presentation (or credential) in a QR code, as Digital Bazaar's ``vpqr``
defines it: ``VP1-`` + a multibase prefix + the CBOR-LD bytes (``verifier.cborld``).

- ``VP1-B…``: base32 (RFC 4648, upper case, no padding) over legacy CBOR-LD, the form
  ``@digitalcredentials/vpqr`` 2.x and so the Learner Credential Wallet read;
- ``VP1-R…``: base45 (RFC 9285) over CBOR-LD 1.0, the ``@digitalbazaar/vpqr`` 6 default.

Both alphabets fit the QR alphanumeric mode. ``read`` accepts either and returns the credential
(the one a presentation wraps, or the credential itself); ``write`` makes the text for a QR code
from a credential.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from verifier import cborld
from verifier.cborld_contexts import CborldError

HEADER = "VP1-"
BASE32 = "B"
BASE45 = "R"
MAX_TEXT = 8192
"""Characters read: a version-40 QR code holds at most 4,296 alphanumeric characters."""

_B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_B45_INDEX = {char: i for i, char in enumerate(_B45)}


def is_vpqr(text: str) -> bool:
    return text.startswith(HEADER)


def b45encode(data: bytes) -> str:
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        n, c = divmod(n, 45)
        e, d = divmod(n, 45)
        out += [_B45[c], _B45[d], _B45[e]]
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += [_B45[c], _B45[d]]
    return "".join(out)


def b45decode(text: str) -> bytes:
    try:
        digits = [_B45_INDEX[char] for char in text]
    except KeyError as exc:
        raise CborldError(f"{exc.args[0]!r} is not a base45 character") from exc
    if len(digits) % 3 == 1:
        raise CborldError("base45 text of a length no bytes give")
    out = bytearray()
    for i in range(0, len(digits), 3):
        chunk = digits[i : i + 3]
        n = sum(d * 45**k for k, d in enumerate(chunk))
        if len(chunk) == 3:
            if n > 0xFFFF:
                raise CborldError("base45 group out of range")
            out += n.to_bytes(2, "big")
        else:
            if n > 0xFF:
                raise CborldError("base45 group out of range")
            out.append(n)
    return bytes(out)


def b32decode(text: str) -> bytes:
    if len(text) % 8 in (1, 3, 6):
        raise CborldError("base32 text of a length no bytes give")
    try:
        data = base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError) as exc:
        raise CborldError(f"not base32: {exc}") from exc
    if b32encode(data) != text:
        raise CborldError("not canonical base32")
    return data


def b32encode(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


def payload(text: str) -> bytes:
    """The CBOR-LD bytes of a ``VP1-B…`` or ``VP1-R…`` text."""
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise CborldError(f"a VPQR text of {len(text)} characters; at most {MAX_TEXT} are read")
    if not is_vpqr(text):
        raise CborldError("not a VPQR: the text does not start with VP1-")
    body = text[len(HEADER) :]
    if body.startswith(BASE32):
        return b32decode(body[1:])
    if body.startswith(BASE45):
        return b45decode(body[1:])
    raise CborldError("a VPQR must be base32 (VP1-B…) or base45 (VP1-R…)")


def read_document(text: str) -> dict[str, Any]:
    """The JSON-LD document (a presentation or a credential) a VPQR text holds."""
    return cborld.decode(payload(text))


def read(text: str) -> dict[str, Any]:
    """The credential a VPQR text holds: the presentation's one credential, or the document
    itself when it is a credential."""
    document = read_document(text)
    types = document.get("type")
    types = types if isinstance(types, list) else [types]
    if "VerifiablePresentation" not in types:
        return document
    held = document.get("verifiableCredential")
    held = held if isinstance(held, list) else [held]
    if len(held) != 1 or not isinstance(held[0], dict):
        raise CborldError("the VPQR presentation must hold exactly one credential (as JSON)")
    credential: dict[str, Any] = held[0]
    return credential


def write(credential: dict[str, Any], *, multibase: str = BASE32) -> str:
    """The VPQR text of a credential: ``VP1-B`` + base32(legacy CBOR-LD), which the Learner
    Credential Wallet reads, or ``VP1-R`` + base45(CBOR-LD 1.0).

    The credential is encoded bare, not wrapped in a presentation: ``@digitalbazaar/cborld`` 8
    cannot encode a VCDM 2.0 presentation that embeds a credential (the ``@context: null`` of
    ``verifiableCredential`` stops it), and the Learner Credential Wallet accepts a bare
    credential from a VPQR. Reading accepts both."""
    document = credential
    if multibase == BASE32:
        return HEADER + BASE32 + b32encode(cborld.encode(document, format="legacy-singleton"))
    if multibase == BASE45:
        return HEADER + BASE45 + b45encode(cborld.encode(document, format="cbor-ld-1.0"))
    raise ValueError(f"VPQR multibase must be {BASE32!r} or {BASE45!r}, not {multibase!r}")
