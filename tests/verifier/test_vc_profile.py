"""The verifier's ``vc`` profile (any VCDM 2.0 / 1.1 credential) and ``verify_presentation``,
offline with did:key signers: proof sets and chains, inline contexts, validity, and presentations
with challenge, domain and holder."""

from __future__ import annotations

import copy
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from issuer.crypto.keys import did_key, did_key_method, ed25519_from_seed
from verifier import Verdict, canonicalize, verify_credential
from verifier.fetch import NO_NETWORK
from verifier.keys import DefaultKeyResolver, TableKeyResolver
from verifier.presentation import verify_presentation
from verifier.proof import data_integrity

ISSUER = ed25519_from_seed(bytes(range(32)))
WITNESS = ed25519_from_seed(bytes(range(1, 33)))
V2 = "https://www.w3.org/ns/credentials/v2"
CREATED = "2025-01-01T00:00:00Z"


def _sign(document: dict[str, Any], key: ed25519.Ed25519PrivateKey, **extra: Any) -> dict[str, Any]:
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": CREATED,
        "verificationMethod": did_key_method(key),
        "proofPurpose": "assertionMethod",
        **extra,
    }
    previous = extra.get("previousProof")
    canonical = None
    if previous:  # a chain: signed over the document holding the proof it names
        named = [p for p in document["proof"] if p.get("id") == previous]
        canonical = canonicalize({**data_integrity.unsigned(document), "proof": named})
    data = data_integrity.signing_input(document, options, canonical_document=canonical)
    signature = key.sign(data)
    return data_integrity.attach_proof(document, options, signature)


def _credential() -> dict[str, Any]:
    return {
        "@context": [
            V2,
            {"Diploma": "https://example.org/Diploma", "grade": "https://example.org/grade"},
        ],
        "type": ["VerifiableCredential", "Diploma"],
        "issuer": did_key(ISSUER),
        "credentialSubject": {"id": "did:example:alice", "grade": "A"},
    }


def _verify(credential: Any) -> Any:
    return verify_credential(credential, fetcher=NO_NETWORK, profile="vc")


def test_any_vc_with_an_inline_context_verifies_and_is_not_an_open_badge() -> None:
    signed = _sign(_credential(), ISSUER)
    assert _verify(signed).verdict is Verdict.VERIFIED, _verify(signed).to_dict()
    assert verify_credential(signed, fetcher=NO_NETWORK).verdict is Verdict.NOT_VERIFIED


def test_every_proof_of_a_set_must_verify() -> None:
    both = _sign(_sign(_credential(), ISSUER), WITNESS)
    assert _verify(both).verdict is Verdict.VERIFIED
    broken = copy.deepcopy(both)
    broken["proof"][1]["proofValue"] = broken["proof"][0]["proofValue"]
    assert _verify(broken).verdict is Verdict.NOT_VERIFIED


def test_a_proof_chain_verifies_and_a_missing_link_does_not() -> None:
    first = _sign(_credential(), WITNESS, id="urn:uuid:first")
    chain = _sign(first, ISSUER, previousProof="urn:uuid:first")
    report = _verify(chain)
    assert report.verdict is Verdict.VERIFIED, report.to_dict()
    missing = copy.deepcopy(chain)
    missing["proof"][1]["previousProof"] = "urn:uuid:nowhere"
    assert "names no proof" in _verify(missing).reason()


def test_valid_until_before_valid_from_is_refused() -> None:
    credential = {
        **_credential(),
        "validFrom": "2025-01-01T00:00:00Z",
        "validUntil": "2024-01-01T00:00:00Z",
    }
    report = _verify(_sign(credential, ISSUER))
    assert report.verdict is Verdict.NOT_VERIFIED
    assert "before" in report.reason()


def _presentation(challenge: str, domain: str, holder: str | None = None) -> dict[str, Any]:
    presentation: dict[str, Any] = {
        "@context": [V2],
        "type": ["VerifiablePresentation"],
        "holder": holder or did_key(WITNESS),
        "verifiableCredential": [_sign(_credential(), ISSUER)],
    }
    return _sign(
        presentation, WITNESS, proofPurpose="authentication", challenge=challenge, domain=domain
    )


