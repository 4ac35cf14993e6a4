"""Prove the DCC interop harness gives real answers on published vectors.

These tests exercise only the harness (Digital Bazaar / DCC libraries under
Node): known-good vectors verify, tampered ones do not, and what it signs
verifies. Laurel's own interop tests build on it.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from .dcc import dcc_sign, dcc_verify, did_key_from_seed, ensure_node_modules

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
OB_GUIDE = VECTORS / "ob3-impl-guide"
# Inside the vectors' validity window (see tests/vectors/README.md), so the
# result does not depend on today's date.
NOW = "2026-01-01T00:00:00Z"
CREATED = "2010-01-01T19:23:24Z"
TEST_SEED = bytes(range(32))


@pytest.fixture(scope="module", autouse=True)
def _node_modules() -> None:
    ensure_node_modules()


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def vms() -> dict[str, dict[str, Any]]:
    # The vectors' table is keyed for Laurel's resolver (bare DIDs for did:key);
    # the harness wants VM id -> VM document.
    table = _load(VECTORS / "verification-methods.json")["verificationMethods"]
    return {vm["id"]: vm for vm in table.values()}


@pytest.fixture(scope="module")
def ob_signed() -> dict[str, Any]:
    return _load(OB_GUIDE / "ob" / "signed-credential.json")


def _unsigned_ob_with_issuer(did: str) -> dict[str, Any]:
    credential = _load(OB_GUIDE / "ob" / "credential.json")
    credential["issuer"]["id"] = did
    return credential


def _set(doc: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(doc)
    target = changed
    for key in path[:-1]:
        target = target[key]
    assert path[-1] in target, path  # tamper with a field that exists
    target[path[-1]] = value
    return changed


# --------------------------------------------------------------- verify


def test_ob_guide_signed_credential_verifies(
    ob_signed: dict[str, Any], vms: dict[str, dict[str, Any]]
) -> None:
    assert isinstance(ob_signed["proof"], dict)  # single proof object is accepted
    assert dcc_verify(ob_signed, vms, now=NOW) == (True, [])


def test_ob_guide_verifies_against_the_real_clock(
    ob_signed: dict[str, Any], vms: dict[str, dict[str, Any]]
) -> None:
    # No validUntil, validFrom 2010: valid today too, without --now.
    assert dcc_verify(ob_signed, vms) == (True, [])


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("credentialSubject", "achievement", "name"), "Teamwork!"),
        (("name",), "Teamwork Badge (edited)"),
        (("validFrom",), "2010-01-02T00:00:00Z"),
    ],
)
def test_tampered_ob_guide_credential_fails(
    ob_signed: dict[str, Any],
    vms: dict[str, dict[str, Any]],
    path: tuple[str, ...],
    value: Any,
) -> None:
    verified, errors = dcc_verify(_set(ob_signed, path, value), vms, now=NOW)
    assert not verified
    assert errors == ["Invalid signature."]


def test_unresolvable_vm_fails_offline(ob_signed: dict[str, Any]) -> None:
    # Without the vm-file the https VM is not fetched: the loader refuses it.
    verified, errors = dcc_verify(ob_signed, now=NOW)
    assert not verified
    assert any("refused" in e and "example.edu" in e for e in errors), errors


def test_issuer_must_be_vm_controller(
    ob_signed: dict[str, Any], vms: dict[str, dict[str, Any]]
) -> None:
    # The signature covers issuer.id, so swap the VM's controller instead: the
    # VC issuance purpose check (issuer == controller) must then fail.
    vm_id = ob_signed["proof"]["verificationMethod"]
    moved = {**vms, vm_id: {**vms[vm_id], "controller": "https://other.example/"}}
    verified, errors = dcc_verify(ob_signed, moved, now=NOW)
    assert not verified
    assert any("must match the verification method controller" in e for e in errors), errors


def test_bad_vm_file_is_a_harness_error(ob_signed: dict[str, Any]) -> None:
    # A mis-keyed table must raise, not read as "not verified".
    with pytest.raises(RuntimeError, match="vm-file"):
        dcc_verify(ob_signed, {"wrong-key": {"id": "x", "controller": "y"}})


# --------------------------------------------------------------- sign


@pytest.fixture(scope="module")
def round_trip() -> tuple[str, dict[str, Any]]:
    did = did_key_from_seed(TEST_SEED)
    return did, dcc_sign(_unsigned_ob_with_issuer(did), TEST_SEED, CREATED)


def test_sign_writes_expected_proof(round_trip: tuple[str, dict[str, Any]]) -> None:
    did, signed = round_trip
    proof = signed["proof"]
    multikey = did.removeprefix("did:key:")
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["created"] == CREATED
    # Python's did:key derivation agrees with the JS one.
    assert proof["verificationMethod"] == f"{did}#{multikey}"
    assert proof["proofValue"].startswith("z")
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    assert unsigned == _unsigned_ob_with_issuer(did)


def test_sign_verify_round_trip(round_trip: tuple[str, dict[str, Any]]) -> None:
    _, signed = round_trip
    assert dcc_verify(signed, now=NOW) == (True, [])


def test_round_trip_tampered_fails(round_trip: tuple[str, dict[str, Any]]) -> None:
    _, signed = round_trip
    tampered = _set(signed, ("credentialSubject", "achievement", "name"), "Other")
    assert dcc_verify(tampered, now=NOW) == (False, ["Invalid signature."])


def test_undefined_term_fails_in_safe_mode(round_trip: tuple[str, dict[str, Any]]) -> None:
    # jsonld-signatures' safe mode: a term no context defines is an error, not
    # silently dropped (which would leave it unsigned).
    _, signed = round_trip
    verified, errors = dcc_verify({**signed, "notInAnyContext": "x"}, now=NOW)
    assert not verified
    assert any("Safe mode" in e and "notInAnyContext" in e for e in errors), errors


def test_sign_with_ob_guide_key() -> None:
    key = _load(OB_GUIDE / "key.json")
    seed = bytes.fromhex(key["privateKeyHex"])[:32]
    did = did_key_from_seed(seed)
    assert did == "did:key:" + key["multikey"]["publicKeyMultibase"]
    signed = dcc_sign(_unsigned_ob_with_issuer(did), seed, CREATED)
    assert dcc_verify(signed, now=NOW) == (True, [])


def test_credential_status_is_not_silently_accepted(
    round_trip: tuple[str, dict[str, Any]],
) -> None:
    # The harness cannot check status lists; @digitalbazaar/vc then needs a
    # checkStatus, and ours says "unsupported" so the result is not verified.
    did, _ = round_trip
    unsigned = _unsigned_ob_with_issuer(did)
    unsigned["credentialStatus"] = {
        "id": "https://example.edu/status/1#5",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "5",
        "statusListCredential": "https://example.edu/status/1",
    }
    signed = dcc_sign(unsigned, TEST_SEED, CREATED)
    verified, errors = dcc_verify(signed, now=NOW)
    assert not verified
    assert errors == ["credentialStatus is not supported by this harness"]
