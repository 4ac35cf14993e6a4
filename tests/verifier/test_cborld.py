"""Laurel's CBOR-LD codec (``verifier.cborld``): every bundled vector round-trips in both formats,
round trips hold for generated values, the legacy form stays within what the DCC 4.x decoder
knows, and hostile bytes give a ``CborldError`` (never a crash, a fetch or a non-JSON value).

The cross-check against Digital Bazaar's and DCC's own libraries is in
``tests/interop/test_cborld_js.py``."""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.issuer.credentials import make_credential
from verifier import Verdict, cborld, verify_credential, vpqr
from verifier.cborld_contexts import CborldError
from verifier.errors import FetchError, MalformedInput

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
DOCUMENTS = sorted(
    path
    for path in VECTORS.rglob("*.json")
    if isinstance(doc := json.loads(path.read_text("utf-8")), dict) and "@context" in doc
)
ISSUER = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return document


def test_there_are_vectors_to_round_trip() -> None:
    assert len(DOCUMENTS) >= 30


@pytest.mark.parametrize("format", cborld.FORMATS)
@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(VECTORS)))
def test_every_vector_round_trips(path: Path, format: str) -> None:
    document = load(path)
    data = cborld.encode(document, format=format)
    assert cborld.decode(data) == document
    assert len(data) < len(json.dumps(document, separators=(",", ":")).encode())


def test_formats_are_tagged_as_the_reference_tags_them() -> None:
    document = make_credential(ISSUER)
    assert cborld.encode(document, format="cbor-ld-1.0")[:5] == b"\xd9\xcb\x1d\x82\x01"
    assert cborld.encode(document, format="legacy-singleton")[:3] == b"\xd9\x05\x01"
    with pytest.raises(ValueError, match="format"):
        cborld.encode(document, format="legacy-range")


def test_legacy_form_uses_only_what_dcc_cborld_4_knows() -> None:
    """@digitalcredentials/cborld 4.x (the Learner Credential Wallet's) has no entry for the VCDM
    2.0 context (33), no cryptosuite table and no data: URL codec."""
    document = load(VECTORS / "w3c-vc-di-eddsa" / "employ" / "signedDataInt.json")
    payload = cbor2.loads(cborld.encode(document, format="legacy-singleton")).value
    assert payload[1][0] == "https://www.w3.org/ns/credentials/v2"
    text = json.dumps(payload, default=repr)
    assert "eddsa-rdfc-2022" in text and "data:image/png;base64," in text


def test_legacy_registry_values_are_read() -> None:
    """What @digitalbazaar/cborld ≤ 7 writes in legacy form: contexts and cryptosuites as
    registry integers."""
    document = load(VECTORS / "1edtech-validator" / "simple-eddsa-2022.json")
    payload = cbor2.loads(cborld.encode(document, format="legacy-singleton")).value
    payload[1] = [33 if c == "https://www.w3.org/ns/credentials/v2" else c for c in payload[1]]
    for value in payload.values():
        if isinstance(value, dict) and "eddsa-rdfc-2022" in value.values():
            key = next(k for k, v in value.items() if v == "eddsa-rdfc-2022")
            value[key] = 3
    assert cborld.decode(cbor2.dumps(cbor2.CBORTag(0x0501, payload))) == document


def test_legacy_range_and_uncompressed_forms_are_read() -> None:
    document = make_credential(ISSUER)
    compressed = cbor2.loads(cborld.encode(document)).value[1]
    assert cborld.decode(cbor2.dumps(cbor2.CBORTag(0x0601, compressed))) == document
    assert cborld.decode(cbor2.dumps(cbor2.CBORTag(0x0600, document))) == document
    assert cborld.decode(cbor2.dumps(cbor2.CBORTag(0x0500, document))) == document
    assert cborld.decode(cbor2.dumps(cbor2.CBORTag(0xCB1D, [0, document]))) == document


TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
MOMENTS = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1))


@settings(max_examples=60, deadline=None)
@given(
    name=TEXT,
    narrative=TEXT,
    moment=MOMENTS,
    millis=st.booleans(),
    subject=st.uuids(),
    upper=st.booleans(),
    url=st.sampled_from(
        [
            "https://a.example/x?y=1#z",
            "http://b.example",
            "urn:uuid:NOT-A-UUID",
            "did:web:c.example",
        ]
    ),
    credits=st.one_of(
        st.integers(-(2**40), 2**40), st.floats(allow_nan=False, allow_infinity=False, width=32)
    ),
)
def test_generated_credentials_round_trip(
    name: str,
    narrative: str,
    moment: Any,
    millis: bool,
    subject: Any,
    upper: bool,
    url: str,
    credits: float,
) -> None:
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S") + (
        f".{moment.microsecond // 1000:03d}Z" if millis else "Z"
    )
    uuid_text = str(subject).upper() if upper else str(subject)
    document = make_credential(ISSUER, name=name, validFrom=stamp, id=f"urn:uuid:{uuid_text}")
    document["credentialSubject"]["creditsEarned"] = credits
    document["credentialSubject"]["achievement"]["criteria"] = {"id": url, "narrative": narrative}
    for format in cborld.FORMATS:
        assert cborld.decode(cborld.encode(document, format=format)) == document


