"""CBOR-LD: JSON-LD documents as compact CBOR, for credentials in QR codes.

Implements the CBOR-LD formats as Digital Bazaar's ``@digitalbazaar/cborld`` 8.1 reads and writes
them (https://json-ld.github.io/cbor-ld-spec/):

- **CBOR-LD 1.0**: tag ``0xCB1D`` over ``[registry entry id, payload]``; entry 1 is the default
  (its type tables are empty: contexts and values are compressed only through the contexts'
  terms and the value codecs), entry 0 an uncompressed payload.
- **legacy-singleton**: tag ``0x0501`` (compressed) or ``0x0500`` (plain), what
  ``@digitalcredentials/cborld`` 4.x (the Learner Credential Wallet's) and
  ``@digitalbazaar/cborld`` ≤ 7 emit; context URLs and cryptosuites compress to integers of the
  legacy registry.
- **legacy-range**: tags ``0x0600``–``0x06FF`` (read only).

``decode`` reads all three; ``encode`` writes 1.0 or legacy-singleton. For legacy-singleton it
uses only what the 4.x decoder knows (its context registry, no cryptosuite table, no ``data:``
URL codec), so LCW reads
what Laurel writes. Term ids and scoped contexts: ``verifier.cborld_contexts``; value codecs:
``verifier.cborld_values``. Byte-for-byte output differs from the reference encoder (map order,
integer widths); the decoded documents are equal, which is what the tests compare.

Hostile input: at most ``MAX_BYTES`` bytes, checked as CBOR (only the header may be tagged,
nesting at most ``MAX_DEPTH``, at most ``MAX_ITEMS`` items, integers within ±2^53) before any
CBOR library reads it; a context URL that is not bundled is an error, never a fetch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import cbor2

from verifier.cborld_contexts import (
    _DEFAULT,
    ActiveContext,
    CborldError,
    ContextLoader,
    Contexts,
    sort_js,
    utf16_key,
)
from verifier.cborld_values import (
    CRYPTOSUITE,
    MAX_SAFE_INTEGER,
    MULTIBASE,
    XSD_DATE,
    XSD_DATETIME,
    decode_date,
    decode_datetime,
    decode_multibase,
    decode_url,
    encode_date,
    encode_datetime,
    encode_multibase,
    encode_url,
    int_bytes,
    int_from,
    table_type,
    uint_bytes,
    uint_from,
)

__all__ = ["CborldError", "bundled_contexts", "decode", "encode"]

MAX_BYTES = 16 * 1024
MAX_DEPTH = 32
MAX_ITEMS = 4096

TAG_1_0 = 0xCB1D
TAG_RANGE = range(0x0600, 0x0700)
TAG_SINGLETON_PLAIN = 0x0500
TAG_SINGLETON = 0x0501
FORMATS = ("cbor-ld-1.0", "legacy-singleton")

LEGACY_STRINGS = {
    "https://www.w3.org/ns/activitystreams": 16,
    "https://www.w3.org/2018/credentials/v1": 17,
    "https://www.w3.org/ns/did/v1": 18,
    "https://w3id.org/security/suites/ed25519-2018/v1": 19,
    "https://w3id.org/security/suites/ed25519-2020/v1": 20,
    "https://w3id.org/cit/v1": 21,
    "https://w3id.org/age/v1": 22,
    "https://w3id.org/security/suites/x25519-2020/v1": 23,
    "https://w3id.org/veres-one/v1": 24,
    "https://w3id.org/webkms/v1": 25,
    "https://w3id.org/zcap/v1": 26,
    "https://w3id.org/security/suites/hmac-2019/v1": 27,
    "https://w3id.org/security/suites/aes-2019/v1": 28,
    "https://w3id.org/vaccination/v1": 29,
    "https://w3id.org/vc-revocation-list-2020/v1": 30,
    "https://w3id.org/dcc/v1": 31,
    "https://w3id.org/vc/status-list/v1": 32,
    "https://www.w3.org/ns/credentials/v2": 33,
    "https://w3id.org/security/data-integrity/v1": 48,
    "https://w3id.org/security/multikey/v1": 49,
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json": 50,
    "https://w3id.org/security/data-integrity/v2": 51,
}
"""The legacy registry (``lib/tables.js`` STRING_TABLE): contexts, and in legacy-singleton also
URL and plain string values."""
CRYPTOSUITES = {"ecdsa-rdfc-2019": 1, "ecdsa-sd-2023": 2, "eddsa-rdfc-2022": 3, "ecdsa-xi-2023": 4}
_DCC_UNKNOWN = {33, 51}
"""Legacy registry entries added after ``@digitalcredentials/cborld`` 4.x: never written."""

Table = dict[str, dict[str, int]]
LEGACY_TABLE: Table = {
    "context": LEGACY_STRINGS,
    "url": LEGACY_STRINGS,
    "none": LEGACY_STRINGS,
    CRYPTOSUITE: CRYPTOSUITES,
}
LEGACY_WRITE_TABLE: Table = {
    "context": {k: v for k, v in LEGACY_STRINGS.items() if v not in _DCC_UNKNOWN},
    "url": {},
    "none": {},
}
_LEGACY_URL_CODES = frozenset(LEGACY_TABLE["url"].values())
"""Numbers a legacy decoder reads as registry URLs before term ids."""
DEFAULT_TABLE: Table = {"context": {}, "url": {}, "none": {}}
LEGACY_AS_BYTES = frozenset({"none", XSD_DATE, XSD_DATETIME})
AS_BYTES = LEGACY_AS_BYTES | {"url"}


def bundled_contexts(url: str) -> dict[str, Any]:
    """The context document for ``url`` from Laurel's bundled contexts (never fetched)."""
    from verifier.expansion import document_loader

    document: dict[str, Any] = document_loader(url)["document"]
    return document


