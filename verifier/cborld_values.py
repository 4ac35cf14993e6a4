"""CBOR-LD value codecs: how one JSON value of a term is written in CBOR and read back.

The rules follow ``@digitalbazaar/cborld`` 8 (``lib/codecs``): a value of an ``@id``/``@type``
(or ``@vocab``-typed) term is a term id, or ``[scheme id, rest]`` for ``http(s)://``,
``urn:uuid:`` (16 bytes), ``data:`` (base64 as bytes) and ``did:key:``/``did:v1:nym:`` (base58
as bytes); ``xsd:dateTime`` and ``xsd:date`` become seconds since the epoch; ``sec:multibase``
becomes bytes; values found in the type table become integers. Each encoder here writes a
compressed form only when the decoder gives back exactly the same string.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from verifier.cborld_contexts import CborldError
from verifier.multibase import b58decode, b58encode

XSD_DATE = "http://www.w3.org/2001/XMLSchema#date"
XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"
MULTIBASE = "https://w3id.org/security#multibase"
CRYPTOSUITE = "https://w3id.org/security#cryptosuiteString"

URL_SCHEMES = {
    "http://": 1,
    "https://": 2,
    "urn:uuid:": 3,
    "data:": 4,
    "did:v1:nym:": 1024,
    "did:key:": 1025,
}
SCHEME_OF = {value: key for key, value in URL_SCHEMES.items()}
MAX_SAFE_INTEGER = 2**53 - 1

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{3}))?Z")
_DATA_BASE64 = re.compile(r"data:(.*);base64,(.*)")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def table_type(term: str, definition: dict[str, Any], term_type: Any) -> str:
    """Which type table a term's values use (``url`` for ids and types)."""
    if (
        term in ("@id", "@type")
        or definition.get("@id") in ("@id", "@type")
        or term_type in ("@id", "@vocab")
    ):
        return "url"
    return term_type if isinstance(term_type, str) else "none"


# --- bytes <-> integers (type-table values that are written as bytes) -------------------------


def uint_bytes(value: int) -> bytes:
    for size in (1, 2, 4, 8):
        if value < 256**size - 1:
            return value.to_bytes(size, "big")
    raise CborldError(f"compressed value {value} is too large")


def int_bytes(value: int) -> bytes:
    for size in (1, 2, 4, 8):
        if -(2 ** (8 * size - 1)) <= value < 2 ** (8 * size - 1) - 1:
            return value.to_bytes(size, "big", signed=True)
    raise CborldError(f"compressed value {value} is too large")


def uint_from(data: bytes) -> int:
    if len(data) not in (1, 2, 4):
        raise CborldError("badly formed compressed value")
    return int.from_bytes(data, "big")


def int_from(data: bytes) -> int:
    if len(data) not in (1, 2, 4, 8):
        raise CborldError("badly formed compressed value")
    value = int.from_bytes(data, "big", signed=True)
    if abs(value) > MAX_SAFE_INTEGER:
        raise CborldError("compressed value too large")
    return value


# --- dates -------------------------------------------------------------------------------------


def _iso(milliseconds: int) -> str:
    try:
        moment = _EPOCH + timedelta(milliseconds=milliseconds)
    except OverflowError as exc:
        raise CborldError("a compressed date is out of range") from exc
    if not 1 <= moment.year <= 9999:
        raise CborldError("a compressed date is out of range")
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _seconds(text: str) -> int | None:
    try:
        moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        return None
    return (moment - _EPOCH) // timedelta(seconds=1)


def encode_date(value: str) -> int | str:
    if not _DATE.fullmatch(value):
        return value
    seconds = _seconds(value + "T00:00:00")
    if seconds is None or _iso(seconds * 1000)[:10] != value:
        return value
    return seconds


def decode_date(value: Any) -> str:
    if not isinstance(value, int) or isinstance(value, bool):
        raise CborldError("a compressed date is not an integer")
    if abs(value) > MAX_SAFE_INTEGER:
        raise CborldError("a compressed date is out of range")
    return _iso(value * 1000)[:10]


def encode_datetime(value: str) -> int | list[int] | str:
    match = _DATETIME.fullmatch(value)
    seconds = _seconds(match.group(1)) if match else None
    if match is None or seconds is None:
        return value
    if match.group(2) is None:
        return seconds if decode_datetime(seconds) == value else value
    pair = [seconds, int(match.group(2))]
    return pair if decode_datetime(pair) == value else value