def test_odd_date_times_stay_text() -> None:
    for stamp in ("2026-01-15T09:00:00+09:00", "2026-01-15T09:00:00.5Z", "2026-02-30T00:00:00Z"):
        document = make_credential(ISSUER, validFrom=stamp)
        for format in cborld.FORMATS:
            assert cborld.decode(cborld.encode(document, format=format)) == document


@pytest.mark.parametrize("keyword", ["@json", "@set", "@version"])
def test_a_keyword_as_an_iri_value_round_trips(keyword: str) -> None:
    """Audit 11: the legacy encoder wrote such a value as its term id, which the legacy decoder
    reads as a registry URL first ("@json" came back as ActivityStreams' context URL)."""
    document = make_credential(ISSUER, id=keyword)
    document["type"] = [*document["type"], keyword]
    for format in cborld.FORMATS:
        assert cborld.decode(cborld.encode(document, format=format)) == document


def _payload(*entries: tuple[Any, Any]) -> dict[Any, Any]:
    """A 1.0 payload with the OB contexts and ``entries``."""
    document = make_credential(ISSUER)
    compressed: dict[Any, Any] = cbor2.loads(cborld.encode(document)).value[1]
    compressed.update(dict(entries))
    return compressed


def _tagged(payload: Any, tag: int = 0xCB1D, registry: int = 1) -> bytes:
    value = [registry, payload] if tag == 0xCB1D else payload
    data: bytes = cbor2.dumps(cbor2.CBORTag(tag, value))
    return data


HOSTILE: list[tuple[str, bytes, str]] = [
    ("empty", b"", "empty"),
    ("not tagged", cbor2.dumps({"a": 1}), "CBOR-LD tag"),
    ("truncated", cborld.encode(make_credential(ISSUER))[:-3], "truncated"),
    ("trailing bytes", cborld.encode(make_credential(ISSUER)) + b"\x00", "trailing"),
    ("unknown tag", cbor2.dumps(cbor2.CBORTag(0x0700, {})), "unknown tag"),
    ("registry entry", _tagged({}, registry=100), "registry entry 100"),
    ("nested tag", _tagged({100: cbor2.CBORTag(1, 0)}), "tag inside"),
    ("deep", b"\xd9\xcb\x1d\x82\x01" + b"\x81" * 60 + b"\x00", "nested more than"),
    ("huge array", b"\xd9\xcb\x1d\x82\x01\x9b" + (2**62).to_bytes(8, "big"), "longer than"),
    ("huge string", b"\xd9\xcb\x1d\x82\x01\x7b" + (2**62).to_bytes(8, "big"), "truncated"),
    ("no break", b"\xd9\xcb\x1d\x82\x01\x9f\x01\x02", "truncated"),
    ("undefined", _tagged({100: None}).replace(b"\xf6", b"\xf7"), "simple value"),
    ("big integer", _tagged(_payload((150, 2**60))), "beyond"),
    ("not a number", _tagged(_payload((150, math.nan))), "NaN"),
    ("unknown term id", _tagged(_payload((9998, "x"))), "unknown term id 9998"),
    ("unknown context", _tagged({0: "https://evil.example/context.json"}), "never fetched"),
    ("undefined context id", _tagged({0: 999}), "undefined compressed context"),
    ("two contexts", _tagged(_payload((0, "https://www.w3.org/ns/credentials/v2"))), "both"),
    ("plural not array", _tagged(_payload((131, "x"))), "not an array"),
    ("binary value", _tagged(_payload((150, b"\x01\x02"))), "compressed value|binary"),
    ("bad URL", _tagged(_payload((140, [99, "x"]))), "unknown compressed URL"),
    ("bad date", _tagged(_payload((238, [1, "x"]))), "date-time"),
    ("far date", _tagged(_payload((238, 2**52))), "out of range"),
    ("non-string key", _tagged({1.5: 1}), "neither a term id nor a string"),
    ("over the size limit", _tagged({"x": "a" * 20000}), "at most"),
]


@pytest.mark.parametrize(
    ("data", "message"), [(d, m) for _, d, m in HOSTILE], ids=[n for n, _, _ in HOSTILE]
)
def test_hostile_bytes_are_refused_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(CborldError, match=message):
        cborld.decode(data)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_mutated_bytes_decode_or_fail_cleanly(data: st.DataObject) -> None:
    """Any byte changed, inserted or removed: a JSON document or a ``CborldError`` (the
    unchanged bytes, with an embedded context too, round-trip)."""
    encoded = cborld.encode(_MUTATED, format=data.draw(st.sampled_from(cborld.FORMATS)))
    assert cborld.decode(encoded) == _MUTATED
    original = bytearray(encoded)
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(original) - 1))
        kind = data.draw(st.sampled_from(["set", "insert", "delete"]))
        if kind == "set":
            original[position] = data.draw(st.integers(0, 255))
        elif kind == "insert":
            original.insert(position, data.draw(st.integers(0, 255)))
        elif len(original) > 1:
            del original[position]
    try:
        document = cborld.decode(bytes(original))
    except CborldError:
        return
    json.dumps(document)  # whatever decodes is JSON


