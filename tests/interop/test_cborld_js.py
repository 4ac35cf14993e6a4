"""Laurel's CBOR-LD / VPQR against the reference libraries under Node (``js-cborld/``):
``@digitalbazaar/cborld`` 8.1.0 and ``@digitalbazaar/vpqr`` 6.0.0 (current), and
``@digitalcredentials/cborld`` 4.3.4 with ``@digitalcredentials/vpqr`` 2.2.1 (what the Learner
Credential Wallet ships). Each side decodes the other's payloads to equal documents; the bytes
may differ (map order, integer widths), so documents are compared, never bytes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from issuer.crypto.keys import did_key, did_key_method, ed25519_from_seed
from issuer.crypto.signing import sign_data_integrity
from issuer.issuing.qr_edition import unsigned_edition
from tests.issuer.credentials import make_credential
from verifier import Outcome, verify_credential, vpqr
from verifier.errors import FetchError

from .dcc import NODE_TIMEOUT_S, ensure_node_modules

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None, reason="needs node and npm"
)

JS_DIR = Path(__file__).resolve().parent / "js-cborld"
CONTEXTS = Path(__file__).resolve().parents[2] / "verifier" / "contexts"
VECTORS = Path(__file__).resolve().parents[1] / "vectors"
KEY = ed25519_from_seed(bytes(range(32)))


def laurel_badge() -> dict[str, Any]:
    """A badge as Laurel issues it (status entry, hashed e-mail, alignment, did:key proof), in
    its QR edition."""
    credential = make_credential(did_key(KEY), validUntil="2031-01-15T09:00:00Z")
    credential["credentialStatus"] = {
        "id": "https://laurel.test/status/1#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": "https://laurel.test/status/1",
    }
    subject = credential["credentialSubject"]
    subject["identifier"].append(
        {
            "type": "IdentityObject",
            "identityType": "name",
            "hashed": False,
            "identityHash": "김민준",
        }
    )
    subject["achievement"]["alignment"] = [
        {
            "type": ["Alignment"],
            "targetName": "Team Building",
            "targetUrl": "https://laurel.test/frameworks/ecq/ECQ2-4",
            "targetType": "ceasn:Competency",
        }
    ]
    return sign_data_integrity(
        unsigned_edition(credential), KEY, did_key_method(KEY), created="2026-01-15T09:00:00Z"
    )


def _load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((VECTORS / name).read_text("utf-8"))
    return document


DOCUMENTS = {
    "laurel badge": laurel_badge(),
    "ob impl guide": _load("ob3-impl-guide/ob/signed-credential.json"),
    "did:key": _load("1edtech-validator/simple-did-key-method.json"),
    "vcdm 1.1": _load("1edtech-validator/simple_v1.json"),
    "eddsa with data: images": _load("w3c-vc-di-eddsa/employ/signedDataInt.json"),
    "clr": _load("ob3-impl-guide/clr/signed-credential.json"),
}


def node(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ensure_node_modules(JS_DIR)
    proc = subprocess.run(
        ["node", str(JS_DIR / "cborld.mjs"), str(CONTEXTS)],
        input=json.dumps(tasks),
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_S,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    results: list[dict[str, Any]] = json.loads(proc.stdout)
    assert len(results) == len(tasks)
    return results


@pytest.mark.parametrize("name", DOCUMENTS)
def test_their_libraries_decode_laurels_vpqr_to_the_same_document(name: str) -> None:
    document = DOCUMENTS[name]
    b, r = vpqr.write(document, multibase="B"), vpqr.write(document, multibase="R")
    tasks = [
        {"op": "fromQr", "lib": "dcc", "text": b},  # the Learner Credential Wallet's reader
        {"op": "fromQr", "lib": "db", "text": b},
        {"op": "fromQr", "lib": "db", "text": r},
    ]
    for task, result in zip(tasks, node(tasks), strict=True):
        assert result["ok"], (task["lib"], task["text"][:5], result)
        assert result["document"] == document, (task["lib"], task["text"][:5])


@pytest.mark.parametrize("name", [n for n in DOCUMENTS if n != "clr"])  # clr: too big for a QR
def test_laurel_decodes_their_vpqr_to_the_same_document(name: str) -> None:
    document = DOCUMENTS[name]
    presentation = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": "VerifiablePresentation",
        "verifiableCredential": document,
    }
    tasks: list[dict[str, Any]] = [
        {"op": "toQr", "lib": "dcc", "document": document},
        {"op": "toQr", "lib": "dcc", "document": presentation},
        {
            "op": "toQr",
            "lib": "db",
            "document": document,
            "format": "cbor-ld-1.0",
            "multibase": "R",
        },
        {
            "op": "toQr",
            "lib": "db",
            "document": document,
            "format": "cbor-ld-1.0",
            "multibase": "B",
        },
        {
            "op": "toQr",
            "lib": "db",
            "document": document,
            "format": "legacy-singleton",
            "multibase": "B",
        },
    ]
    for task, result in zip(tasks, node(tasks), strict=True):
        assert result["ok"], (task, result)
        assert result["text"].startswith("VP1-" + task.get("multibase", "B"))
        assert vpqr.read(result["text"]) == document, task


def test_a_badge_decoded_by_the_reference_still_verifies() -> None:
    document = DOCUMENTS["laurel badge"]
    [result] = node([{"op": "fromQr", "lib": "dcc", "text": vpqr.write(document)}])

    def no_network(url: str) -> bytes:
        raise FetchError(url, "no network")

    report = verify_credential(result["document"], fetcher=no_network)
    assert report.check("proof").outcome is Outcome.PASSED  # type: ignore[union-attr]
    assert report.check("status").outcome is Outcome.UNKNOWN  # type: ignore[union-attr]


def test_a_flipped_character_is_caught_by_every_reader() -> None:
    """A tampered payload never decodes to the signed document, in any library."""
    document = DOCUMENTS["laurel badge"]
    text = vpqr.write(document)
    tampered = [text[:i] + ("A" if text[i] != "A" else "C") + text[i + 1 :] for i in (40, 400, 900)]
    tasks = [{"op": "fromQr", "lib": lib, "text": t} for t in tampered for lib in ("dcc", "db")]
    for task, result in zip(tasks, node(tasks), strict=True):
        assert not result["ok"] or result["document"] != document, task["lib"]