# --- encoding ----------------------------------------------------------------------------------


def encode(
    document: dict[str, Any],
    *,
    format: str = "cbor-ld-1.0",
    loader: ContextLoader = bundled_contexts,
) -> bytes:
    """CBOR-LD bytes of a JSON-LD document: ``cbor-ld-1.0`` (registry entry 1) or
    ``legacy-singleton`` (readable by ``@digitalcredentials/cborld`` 4.x)."""
    if format not in FORMATS:
        raise ValueError(f"CBOR-LD format must be one of {FORMATS}, not {format!r}")
    if not isinstance(document, dict):
        raise CborldError("only a JSON object can be encoded as CBOR-LD")
    legacy = format == "legacy-singleton"
    encoder = _Encoder(loader, LEGACY_WRITE_TABLE if legacy else DEFAULT_TABLE, legacy)
    payload = encoder.object(ActiveContext(encoder.contexts), document)
    tagged = (
        cbor2.CBORTag(TAG_SINGLETON, payload) if legacy else cbor2.CBORTag(TAG_1_0, [1, payload])
    )
    data: bytes = cbor2.dumps(tagged)
    return data


class _Encoder:
    def __init__(self, loader: ContextLoader, table: Table, legacy: bool) -> None:
        self.contexts = Contexts(loader)
        self.table = table
        self.as_bytes = LEGACY_AS_BYTES if legacy else AS_BYTES
        self.legacy = legacy

    def object(self, active: ActiveContext, obj: dict[str, Any]) -> dict[int | str, Any]:
        out: dict[int | str, Any] = {}
        active = active.embedded(obj.get("@context", _DEFAULT))
        context = obj.get("@context")
        if _truthy(context):
            items = context if isinstance(context, list) else [context]
            table = self.table["context"]
            encoded = [table.get(c, c) if isinstance(c, str) else c for c in items]
            out[1 if isinstance(context, list) else 0] = (
                encoded if isinstance(context, list) else encoded[0]
            )
        types: list[Any] = []
        for term in active.type_terms:
            found = obj.get(term)
            if found is not None:
                types.extend(found if isinstance(found, list) else [found])
        active = active.type_scoped(types)
        for key in sort_js(k for k in obj if k != "@context"):
            value = obj[key]
            plural = isinstance(value, list)
            definition = active.definition(key)
            inner = active.property_scoped(key)
            items = value if plural else [value]
            converted = [self.value(inner, key, definition, v) for v in items]
            out[self.contexts.id_for(key, plural)] = converted if plural else converted[0]
        return out

    def value(
        self, active: ActiveContext, term: str, definition: dict[str, Any], value: Any
    ) -> Any:
        if value is None:
            return None
        if isinstance(value, dict):
            return self.object(active, value)
        if isinstance(value, list):
            return [self.value(active, term, definition, v) for v in value]
        return self.scalar(term, definition, value)

    def scalar(self, term: str, definition: dict[str, Any], value: Any) -> Any:
        kind = table_type(term, definition, definition.get("@type"))
        if kind == "url" and not isinstance(value, str):
            raise CborldError(f"the value of {term!r} must be a string (an IRI)")
        table = self.table.get(kind)
        if table is not None:
            code = table.get(value) if isinstance(value, str) else None
            if code is not None:
                return uint_bytes(code) if kind in self.as_bytes else code
            if kind != "none" and _is_int(value):
                return int_bytes(value)
        if not isinstance(value, str):
            return value
        if kind == "url":
            term_id = self.contexts.id_for(value)
            # a term's id, unless the legacy decoder reads that number as a registry URL first
            # ("@json" is id 16, and so is https://www.w3.org/ns/activitystreams there)
            if isinstance(term_id, int) and not (self.legacy and term_id in _LEGACY_URL_CODES):
                return term_id
            return encode_url(value, data_urls=not self.legacy)
        coder: Callable[[str], Any] | None = {
            MULTIBASE: encode_multibase,
            XSD_DATE: encode_date,
            XSD_DATETIME: encode_datetime,
        }.get(kind)
        return coder(value) if coder else value


