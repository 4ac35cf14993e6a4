"""A credential is checked by its contexts' terms, so it must be written in them.

A Data Integrity signature covers the RDF a credential expands to; the checks and the page read
its JSON by term (``credentialStatus``, ``validUntil``, ``name``…). JSON-LD can write the same
RDF other ways, and each of them let a holder move a signed ``credentialStatus`` or
``validUntil`` where no check looked (a revoked or expired badge then verified), or add text no
signature covers beside signed values. Each way is refused here (``NotInTerms``, or the pinned
contexts of the Open Badges profile), and what a real credential writes still verifies.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from issuer.crypto.keys import ed25519_from_seed, multikey
from issuer.crypto.signing import sign_data_integrity, sign_jwt
from issuer.issuing.bitstring import empty_bits, set_bit, status_entry, status_list_credential
from verifier import Verdict, canonicalize, verify_credential
from verifier.errors import NotInTerms
from verifier.expansion import (
    KEYWORD_ALIASES,
    MAP_CONTAINERS,
    _load_bundled,
    bundled_context_index,
    bundled_term_names,
    check_described_once,
    expand,
)
from verifier.fastcanon import Unsupported, canonicalize_fast
from verifier.fetch import MappingFetcher
from verifier.jsonld import canonicalize_reference

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from proofs import typical_credential

NOW = datetime(2026, 6, 1, tzinfo=UTC)
ISSUER = "did:web:issuer.example"
KEY = ed25519_from_seed(bytes(range(32)))
METHOD = f"{ISSUER}#key-1"
LIST_URL = "https://issuer.example/status/1"
CRED = "https://www.w3.org/2018/credentials#"
V2 = "https://www.w3.org/ns/credentials/v2"


def _world(revoked: bool) -> dict[str, bytes]:
    bits = empty_bits()
    if revoked:
        set_bit(bits, 7)
    unsigned = status_list_credential(
        LIST_URL, ISSUER, bytes(bits), valid_from="2026-01-01T00:00:00Z"
    )
    did_document = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": ISSUER,
        "verificationMethod": [
            {
                "id": METHOD,
                "type": "Multikey",
                "controller": ISSUER,
                "publicKeyMultibase": multikey(KEY),
            }
        ],
        "assertionMethod": [METHOD],
    }
    return {
        "https://issuer.example/.well-known/did.json": json.dumps(did_document).encode(),
        LIST_URL: json.dumps(sign_data_integrity(unsigned, KEY, METHOD)).encode(),
    }


def _signed(**changes: Any) -> dict[str, Any]:
    credential = {**typical_credential(ISSUER), "credentialStatus": status_entry(LIST_URL, 7)}
    credential.update(changes)
    return sign_data_integrity(credential, KEY, METHOD)


def _verify(document: Any, *, revoked: bool = False, profile: str = "openbadges") -> Any:
    fetcher = MappingFetcher(_world(revoked))
    return verify_credential(document, now=NOW, fetcher=fetcher, profile=profile)


def _renamed(document: dict[str, Any], key: str, to: str) -> dict[str, Any]:
    moved = copy.deepcopy(document)
    moved[to] = moved.pop(key)
    return moved


PROFILES = ["openbadges", "vc"]


@pytest.mark.parametrize("profile", PROFILES)
def test_a_revoked_badge_with_its_status_under_the_terms_iri_is_not_verified(profile: str) -> None:
    signed = _signed()
    honest = _verify(signed, revoked=True, profile=profile)
    assert honest.verdict is Verdict.NOT_VERIFIED and "revoked" in honest.reason()
    for value in (signed["credentialStatus"], [signed["credentialStatus"]]):
        moved = _renamed(signed, "credentialStatus", CRED + "credentialStatus")
        moved[CRED + "credentialStatus"] = value
        report = _verify(moved, revoked=True, profile=profile)
        assert report.verdict is Verdict.NOT_VERIFIED
        proof = report.check("proof")
        assert proof is not None and proof.code == "not_in_terms"
        assert "'credentialStatus'" in proof.reason and "IRI of the term" in proof.reason


@pytest.mark.parametrize("profile", PROFILES)
def test_an_expired_badge_with_its_end_hidden_is_not_verified(profile: str) -> None:
    signed = _signed(validUntil="2026-04-01T00:00:00Z")
    assert _verify(signed, profile=profile).verdict is Verdict.NOT_VERIFIED  # expired
    as_iri = _renamed(signed, "validUntil", CRED + "validUntil")
    as_iri[CRED + "validUntil"] = {
        "@value": signed["validUntil"],
        "@type": "http://www.w3.org/2001/XMLSchema#dateTime",
    }
    nested = copy.deepcopy(signed)
    nested["@nest"] = {"validUntil": nested.pop("validUntil")}
    for forged in (as_iri, nested):
        report = _verify(forged, profile=profile)
        assert report.verdict is Verdict.NOT_VERIFIED
        assert report.check("validity").outcome.value == "passed"  # the check alone is fooled
        proof = report.check("proof")
        assert proof is not None and proof.code == "not_in_terms", proof


def test_the_status_included_under_the_credentials_id_is_not_verified() -> None:
    signed = _signed()
    included = copy.deepcopy(signed)
    included["@included"] = [
        {"id": signed["id"], "credentialStatus": included.pop("credentialStatus")}
    ]
    report = _verify(included, revoked=True)
    assert report.verdict is Verdict.NOT_VERIFIED
    assert report.check("proof").code == "not_in_terms"
    with pytest.raises(NotInTerms, match="'@included'"):
        expand({k: v for k, v in included.items() if k not in ("proof", "id")})


def test_a_status_moved_under_a_term_an_inline_context_defines_is_not_verified() -> None:
    """The ``vc`` profile takes inline contexts: one may define another name for a term's IRI
    (a protected term cannot be redefined, but a new one can mean the same)."""
    signed = _signed()
    moved = _renamed(signed, "credentialStatus", "status")
    moved["@context"] = [*signed["@context"], {"status": CRED + "credentialStatus"}]
    report = _verify(moved, revoked=True, profile="vc")
    assert report.verdict is Verdict.NOT_VERIFIED
    assert "the key 'status' stands for" in report.reason()


@pytest.mark.parametrize(
    "extra",
    [
        {"@context": {"en": "@index"}, "name": {"@value": "SIGNED", "en": "Doctor of Medicine"}},
        {"@embed": {"name": "Doctor of Medicine"}},  # a framing keyword PyLD drops
        {"@index": "Doctor of Medicine"},
        {"@id": "https://example.org/achievement"},
        {"@type": ["Achievement"]},
        {"@reverse": {"https://example.org/p": {"id": "https://example.org/x"}}},
    ],
    ids=["aliased @index", "@embed", "@index", "@id in a node", "@type in a node", "@reverse"],
)
def test_keywords_out_of_place_are_refused(extra: dict[str, Any]) -> None:
    signed = _signed()
    forged = copy.deepcopy(signed)
    achievement = forged["credentialSubject"]["achievement"]
    for key in ("id", "type") if ("@id" in extra or "@type" in extra) else ():
        achievement.pop(key, None)
    signed_name = achievement["name"]
    achievement.update(copy.deepcopy(extra))
    if isinstance(achievement["name"], dict):  # the signed name beside the unsigned one
        achievement["name"]["@value"] = signed_name
    context = "@context" in extra  # the Open Badges profile refuses the inline context itself
    for profile in PROFILES:
        report = _verify(forged, profile=profile)
        assert report.verdict is Verdict.NOT_VERIFIED, (profile, report.reason())
        if context and profile == "openbadges":
            assert "inline @context inside the credential" in report.reason()
        else:
            proof = report.check("proof")
            assert proof is not None and proof.code == "not_in_terms", (profile, proof)


def test_a_vc_jwt_written_with_a_terms_iri_is_refused_too() -> None:
    """Its signature covers its bytes, so nobody moved anything; but its checks, which read the
    terms, would report no status for a credential its issuer gave one."""
    credential = {**typical_credential(ISSUER), "credentialStatus": status_entry(LIST_URL, 7)}
    token = sign_jwt(
        _renamed(credential, "credentialStatus", CRED + "credentialStatus"), KEY, kid=METHOD
    )
    report = _verify(token, revoked=True)
    assert report.verdict is Verdict.NOT_VERIFIED
    context = report.check("context")
    assert context is not None and context.code == "not_in_terms"


def test_what_real_credentials_write_still_verifies() -> None:
    """Value objects with a language, a direction or a datatype, and an extension property
    written as an IRI no bundled context names."""
    assert _verify(_signed()).verdict is Verdict.VERIFIED
    credential = {
        "@context": [V2],
        "type": ["VerifiableCredential"],
        "issuer": ISSUER,
        "validFrom": "2026-01-01T00:00:00Z",
        "name": {"@value": "Leading People", "@language": "en", "@direction": "ltr"},
        "description": {"@value": "A course.", "@type": "http://www.w3.org/2001/XMLSchema#string"},
        "credentialSubject": {
            "id": "did:example:alice",
            "https://example.org/vocab#cohort": "2026 spring",
        },
        "credentialStatus": status_entry(LIST_URL, 7),
    }
    report = _verify(sign_data_integrity(credential, KEY, METHOD), profile="vc")
    assert report.verdict is Verdict.VERIFIED, report.reason()
    assert report.summary.issuer_id == ISSUER


def test_inline_contexts_anywhere_take_the_reference_path() -> None:
    """The fast path copies a value it takes for an absolute IRI; a prefix an inline context
    defines rewrites it (JSON-LD 1.1 §4.3), so such a document is the reference path's."""
    document = {
        "@context": [V2, "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "urn:uuid:0b7e4b6e-8f7a-4f58-9a0e-2c3d4e5f6a7b",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": ISSUER,
        "credentialSubject": {
            "@context": {"did": "https://evil.example/"},
            "id": "did:example:alice",
        },
    }
    with pytest.raises(Unsupported):
        canonicalize_fast(document)
    reference = canonicalize_reference(document, terms_only=False)
    assert "<https://evil.example/example:alice>" in reference
    assert canonicalize(document, terms_only=False) == reference
    subject = {**typical_credential(ISSUER)["credentialSubject"], "id": "did:example:alice"}
    forged = _signed(credentialSubject=subject)
    assert _verify(forged).verdict is Verdict.VERIFIED
    forged["credentialSubject"] = {"@context": {"did": "https://evil.example/"}, **subject}
    refused = _verify(forged)
    assert refused.verdict is Verdict.NOT_VERIFIED
    assert "inline @context inside the credential" in refused.reason()
    assert _verify(forged, profile="vc").check("proof").outcome.value == "failed"  # other RDF


def test_the_rule_is_the_same_on_both_paths() -> None:
    document = {k: v for k, v in _signed().items() if k != "proof"}
    moved = _renamed(document, "credentialStatus", CRED + "credentialStatus")
    for canonicalise in (canonicalize, canonicalize_reference):
        with pytest.raises(NotInTerms):
            canonicalise(moved)
        assert canonicalise(moved, terms_only=False) == canonicalise(document)


def test_the_bundled_contexts_name_their_iris_and_alias_only_id_and_type() -> None:
    names = bundled_term_names()
    assert names[CRED + "credentialStatus"] == {"credentialStatus"}
    assert names[CRED + "validUntil"] == {"validUntil"}
    assert names["https://schema.org/name"] == {"name"}
    # Every keyword alias in a bundled context is one of KEYWORD_ALIASES: a context that aliased
    # another keyword would make its credentials' keys refused, and must be looked at first.
    seen = {
        (target, key)
        for node in _bundled_objects()
        for key, value in node.items()
        if not key.startswith("@")
        and isinstance(target := value.get("@id") if isinstance(value, dict) else value, str)
        and target.startswith("@")
    }
    assert seen and seen <= set(KEYWORD_ALIASES.items())


def test_generic_expansion_keeps_every_keyword() -> None:
    document = {"@context": {"d": "https://schema.org/description"}, "@graph": [{"d": "x"}]}
    with pytest.raises(NotInTerms):
        expand(document)
    assert expand(document, terms_only=False) == [
        {"https://schema.org/description": [{"@value": "x"}]}
    ]


def test_the_dates_shown_are_the_dates_checked() -> None:
    """A VCDM 1.1 credential's window is ``issuanceDate``/``expirationDate``; its context also
    defines ``validFrom``/``validUntil``, and ``[null]`` there makes no RDF: the summary showed
    those (so "no expiry") while the validity check read the others."""
    credential = typical_credential(ISSUER)
    credential["@context"] = [
        "https://www.w3.org/2018/credentials/v1",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        "https://w3id.org/security/data-integrity/v2",
    ]
    credential["issuanceDate"] = credential.pop("validFrom")
    credential["expirationDate"] = credential.pop("validUntil")
    signed = sign_data_integrity(credential, KEY, METHOD)
    padded = {**signed, "validFrom": [None], "validUntil": [None]}
    for document in (signed, padded):
        report = _verify(document)
        assert report.verdict is Verdict.VERIFIED, report.reason()
        assert report.summary.valid_from == credential["issuanceDate"]
        assert report.summary.valid_until == credential["expirationDate"]


def test_a_name_in_a_value_object_is_shown() -> None:
    credential = {**typical_credential(ISSUER), "credentialStatus": status_entry(LIST_URL, 7)}
    achievement = credential["credentialSubject"]["achievement"]
    named = achievement["name"]
    achievement["name"] = {"@value": named, "@type": "http://www.w3.org/2001/XMLSchema#string"}
    report = _verify(sign_data_integrity(credential, KEY, METHOD), profile="vc")
    assert report.summary.achievement_name == named


def test_a_reverse_term_moving_the_status_into_the_subject_is_not_verified() -> None:
    """An inline term for ``credentialSubject`` as a reverse property lets the subject hold an
    object with the credential's id, its ``validUntil`` and ``credentialStatus``: the same RDF,
    and no check read them (``vc`` profile, and every credential in a presentation)."""
    signed = _signed(validUntil="2026-04-01T00:00:00Z")
    forged = copy.deepcopy(signed)
    subject = forged["credentialSubject"]
    subject["@context"] = {"credentialSubject": {"@reverse": CRED + "credentialSubject"}}
    subject["credentialSubject"] = {
        "id": forged["id"],
        "validUntil": forged.pop("validUntil"),
        "credentialStatus": forged.pop("credentialStatus"),
    }
    report = _verify(forged, revoked=True, profile="vc")
    assert report.verdict is Verdict.NOT_VERIFIED
    assert report.check("proof").code == "not_in_terms"  # (it also describes the credential)
    with pytest.raises(NotInTerms, match="'credentialSubject' is a reverse property"):
        expand({k: v for k, v in forged.items() if k != "proof"})


def test_the_credential_described_by_another_object_is_not_verified() -> None:
    """An endorsement whose subject is the credential itself is the same node: its
    ``validUntil`` and ``credentialStatus`` are signed, and were not checked there."""
    signed = _signed(validUntil="2026-04-01T00:00:00Z")
    assert _verify(signed, revoked=True).verdict is Verdict.NOT_VERIFIED
    forged = copy.deepcopy(signed)
    forged["evidence"] = [
        {
            "id": forged["id"],
            "validUntil": forged.pop("validUntil"),
            "credentialStatus": forged.pop("credentialStatus"),
        }
    ]
    for profile in PROFILES:
        report = _verify(forged, revoked=True, profile=profile)
        assert report.verdict is Verdict.NOT_VERIFIED
        assert "gives the credential's own credentialStatus" in report.reason()
    subject = {"id": "urn:x:1", "type": "EndorsementSubject", "endorsementComment": "Good."}
    check_described_once({"id": "urn:x:1", "evidence": [{"id": "urn:x:1"}, subject]})
    with pytest.raises(NotInTerms, match="gives the credential's own name"):
        check_described_once({"id": "_:c", "evidence": [{"id": "_:c", "name": "x"}]})


def test_an_id_written_as_a_compact_iri_is_not_verified() -> None:
    """``{"u": "urn:uuid:"}`` and ``"id": "u:…"`` are the same IRI to the signature and another
    string to the 1EdTech Revocation List, which compares ids."""
    signed = _signed()
    forged = copy.deepcopy(signed)
    forged["@context"] = [*forged["@context"], {"u": "urn:uuid:"}]
    forged["id"] = "u:" + forged["id"].removeprefix("urn:uuid:")
    report = _verify(forged, profile="vc")
    assert report.verdict is Verdict.NOT_VERIFIED
    assert "writes its IRIs in full" in report.reason()


@pytest.mark.parametrize("profile", PROFILES)
def test_a_key_for_a_blank_node_is_refused(profile: str) -> None:
    """toRdf drops statements whose property is a blank node: what such a key holds is signed
    by nothing, yet it was carried in a credential that verified."""
    forged = copy.deepcopy(_signed())
    forged["credentialSubject"]["achievement"]["_:x"] = ["Doctor of Medicine"]
    report = _verify(forged, profile=profile)
    assert report.verdict is Verdict.NOT_VERIFIED
    assert "is a blank node" in report.reason()


def test_an_id_map_hiding_the_status_is_not_verified() -> None:
    """In an ``@id`` map the key is the inner object's id: an object with the credential's id and
    no ``id`` key, holding its ``validUntil`` and ``credentialStatus``."""
    signed = _signed(validUntil="2026-04-01T00:00:00Z")
    forged = copy.deepcopy(signed)
    forged["@context"] = [
        *forged["@context"],
        {"hide": {"@id": "https://example.org/hide", "@container": "@id"}},
    ]
    forged["hide"] = {
        forged["id"]: {
            "validUntil": forged.pop("validUntil"),
            "credentialStatus": forged.pop("credentialStatus"),
        }
    }
    report = _verify(forged, revoked=True, profile="vc")
    assert report.verdict is Verdict.NOT_VERIFIED
    assert "is a map whose keys" in report.reason()


def test_a_proofs_expiry_moved_onto_a_labelled_copy_is_not_verified() -> None:
    """The proof configuration is checked like the credential: its ``expires`` under another
    object with the proof's label would be signed and not read."""
    from verifier.proof import data_integrity

    credential = {**typical_credential(ISSUER), "credentialStatus": status_entry(LIST_URL, 7)}
    proof = {
        "id": "_:p",
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2026-01-01T00:00:00Z",
        "verificationMethod": METHOD,
        "proofPurpose": "assertionMethod",
        "expires": "2026-04-01T00:00:00Z",
    }
    signed = data_integrity.attach_proof(
        credential, proof, KEY.sign(data_integrity.signing_input(credential, proof))
    )
    assert "the proof expired" in _verify(signed).reason()
    forged = copy.deepcopy(signed)
    moved = forged["proof"][0]
    moved["_:x"] = {"id": "_:p", "type": "DataIntegrityProof", "expires": moved.pop("expires")}
    report = _verify(forged)
    assert report.verdict is Verdict.NOT_VERIFIED
    assert report.check("proof").code == "not_in_terms"  # the described-once rule, or the key's
    with pytest.raises(NotInTerms, match="own expires"):  # whatever would carry it
        check_described_once({"id": "_:p", "nonce": {"id": "_:p", "expires": proof["expires"]}})


def test_the_bundled_contexts_define_no_map_containers() -> None:
    """``MAP_CONTAINERS`` are refused everywhere: a bundled context that defined one would make
    its own credentials unreadable, and must be looked at first."""
    found = set()
    for node in _bundled_objects():
        container = node.get("@container")
        found.update(container if isinstance(container, list) else [container] if container else [])
    assert found and found.isdisjoint(MAP_CONTAINERS)


@pytest.mark.parametrize("profile", PROFILES)
def test_a_word_of_the_vocabulary_written_as_its_iri_is_refused(profile: str) -> None:
    """Under a context's ``@vocab`` (the bundled examples context has one) a plain word is a
    term too: its IRI as the key is the same statement, which a check reading the word (a
    proof's ``expires`` under that vocabulary) would not see."""
    examples = "https://www.w3.org/ns/credentials/examples/v2"
    credential = {**typical_credential(ISSUER), "credentialStatus": status_entry(LIST_URL, 7)}
    credential["@context"] = [*credential["@context"], examples]
    credential["credentialSubject"]["cohort"] = "2026 spring"
    signed = sign_data_integrity(credential, KEY, METHOD)
    assert _verify(signed, profile=profile).verdict is Verdict.VERIFIED
    forged = copy.deepcopy(signed)
    subject = forged["credentialSubject"]
    subject["https://www.w3.org/ns/credentials/examples#cohort"] = subject.pop("cohort")
    report = _verify(forged, profile=profile)
    assert report.verdict is Verdict.NOT_VERIFIED
    assert "which the credential's vocabulary calls 'cohort'" in report.reason()


def _bundled_objects() -> Iterator[dict[str, Any]]:
    """Every JSON object in every bundled context (term definitions, scoped contexts…)."""
    stack: list[Any] = [_load_bundled(url) for url in bundled_context_index()]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