_MUTATED = {
    **make_credential(ISSUER),
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        {"ex": "https://example.org/ns#", "note": {"@id": "ex:note", "@type": "@id"}},
    ],
    "note": "https://example.org/n/1",
}


def test_cborld_errors_are_input_errors() -> None:
    assert issubclass(CborldError, MalformedInput)


def test_contexts_come_only_from_the_loader() -> None:
    asked: list[str] = []

    def loader(url: str) -> dict[str, Any]:
        asked.append(url)
        raise KeyError(url)

    with pytest.raises(CborldError, match="never fetched"):
        cborld.decode(cborld.encode(make_credential(ISSUER)), loader=loader)
    assert asked == ["https://www.w3.org/ns/credentials/v2"]


# --- VPQR text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"AB", "BB8"),
        (b"Hello!!", "%69 VD92EX0"),
        (b"base-45", "UJCLQE7W581"),
        (b"ietf!", "QED8WEX0"),
    ],
)
def test_base45_matches_rfc_9285(data: bytes, text: str) -> None:
    assert vpqr.b45encode(data) == text
    assert vpqr.b45decode(text) == data


@pytest.mark.parametrize("text", ["GGW", "A", "AB*C", "abc"])
def test_bad_base45_is_refused(text: str) -> None:
    with pytest.raises(CborldError):
        vpqr.b45decode(text)


@pytest.mark.parametrize("text", ["A", "ABC", "MZXW6Y", "mzxw6yq", "MZXW6YR"])
def test_bad_or_non_canonical_base32_is_refused(text: str) -> None:
    with pytest.raises(CborldError):
        vpqr.b32decode(text)


def test_vpqr_text_round_trips_and_unwraps_a_presentation() -> None:
    credential = make_credential(ISSUER)
    for multibase in (vpqr.BASE32, vpqr.BASE45):
        text = vpqr.write(credential, multibase=multibase)
        assert text.startswith("VP1-" + multibase)
        assert set(text[5:]) <= set(vpqr._B45)  # QR alphanumeric mode
        assert vpqr.read(text) == credential
    presentation: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": "VerifiablePresentation",
        "verifiableCredential": credential,
    }
    text = "VP1-B" + vpqr.b32encode(cborld.encode(presentation, format="legacy-singleton"))
    assert vpqr.read(text) == credential
    presentation["verifiableCredential"] = [credential, credential]
    text = "VP1-R" + vpqr.b45encode(cborld.encode(presentation))
    with pytest.raises(CborldError, match="exactly one credential"):
        vpqr.read(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("VP2-BAAAA", "VP1-"),
        ("VP1-ZAAAA", "base32"),
        ("VP1-B" + "A" * 9000, "at most"),
        ("VP1-R", "empty"),
    ],
)
def test_bad_vpqr_texts_are_refused(text: str, message: str) -> None:
    with pytest.raises(CborldError, match=message):
        vpqr.read(text)


def _signed_badge() -> dict[str, Any]:
    from issuer.crypto.keys import did_key, did_key_method, ed25519_from_seed
    from issuer.crypto.signing import sign_data_integrity

    key = ed25519_from_seed(bytes(range(32)))
    return sign_data_integrity(
        make_credential(did_key(key)), key, did_key_method(key), created="2026-01-15T09:00:00Z"
    )


def _no_network(url: str) -> bytes:
    raise FetchError(url, "no network")


@pytest.mark.parametrize("multibase", [vpqr.BASE32, vpqr.BASE45])
def test_no_single_character_change_of_a_vpqr_verifies(multibase: str) -> None:
    """Every position of the text, each changed to another character of its alphabet: a decode
    error or a failed signature, never "verified" (the original does verify, offline)."""
    text = vpqr.write(_signed_badge(), multibase=multibase)
    assert verify_credential(text, fetcher=_no_network).verdict is Verdict.VERIFIED
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" if multibase == vpqr.BASE32 else vpqr._B45
    for position in range(5, len(text)):
        other = alphabet[(alphabet.index(text[position]) + 1 + position) % len(alphabet)]
        if other == text[position]:
            other = alphabet[(alphabet.index(other) + 1) % len(alphabet)]
        tampered = text[:position] + other + text[position + 1 :]
        report = verify_credential(tampered, fetcher=_no_network)
        assert report.verdict is not Verdict.VERIFIED, position