# --- decoding ----------------------------------------------------------------------------------


def decode(data: bytes, *, loader: ContextLoader = bundled_contexts) -> dict[str, Any]:
    """The JSON-LD document in CBOR-LD ``data`` (any of the three formats). Raises
    ``CborldError`` for anything else, including contexts Laurel does not bundle."""
    if len(data) > MAX_BYTES:
        raise CborldError(f"CBOR-LD data of {len(data)} bytes; at most {MAX_BYTES} are read")
    _Scanner(data).check()
    try:
        item = cbor2.loads(data)
    except Exception as exc:  # cbor2 raises several kinds; every one means "not CBOR-LD"
        raise CborldError(f"not well-formed CBOR: {exc}") from exc
    payload, table, legacy = _header(item)
    _check_tree(payload, 0)
    if table is None:
        document = payload
        _check_plain(document)
    else:
        decoder = _Decoder(loader, table, legacy)
        try:
            document = decoder.object(ActiveContext(decoder.contexts), _as_map(payload))
        except (TypeError, AttributeError, KeyError, ValueError, RecursionError) as exc:
            # A shape no check above foresaw: still bad input, never a crash.
            raise CborldError(f"badly formed CBOR-LD ({type(exc).__name__})") from exc
    if not isinstance(document, dict):
        raise CborldError("the CBOR-LD document is not a JSON object")
    return document


def _header(item: Any) -> tuple[Any, Table | None, bool]:
    """(payload, type table or None for an uncompressed payload, legacy-singleton?)"""
    if not isinstance(item, cbor2.CBORTag):
        raise CborldError("not CBOR-LD: the data does not start with a CBOR-LD tag")
    tag, value = item.tag, item.value
    if tag in (TAG_SINGLETON, TAG_SINGLETON_PLAIN):
        return value, (LEGACY_TABLE if tag == TAG_SINGLETON else None), True
    if tag == TAG_1_0:
        if not (isinstance(value, list) and len(value) == 2 and _is_int(value[0])):
            raise CborldError("a CBOR-LD 1.0 tag must hold [registry entry id, payload]")
        return value[1], _table(value[0]), False
    if tag in TAG_RANGE:
        start = tag - TAG_RANGE.start
        if start < 128:
            return value, _table(start), False
        if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], bytes)):
            raise CborldError("a legacy CBOR-LD tag must hold [registry id bytes, payload]")
        return value[1], _table(_varint(bytes([start]) + value[0])), False
    raise CborldError(f"not CBOR-LD: unknown tag {tag:#x}")


def _table(entry: int) -> Table | None:
    if entry == 0:
        return None
    if entry == 1:
        return DEFAULT_TABLE
    raise CborldError(
        f"CBOR-LD registry entry {entry} is not supported (Laurel reads entry 1, the default)"
    )


