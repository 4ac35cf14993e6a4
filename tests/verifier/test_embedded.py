"""Credentials inside a credential: CLR 2.0 nested credentials and embedded endorsements.

A learner's CLR transcript bundles every badge one issuer gave them, so a realistic one holds
dozens: every one of them is verified (up to ``MAX_NESTED_CREDENTIALS``), the issuer's DID and
status list are fetched once for all, and a larger CLR reports the nested check as unknown rather
than passed. Work stays bounded however hostile the nested credentials are.

Everything here is signed in the test with the verifier's own signing input and a did:key issuer,
so it resolves offline; the status list comes from a fake fetcher.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Mapping
from functools import cache
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.issuer.credentials import make_credential
from tests.vectors import NOW
from tests.verifier.test_bad_input import RecordingFetcher, blank_node_clique
from verifier import Outcome, Report, Verdict, rdfc_budget, verify_credential
from verifier.multibase import encode_multikey
from verifier.proof import data_integrity
from verifier.status import encode_bitstring
from verifier.verify import MAX_ENDORSEMENTS, MAX_NESTED_CREDENTIALS

KEY = ed25519.Ed25519PrivateKey.from_private_bytes(b"\x2a" * 32)
MULTIKEY = encode_multikey(KEY.public_key())
ISSUER = f"did:key:{MULTIKEY}"
METHOD = f"{ISSUER}#{MULTIKEY}"
LIST_URL = "https://badges.example.org/status/1"
CLR_CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
TRANSCRIPT = 40


def sign(document: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` with an ``eddsa-rdfc-2022`` proof by KEY (what the issuer does)."""
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": data_integrity.CRYPTOSUITE,
        "created": "2026-01-15T09:00:00Z",
        "verificationMethod": METHOD,
        "proofPurpose": "assertionMethod",
    }
    signature = KEY.sign(data_integrity.signing_input(document, options))
    return data_integrity.attach_proof(document, options, signature)


def status_list(revoked: tuple[int, ...] = ()) -> bytes:
    bits = bytearray(16 * 1024)  # 131,072 entries, the minimum
    for index in revoked:
        bits[index // 8] |= 0x80 >> (index % 8)
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": LIST_URL,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": ISSUER,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "id": f"{LIST_URL}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode_bitstring(bytes(bits)),
        },
    }
    return json.dumps(sign(document)).encode()


@cache
def badge(index: int) -> dict[str, Any]:
    """The learner's ``index``-th badge from ISSUER, with entry ``index`` in the status list."""
    credential = make_credential(
        ISSUER,
        id=f"urn:uuid:{uuid.UUID(int=index + 1)}",
        credentialStatus={
            "id": f"{LIST_URL}#{index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(index),
            "statusListCredential": LIST_URL,
        },
    )
    credential["credentialSubject"]["achievement"]["name"] = f"Course {index + 1}"
    return sign(credential)


def clr(nested: list[dict[str, Any]]) -> dict[str, Any]:
    """A signed ClrCredential bundling ``nested`` (shaped like issuer/services/clr.py's)."""
    achievements = {c["credentialSubject"]["achievement"]["name"]: c for c in nested}
    document = {
        "@context": list(CLR_CONTEXTS),
        "id": "urn:uuid:7d3f2a10-6c1b-4e5f-9a8d-2b4c6e8f0a1c",
        "type": ["VerifiableCredential", "ClrCredential"],
        "name": "HRD Institute — transcript",
        "issuer": {"id": ISSUER, "type": ["Profile"], "name": "HRD Institute"},
        "validFrom": "2026-02-01T00:00:00Z",
        "credentialSubject": {
            "id": "urn:uuid:0e4a1f5c-2b7d-4c3e-8f19-6a5b4c3d2e1f",
            "type": ["ClrSubject"],
            "verifiableCredential": copy.deepcopy(nested),
            "achievement": [
                copy.deepcopy(c["credentialSubject"]["achievement"]) for c in achievements.values()
            ],
        },
    }
    return sign(document)


def transcript(count: int) -> list[dict[str, Any]]:
    """``count`` badges; past the first TRANSCRIPT they repeat (signing is the slow part)."""
    return [badge(i % TRANSCRIPT) for i in range(count)]


def verify(document: dict[str, Any], revoked: tuple[int, ...] = ()) -> tuple[Report, list[str]]:
    fetcher = RecordingFetcher({LIST_URL: status_list(revoked)})
    return verify_credential(document, now=NOW, fetcher=fetcher), fetcher.urls


def test_one_badge_of_the_transcript_verifies_on_its_own() -> None:
    """Control for the tests below."""
    report, fetched = verify(badge(0))
    assert report.verdict is Verdict.VERIFIED, report.to_dict()
    assert fetched == [LIST_URL]


def test_a_clr_of_40_badges_from_one_issuer_verifies_every_nested_credential() -> None:
    """Regression: the nested check was unknown past 16 credentials ("at most 16 are verified"),
    so a learner's ordinary export of 40 badges could not be checked."""
    report, fetched = verify(clr(transcript(TRANSCRIPT)))
    assert report.verdict is Verdict.VERIFIED, report.to_dict()
    nested = report.check("nested credentials")
    assert nested is not None
    assert (nested.outcome, nested.reason) == (Outcome.PASSED, "40 credential(s) verified")
    assert report.warnings == ()
    # One status list for all 40 (and no other document: did:key resolves offline).
    assert fetched == [LIST_URL]


def test_a_revoked_badge_inside_a_large_clr_is_named() -> None:
    report, fetched = verify(clr(transcript(TRANSCRIPT)), revoked=(33,))
    assert report.verdict is Verdict.VERIFIED, report.to_dict()  # the export itself is genuine
    nested = report.check("nested credentials")
    assert nested is not None and nested.outcome is Outcome.FAILED, report.to_dict()
    assert nested.reason.startswith("credential 34: ") and "revoked" in nested.reason
    assert ";" not in nested.reason, "only the revoked one fails"
    assert fetched == [LIST_URL]