def test_presentation_proof_purpose_challenge_domain_and_holder() -> None:
    vp = _presentation("abc", "example.org")
    good = verify_presentation(vp, challenge="abc", domain="example.org", fetcher=NO_NETWORK)
    assert good.verdict is Verdict.VERIFIED, good.checks
    assert [report.verified for report in good.credentials] == [True]
    for challenge, domain in (("other", "example.org"), ("abc", "other.example")):
        bad = verify_presentation(vp, challenge=challenge, domain=domain, fetcher=NO_NETWORK)
        assert bad.verdict is Verdict.NOT_VERIFIED
    stranger = _presentation("abc", "example.org", holder="did:example:mallory")
    report = verify_presentation(stranger, challenge="abc", fetcher=NO_NETWORK)
    assert report.verdict is Verdict.NOT_VERIFIED
    assert any(c.name == "holder" and c.outcome.value == "failed" for c in report.checks)
    as_credential = copy.deepcopy(vp)
    as_credential["proof"][0]["proofPurpose"] = "assertionMethod"
    assert not verify_presentation(as_credential, fetcher=NO_NETWORK).verified


def test_the_holder_must_list_the_signing_key_under_authentication() -> None:
    """A key its holder authorises only for ``assertionMethod`` does not authenticate it."""
    holder, method = "did:web:holder.example", "did:web:holder.example#key-1"
    presentation = {"@context": [V2], "type": ["VerifiablePresentation"], "holder": holder}
    signed = _sign(
        presentation,
        WITNESS,
        verificationMethod=method,
        proofPurpose="authentication",
        challenge="abc",
    )
    for purposes, verified in ((["authentication"], True), (["assertionMethod"], False)):
        entry = {
            "id": method,
            "type": "Multikey",
            "controller": holder,
            "publicKeyMultibase": did_key(WITNESS).removeprefix("did:key:"),
            "purposes": purposes,
        }
        resolver = TableKeyResolver({method: entry}, DefaultKeyResolver(NO_NETWORK))
        report = verify_presentation(
            signed, challenge="abc", fetcher=NO_NETWORK, resolve_key=resolver
        )
        assert report.verified is verified, report.checks
        [found] = [check for check in report.checks if check.name == "holder"]
        if not verified:
            assert "does not list the signing key under authentication" in found.reason


def test_unsigned_presentation_needs_no_challenge_and_a_vp_type() -> None:
    unsigned = data_integrity.unsigned(_presentation("abc", "example.org"))
    assert verify_presentation(unsigned, fetcher=NO_NETWORK).verified
    assert not verify_presentation(unsigned, challenge="abc", fetcher=NO_NETWORK).verified
    assert not verify_presentation({**unsigned, "type": ["X"]}, fetcher=NO_NETWORK).verified
    assert not verify_presentation("not an object", fetcher=NO_NETWORK).verified


def test_vcdm11_credential_in_a_vcdm11_presentation() -> None:
    v1 = "https://www.w3.org/2018/credentials/v1"
    credential = {
        "@context": [v1, "https://w3id.org/security/data-integrity/v2"],
        "type": ["VerifiableCredential"],
        "issuer": did_key(ISSUER),
        "issuanceDate": "2020-03-16T22:37:26.544Z",
        "credentialSubject": {"id": "did:example:alice"},
    }
    signed = _sign(credential, ISSUER)
    assert _verify(signed).verified, _verify(signed).to_dict()
    presentation = {
        "@context": [v1],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [signed],
    }
    assert verify_presentation(presentation, fetcher=NO_NETWORK).verified


def test_a_credential_about_someone_else_is_a_warning_on_the_presentation() -> None:
    """The holder signed the presentation, but the credential is Alice's (its subject is
    ``did:example:alice``): VCDM 2.0 allows that (a parent presents a child's credential), so it
    verifies, with a warning a verifier expecting the holder to be the subject can act on."""
    vp = _presentation("abc", "example.org")
    report = verify_presentation(vp, challenge="abc", domain="example.org", fetcher=NO_NETWORK)
    assert report.verdict is Verdict.VERIFIED, report.checks
    [bound] = [c for c in report.checks if c.name == "holder is subject"]
    assert bound.outcome.value == "failed" and not bound.required
    assert bound.reason == (
        f"credential 1 is about did:example:alice, not the holder {did_key(WITNESS)}"
    )
    own = _credential()
    own["credentialSubject"]["id"] = did_key(WITNESS)
    presentation: dict[str, Any] = {
        "@context": [V2],
        "type": ["VerifiablePresentation"],
        "holder": did_key(WITNESS),
        "verifiableCredential": [_sign(own, ISSUER)],
    }
    signed = _sign(presentation, WITNESS, proofPurpose="authentication", challenge="abc")
    report = verify_presentation(signed, challenge="abc", fetcher=NO_NETWORK)
    [bound] = [c for c in report.checks if c.name == "holder is subject"]
    assert bound.outcome.value == "passed", bound
    unsigned = {k: v for k, v in vp.items() if k != "proof"}
    checks = verify_presentation(unsigned, fetcher=NO_NETWORK).checks
    assert not [c for c in checks if c.name == "holder is subject"]  # no holder proved