def _varint(data: bytes) -> int:
    value = 0
    for index, byte in enumerate(data[:9]):
        value |= (byte & 0x7F) << (7 * index)
        if not byte & 0x80:
            if index != len(data) - 1:
                break
            return value
    raise CborldError("badly formed CBOR-LD registry entry id")


class _Decoder:
    def __init__(self, loader: ContextLoader, table: Table, legacy: bool) -> None:
        self.contexts = Contexts(loader)
        self.legacy = legacy
        self.as_bytes = LEGACY_AS_BYTES if legacy else AS_BYTES
        self.reverse = {kind: {v: k for k, v in values.items()} for kind, values in table.items()}

    def context(self, value: Any) -> Any:
        if _is_int(value):
            url = self.reverse["context"].get(value)
            if url is None:
                raise CborldError(f"undefined compressed context {value}")
            return url
        _check_plain(value)  # an embedded context is plain JSON
        return value

    def object(self, active: ActiveContext, obj: dict[Any, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        one, many = obj.get(0), obj.get(1)
        if _truthy(one):
            out["@context"] = self.context(one)
        if _truthy(many):
            if _truthy(one):
                raise CborldError("both a single and a plural @context in one object")
            if not isinstance(many, list):
                raise CborldError("a plural @context must be an array")
            out["@context"] = [self.context(v) for v in many]
        active = active.embedded(out.get("@context", _DEFAULT))
        active = active.type_scoped(self._types(active, obj))
        entries = []
        for key, value in obj.items():
            if key in (0, 1) and not isinstance(key, bool):
                continue
            term, plural = self.contexts.term_for(key)
            entries.append((term, plural, value))
        entries.sort(key=lambda entry: utf16_key(entry[0]))
        for term, plural, value in entries:
            if term in out:
                raise CborldError(f"the term {term!r} appears twice")
            definition = active.definition(term)
            inner = active.property_scoped(term)
            if plural:
                if not isinstance(value, list):
                    raise CborldError(f"the plural value of {term!r} is not an array")
                out[term] = [self.value(inner, term, definition, v) for v in value]
            else:
                out[term] = self.value(inner, term, definition, value)
        return out

    def _types(self, active: ActiveContext, obj: dict[Any, Any]) -> list[Any]:
        types: list[Any] = []
        for type_term in active.type_terms:
            term_id = self.contexts.id_for(type_term)
            found = obj.get(term_id)
            if found is None and isinstance(term_id, int):
                found = obj.get(term_id + 1)
            if found is None:
                continue
            term, _ = self.contexts.term_for(term_id)
            definition = active.definition(term)
            for value in found if isinstance(found, list) else [found]:
                decoded = self.scalar(term, definition, "@vocab", value)
                types.append(value if decoded is _ARRAY else decoded)
        return types

    def value(
        self, active: ActiveContext, term: str, definition: dict[str, Any], value: Any
    ) -> Any:
        if value is None:
            return None
        if isinstance(value, dict):
            return self.object(active, value)
        decoded = self.scalar(term, definition, definition.get("@type"), value)
        if decoded is not _ARRAY:
            return decoded
        return [self.value(active, term, definition, v) for v in value]

    def scalar(self, term: str, definition: dict[str, Any], term_type: Any, value: Any) -> Any:
        kind = table_type(term, definition, term_type)
        table = self.reverse.get(kind)
        if table is not None:
            is_bytes = isinstance(value, bytes)
            code = None
            if is_bytes and kind in self.as_bytes:
                code = uint_from(value)
            elif _is_int(value) and kind not in self.as_bytes:
                code = value
            if code is not None:
                found = table.get(code)
                if found is not None:
                    return found
                if not (self.legacy and kind == "url" and self.contexts.has_id(code)):
                    raise CborldError(f"compressed value {code} not found")
            elif is_bytes and kind != "none":
                return int_from(value)
        if kind == "url":
            if isinstance(value, list):
                return decode_url(value)
            if _is_int(value):
                return self.contexts.term_for(value)[0]
        elif kind == MULTIBASE and isinstance(value, bytes) and value[:1] in (b"z", b"u", b"M"):
            return decode_multibase(value)
        elif kind == XSD_DATE and isinstance(value, int | float) and not isinstance(value, bool):
            return decode_date(value)
        elif kind == XSD_DATETIME and (
            _is_int(value)
            or (isinstance(value, list) and len(value) == 2 and any(map(_num, value)))
        ):
            return decode_datetime(value)
        if isinstance(value, list):
            return _ARRAY
        if isinstance(value, bytes):
            raise CborldError(f"a binary value of {term!r} that no codec explains")
        return value


_ARRAY = object()
"""``scalar``'s answer for an array no codec claims: its items are decoded one by one."""


# --- checks on the raw CBOR --------------------------------------------------------------------


class _Scanner:
    """Walks the CBOR bytes without building anything: well-formed, one item, bounded."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.items = 0

    def check(self) -> None:
        if not self.data:
            raise CborldError("empty CBOR-LD data")
        self.item(0)
        if self.pos != len(self.data):
            raise CborldError("trailing bytes after the CBOR-LD data")

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise CborldError("truncated CBOR-LD data")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def argument(self, info: int) -> int:
        if info < 24:
            return info
        if info > 27:
            raise CborldError("badly formed CBOR")
        size = 1 << (info - 24)
        if self.pos + size > len(self.data):
            raise CborldError("truncated CBOR-LD data")
        value = int.from_bytes(self.data[self.pos : self.pos + size], "big")
        self.pos += size
        return value

    def item(self, depth: int) -> bool:
        """Reads one item; False for an indefinite-length "break"."""
        if depth > MAX_DEPTH:
            raise CborldError(f"CBOR-LD nested more than {MAX_DEPTH} deep")
        self.items += 1
        if self.items > MAX_ITEMS:
            raise CborldError(f"more than {MAX_ITEMS} CBOR items")
        initial = self.byte()
        major, info = initial >> 5, initial & 31
        if initial == 0xFF:
            return False
        if major == 7:
            if info not in (20, 21, 22, 25, 26, 27):
                raise CborldError("a CBOR simple value that JSON has no place for")
            self.argument(info)
            return True
        if info == 31:
            if major not in (2, 3, 4, 5):
                raise CborldError("badly formed CBOR")
            while self.item(depth + 1):
                pass
            return True
        length = self.argument(info)
        if major in (2, 3):
            if self.pos + length > len(self.data):
                raise CborldError("truncated CBOR-LD data")
            self.pos += length
        elif major in (4, 5):
            if length > len(self.data):
                raise CborldError("a CBOR array or map longer than the data")
            for _ in range(length * (2 if major == 5 else 1)):
                if not self.item(depth + 1):
                    raise CborldError("badly formed CBOR")
        elif major == 6:
            if depth != 0:
                raise CborldError("a CBOR tag inside a CBOR-LD payload")
            if not self.item(depth + 1):
                raise CborldError("badly formed CBOR")
        return True


def _check_tree(value: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise CborldError(f"CBOR-LD nested more than {MAX_DEPTH} deep")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) and not _is_int(key):
                raise CborldError("a CBOR-LD map key that is neither a term id nor a string")
            _check_tree(key, depth + 1)
            _check_tree(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_tree(item, depth + 1)
    elif isinstance(value, bool) or value is None or isinstance(value, str | bytes):
        return
    elif isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise CborldError("an integer beyond ±2^53 in CBOR-LD data")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise CborldError("a number JSON cannot hold (NaN or infinity)")
    else:
        raise CborldError(f"a CBOR value JSON has no place for ({type(value).__name__})")


def _check_plain(value: Any) -> None:
    """An uncompressed payload must already be JSON: string keys, no byte strings."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CborldError("an uncompressed CBOR-LD payload with a non-string key")
            _check_plain(item)
    elif isinstance(value, list):
        for item in value:
            _check_plain(item)
    elif isinstance(value, bytes):
        raise CborldError("an uncompressed CBOR-LD payload with binary data")


def _as_map(payload: Any) -> dict[Any, Any]:
    if not isinstance(payload, dict):
        raise CborldError("the CBOR-LD payload is not a map")
    return payload


def _truthy(value: Any) -> bool:
    """JavaScript truthiness, which the reference uses to find @context."""
    if isinstance(value, list | dict):
        return True
    return bool(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _num(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
