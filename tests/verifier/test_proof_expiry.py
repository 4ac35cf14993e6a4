"""A Data Integrity proof's ``expires`` (VC Data Integrity §2.1): after it, the proof does not
verify; before it, and without it, nothing changes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from issuer.crypto.keys import did_key, did_key_method, ed25519_from_seed
from tests.issuer.credentials import make_credential
from verifier import Verdict, verify_credential
from verifier.fetch import NO_NETWORK, MappingFetcher
from verifier.proof import data_integrity

KEY = ed25519_from_seed(b"\x11" * 32)
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _signed(**options: Any) -> dict[str, Any]:
    proof = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2026-01-15T09:00:00Z",
        "verificationMethod": did_key_method(KEY),
        "proofPurpose": "assertionMethod",
        **options,
    }
    credential = make_credential(did_key(KEY))
    signature = KEY.sign(data_integrity.signing_input(credential, proof))
    return data_integrity.attach_proof(credential, proof, signature)


@pytest.mark.parametrize("profile", ["openbadges", "vc"])
def test_an_expired_proof_does_not_verify(profile: str) -> None:
    def verify(credential: dict[str, Any], now: datetime = NOW) -> Any:
        return verify_credential(credential, now=now, fetcher=NO_NETWORK, profile=profile)

    assert verify(_signed()).verdict is Verdict.VERIFIED
    assert verify(_signed(expires="2026-07-01T00:00:00Z")).verdict is Verdict.VERIFIED
    expired = _signed(expires="2026-04-01T00:00:00Z")
    report = verify(expired)
    assert report.verdict is Verdict.NOT_VERIFIED
    assert report.check("proof").reason == "the proof expired on 2026-04-01T00:00:00Z"
    # within the clock skew of its end, as for the credential's own validUntil
    assert verify(expired, NOW.replace(month=4) + timedelta(seconds=30)).verdict is Verdict.VERIFIED
    for bad in ("soon", "2026-07-01T00:00:00", 20260701):
        report = verify(_signed(expires=bad))
        assert report.verdict is Verdict.NOT_VERIFIED
        assert "'expires'" in report.check("proof").reason


def test_a_remembered_status_list_is_verified_again_once_its_proof_expires() -> None:
    """The list memo keeps a verified list within its validity window; a proof that expires
    sooner ends that too, so the list is checked again, and its expired proof refused."""
    from issuer.issuing.bitstring import empty_bits, status_entry, status_list_credential

    issuer = did_key(KEY)
    url = "https://badges.example.org/status/9"
    unsigned = status_list_credential(
        url, issuer, bytes(empty_bits()), valid_from="2026-01-01T00:00:00Z"
    )
    proof = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2026-01-01T00:00:00Z",
        "verificationMethod": did_key_method(KEY),
        "proofPurpose": "assertionMethod",
        "expires": "2026-07-01T00:00:00Z",
    }
    signature = KEY.sign(data_integrity.signing_input(unsigned, proof))
    status_list = data_integrity.attach_proof(unsigned, proof, signature)
    fetcher = MappingFetcher({url: json.dumps(status_list).encode()})
    credential = make_credential(issuer, credentialStatus=status_entry(url, 3))
    credential_proof = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2026-01-15T09:00:00Z",
        "verificationMethod": did_key_method(KEY),
        "proofPurpose": "assertionMethod",
    }
    badge = data_integrity.attach_proof(
        credential,
        credential_proof,
        KEY.sign(data_integrity.signing_input(credential, credential_proof)),
    )
    before = verify_credential(badge, now=NOW, fetcher=fetcher)
    assert before.verdict is Verdict.VERIFIED, before.reason()
    after = verify_credential(badge, now=NOW.replace(month=8), fetcher=fetcher)
    assert after.verdict is Verdict.COULD_NOT_DECIDE
    assert "the proof expired on 2026-07-01T00:00:00Z" in str(after.check("status"))