def decode_datetime(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) > MAX_SAFE_INTEGER:
            raise CborldError("a compressed date-time is out of range")
        return _iso(value * 1000).replace(".000Z", "Z")
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        and abs(value[0]) <= MAX_SAFE_INTEGER
        and abs(value[1]) <= MAX_SAFE_INTEGER
    ):
        return _iso(value[0] * 1000 + value[1])
    raise CborldError("badly formed compressed date-time")


# --- multibase ---------------------------------------------------------------------------------


def encode_multibase(value: str) -> bytes | str:
    try:
        if value.startswith("z"):
            data = b58decode(value[1:])
        elif value.startswith("u"):
            data = base64.urlsafe_b64decode(value[1:] + "=" * (-len(value[1:]) % 4))
        elif value.startswith("M"):
            data = base64.b64decode(value[1:], validate=True)
        else:
            return value
    except (ValueError, binascii.Error):
        return value
    encoded = value[:1].encode("ascii") + data
    return encoded if decode_multibase(encoded) == value else value


def _base58(data: bytes) -> str:
    try:
        return b58encode(data)
    except ValueError as exc:
        raise CborldError(f"a compressed base58 value is too long ({exc})") from exc


def decode_multibase(value: bytes) -> str:
    prefix, data = value[:1], value[1:]
    if prefix == b"z":
        return "z" + _base58(data)
    if prefix == b"u":
        return "u" + base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
    if prefix == b"M":
        return "M" + base64.b64encode(data).decode("ascii")
    raise CborldError("compressed multibase value with an unknown base")


# --- URLs --------------------------------------------------------------------------------------


def encode_url(value: str, *, data_urls: bool = True) -> list[Any] | str:
    """``[scheme id, …]`` for the schemes CBOR-LD compresses, else the string itself.

    ``data_urls=False`` leaves ``data:`` URLs as text, as ``@digitalcredentials/cborld`` 4.x
    (which has no codec for them) expects."""
    if value.startswith(("https://", "http://")):
        scheme = "https://" if value.startswith("https://") else "http://"
        return [URL_SCHEMES[scheme], value[len(scheme) :]]
    if value.startswith("urn:uuid:"):
        rest = value[len("urn:uuid:") :]
        if _UUID.fullmatch(rest):
            return [URL_SCHEMES["urn:uuid:"], uuid.UUID(rest).bytes]
        return [URL_SCHEMES["urn:uuid:"], rest]
    if value.startswith("data:") and data_urls:
        match = _DATA_BASE64.fullmatch(value)
        if match and "\n" not in value and "\r" not in value:
            try:
                data = base64.b64decode(match.group(2), validate=True)
            except binascii.Error:
                data = None
            if data is not None and base64.b64encode(data).decode("ascii") == match.group(2):
                return [URL_SCHEMES["data:"], match.group(1), data]
        return [URL_SCHEMES["data:"], value[len("data:") :]]
    for scheme in ("did:v1:nym:", "did:key:"):
        if value.startswith(scheme) and value.count("#") <= 1:
            parts = value[len(scheme) :].split("#")
            return [URL_SCHEMES[scheme], *(_base58_part(part) for part in parts)]
    return value


def _base58_part(text: str) -> bytes | str:
    if text.startswith("z"):
        try:
            data = b58decode(text[1:])
        except ValueError:
            return text
        if "z" + b58encode(data) == text:
            return data
    return text


def decode_url(value: list[Any]) -> str:
    scheme = SCHEME_OF.get(value[0]) if value and _is_int(value[0]) else None
    rest = value[1:]
    if scheme in ("http://", "https://") and len(rest) == 1 and isinstance(rest[0], str):
        return scheme + rest[0]
    if scheme == "urn:uuid:" and len(rest) == 1:
        if isinstance(rest[0], str):
            return scheme + rest[0]
        if isinstance(rest[0], bytes) and len(rest[0]) == 16:
            return scheme + str(uuid.UUID(bytes=rest[0]))
    if scheme == "data:" and rest and isinstance(rest[0], str):
        media: str = rest[0]
        if len(rest) == 2 and isinstance(rest[1], bytes):
            return f"data:{media};base64,{base64.b64encode(rest[1]).decode('ascii')}"
        if len(rest) == 1:
            return "data:" + media
    if scheme in ("did:v1:nym:", "did:key:") and 1 <= len(rest) <= 2:
        parts = [p if isinstance(p, str) else "z" + _base58(p) for p in rest if _str_or_bytes(p)]
        if len(parts) == len(rest):
            return scheme + "#".join(parts)
    raise CborldError(f"unknown compressed URL {value!r}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _str_or_bytes(value: Any) -> bool:
    return isinstance(value, str | bytes)