def test_a_clr_over_the_cap_is_not_fully_checked_and_never_passes() -> None:
    report, fetched = verify(clr(transcript(MAX_NESTED_CREDENTIALS + 1)))
    nested = report.check("nested credentials")
    assert nested is not None
    assert nested.outcome is Outcome.UNKNOWN, report.to_dict()
    assert not nested.required
    assert str(MAX_NESTED_CREDENTIALS) in nested.reason
    assert "1 not checked" in nested.reason
    assert any(w.startswith("nested credentials: ") for w in report.warnings)
    # The CLR's own checks are unaffected: it is a warning about the contents.
    assert report.verdict is Verdict.VERIFIED, report.to_dict()
    assert fetched == [LIST_URL]


def test_a_failure_before_the_cap_is_reported_with_the_unchecked_rest() -> None:
    tampered = copy.deepcopy(transcript(MAX_NESTED_CREDENTIALS + 2))
    tampered[0]["credentialSubject"]["achievement"]["name"] += " (edited)"
    report, _ = verify(clr(tampered))
    nested = report.check("nested credentials")
    assert nested is not None and nested.outcome is Outcome.FAILED, report.to_dict()
    assert nested.reason.startswith("credential 1: the signature does not match")
    assert nested.reason.endswith(
        f"2 not checked (at most {MAX_NESTED_CREDENTIALS} credentials are verified)"
    )


@pytest.mark.parametrize(
    ("count", "outcome"),
    [(MAX_ENDORSEMENTS, Outcome.PASSED), (MAX_ENDORSEMENTS + 1, Outcome.UNKNOWN)],
    ids=["at the cap", "one over"],
)
def test_endorsements_keep_their_own_smaller_cap(count: int, outcome: Outcome) -> None:
    credential = copy.deepcopy(badge(TRANSCRIPT))  # not itself among its endorsements
    credential.pop("proof")
    credential["endorsement"] = copy.deepcopy(transcript(count))
    report, _ = verify(sign(credential))
    check = report.check("endorsements")
    assert check is not None and check.outcome is outcome, report.to_dict()
    assert str(count) in check.reason


def test_a_clr_of_poisoned_credentials_is_refused_after_one_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each canonicalisation may spend ``MAX_STEPS`` on entangled blank nodes; with up to 250
    nested credentials each getting that much, a CLR of poison graphs would be a minute of work.
    The CLR holds them all, so its own canonicalisation meets them first: it is refused as input
    after one budget, and no nested credential is canonicalised. (One verification's documents
    also share ``MAX_SHARED_STEPS``: ``tests/verifier/test_hostile.py``.)"""
    spent = 0
    spend = rdfc_budget._spend

    def counting(n: int = 1) -> None:
        nonlocal spent
        spent += n
        spend(n)

    monkeypatch.setattr(rdfc_budget, "_spend", counting)
    document = clr(transcript(1))
    poisoned = [blank_node_clique(6) for _ in range(12)]  # 13 x MAX_STEPS, unshared
    document["credentialSubject"]["verifiableCredential"] = poisoned
    report, fetched = verify(document)
    assert report.verdict is Verdict.NOT_VERIFIED
    refused = report.check("input")
    assert refused is not None and refused.outcome is Outcome.FAILED
    assert refused.code == "too_complex" and "too entangled" in refused.reason
    assert report.check("nested credentials") is None
    assert spent <= rdfc_budget.MAX_STEPS + 100  # the last spend overshoots by its own size
    assert fetched == []


def test_an_endorsement_whose_signature_is_not_tied_to_its_issuer_is_not_counted() -> None:
    """An endorsement from a ``urn:`` issuer calling itself "Seoul National University", signed
    by any key, verifies on its own as genuine (nobody changed it: a warning that its issuer
    names no key); inside a badge it is not one of the "endorsement(s) verified"."""
    endorsement = {
        "@context": CLR_CONTEXTS[:1] + CLR_CONTEXTS[2:],
        "id": "urn:uuid:7f0c2c1e-1111-4222-8333-444455556666",
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "name": "Seoul National University endorses this course",
        "issuer": {
            "id": "urn:uuid:2b7e1516-28ae-4d2a-a6f7-15880928cf4f",
            "type": ["Profile"],
            "name": "Seoul National University",
        },
        "validFrom": "2026-01-15T09:00:00Z",
        "credentialSubject": {
            "id": "https://badges.example.org/achievements/1",
            "type": ["EndorsementSubject"],
            "endorsementComment": "Endorsed by the medical school",
        },
    }
    alone, _ = verify(sign(endorsement))
    assert alone.verdict is Verdict.VERIFIED, alone.to_dict()
    issuer_check = alone.check("issuer")
    assert issuer_check is not None and issuer_check.outcome is not Outcome.PASSED
    credential = copy.deepcopy(badge(TRANSCRIPT))
    credential.pop("proof")
    bound = {**endorsement, "id": "urn:uuid:7f0c2c1e-1111-4222-8333-444455556667"}
    bound["issuer"] = {"id": ISSUER, "type": ["Profile"], "name": "HRD Institute"}
    credential["endorsement"] = [sign(endorsement), sign(bound)]
    report, _ = verify(sign(credential))
    assert report.verdict is Verdict.VERIFIED
    check = report.check("endorsements")
    assert check is not None and check.outcome is Outcome.FAILED, report.to_dict()
    assert check.reason.startswith("endorsement 1: its signature is not tied to its issuer")
    assert "endorsement 2" not in check.reason
