"""For each valid vector, tampered twins must fail: a changed field, a flipped signature byte, a
swapped issuer, a moved validUntil."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.vectors import VECTORS, check, expected_vectors, offline_world
from verifier import Outcome, Verdict, verify_credential
from verifier.baking import bake_png, bake_svg, read_png, read_svg
from verifier.multibase import b58decode, b58encode

VALID_JSON = [
    v["file"]
    for v in expected_vectors()
    if v["verdict"] in ("valid", "valid-with-warnings")
    and v["format"] == "json"
    and "bit-string-list" not in v["file"]
]


def _proofs(credential: dict[str, Any]) -> list[dict[str, Any]]:
    proof = credential["proof"]
    return proof if isinstance(proof, list) else [proof]


def change_field(credential: dict[str, Any]) -> None:
    achievement = credential["credentialSubject"].get("achievement")
    target = achievement if isinstance(achievement, dict) else credential
    target["name"] = str(target.get("name", "")) + " (edited)"


def flip_signature_byte(credential: dict[str, Any]) -> None:
    for proof in _proofs(credential):
        if "proofValue" in proof:
            raw = bytearray(b58decode(proof["proofValue"][1:]))
            raw[10] ^= 0x01
            proof["proofValue"] = "z" + b58encode(bytes(raw))


def swap_issuer(credential: dict[str, Any]) -> None:
    if isinstance(credential["issuer"], dict):
        credential["issuer"]["id"] = "https://impostor.example/issuers/1"
    else:
        credential["issuer"] = "https://impostor.example/issuers/1"


def move_valid_until(credential: dict[str, Any]) -> None:
    key = "expirationDate" if "issuanceDate" in credential else "validUntil"
    credential[key] = "2099-12-31T23:59:59Z"


TAMPERINGS: dict[str, Callable[[dict[str, Any]], None]] = {
    "changed field": change_field,
    "flipped signature byte": flip_signature_byte,
    "swapped issuer": swap_issuer,
    "moved validUntil": move_valid_until,
}


@pytest.mark.parametrize("tamper", TAMPERINGS, ids=list(TAMPERINGS))
@pytest.mark.parametrize("file", VALID_JSON)
def test_tampered_twin_fails(file: str, tamper: str) -> None:
    original = json.loads((VECTORS / file).read_text("utf-8"))
    # complete.json is "could not decide" (its revocation list is unreachable); its proof passes.
    assert check(verify_credential(original, **offline_world()), "proof").outcome is Outcome.PASSED
    twin = copy.deepcopy(original)
    TAMPERINGS[tamper](twin)
    report = verify_credential(twin, **offline_world())
    assert report.verdict is Verdict.NOT_VERIFIED
    assert check(report, "proof").outcome is Outcome.FAILED


@pytest.mark.parametrize("image", ["simple-json.png", "simple-json.svg"])
def test_tampered_baked_image_fails(image: str) -> None:
    data = (VECTORS / "1edtech-validator" / image).read_bytes()
    is_png = image.endswith(".png")
    credential = json.loads(read_png(data) if is_png else read_svg(data))
    change_field(credential)
    text = json.dumps(credential)
    rebaked = bake_png(data, text) if is_png else bake_svg(data, text, is_jws=False)
    report = verify_credential(rebaked, **offline_world())
    assert report.verdict is Verdict.NOT_VERIFIED
    assert check(report, "proof").outcome is Outcome.FAILED


@pytest.mark.parametrize("file", VALID_JSON)
def test_a_key_expansion_would_drop_is_refused_by_name(file: str) -> None:
    """A key that looks like a JSON-LD keyword ("@note") is dropped by expansion, so it is outside
    the signed data: added after signing, it must not pass as signed, and the reason names it."""
    twin = json.loads((VECTORS / file).read_text("utf-8"))
    twin["credentialSubject"]["@note"] = "Graduated with honours"
    report = verify_credential(twin, **offline_world())
    assert report.verdict is Verdict.NOT_VERIFIED
    assert "'@note' looks like a JSON-LD keyword" in report.reason()
