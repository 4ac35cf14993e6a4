"""The fast canonicaliser gives byte-identical N-Quads to the reference path (PyLD) on every
input it accepts, and every other input falls back: vectors, Laurel-shaped credentials and a
Hypothesis generator of OB 3.0 credentials with the awkward parts (unicode, control characters,
odd numbers and dates, duplicate values, identical blank nodes, undefined terms). The JSON-LD
check of a VC-JWT (``check_processing``) fails on exactly the same inputs."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.issuer.credentials import make_credential
from tests.vectors import VECTORS
from verifier import canonicalize
from verifier.errors import JsonLdError
from verifier.fastcanon import Unsupported, canonicalize_fast, check_fast, quads_fast
from verifier.jsonld import (
    canonicalize_reference,
    check_processing,
    use_reference_canonicalizer,
)
from verifier.proof.data_integrity import proof_config


def _outcome(function: Any, document: dict[str, Any]) -> str:
    try:
        return str(function(copy.deepcopy(document)))
    except JsonLdError:
        return "JsonLdError"


def _processed(document: dict[str, Any]) -> str:
    check_processing(document)
    return "processed"


def assert_same(document: dict[str, Any]) -> None:
    reference = _outcome(canonicalize_reference, document)
    assert _outcome(canonicalize, document) == reference
    # The check a VC-JWT gets (expansion and toRdf, no RDFC-1.0) fails exactly when
    # canonicalisation does.
    processed = _outcome(_processed, document)
    assert processed == ("JsonLdError" if reference == "JsonLdError" else "processed")
    # The fast path's check alone (no dataset made) refuses exactly what making the dataset does.
    assert _raised(check_fast, document) == _raised(quads_fast, document)
    try:
        fast = canonicalize_fast(copy.deepcopy(document))
    except (Unsupported, JsonLdError):
        return
    assert fast == reference


def _raised(function: Any, document: dict[str, Any]) -> str | None:
    try:
        function(copy.deepcopy(document))
    except Exception as exc:  # any difference in what is raised is a failure
        return f"{type(exc).__name__}: {exc}"
    return None


def _vector_documents() -> list[tuple[str, dict[str, Any]]]:
    documents = []
    for path in sorted(VECTORS.rglob("*.json")):
        data = json.loads(path.read_text("utf-8"))
        if not isinstance(data, dict) or "@context" not in data:
            continue
        name = str(path.relative_to(VECTORS))
        documents.append((name, data))
        unsigned = {k: v for k, v in data.items() if k != "proof"}
        documents.append((f"{name} (unsigned)", unsigned))
        proofs = data.get("proof", [])
        for i, proof in enumerate(proofs if isinstance(proofs, list) else [proofs]):
            documents.append((f"{name} (proof config {i})", proof_config(data, proof)))
    return documents


@pytest.mark.parametrize(("name", "document"), _vector_documents(), ids=lambda v: str(v)[:60])
def test_vectors(name: str, document: dict[str, Any]) -> None:
    assert_same(document)


def test_the_fast_path_handles_a_typical_badge_and_its_proof_config() -> None:
    credential = make_credential("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")
    assert canonicalize_fast(credential) == canonicalize_reference(credential)
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2026-01-15T09:00:00Z",
        "verificationMethod": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#k",
        "proofPurpose": "assertionMethod",
    }
    config = proof_config(credential, options)
    assert canonicalize_fast(config) == canonicalize_reference(config)


def test_same_shape_with_other_values_reuses_the_template_correctly() -> None:
    first = make_credential("https://a.example/issuers/1")
    second = make_credential("urn:uuid:3f2c0a9e-1b7d-4e6a-9c8b-7a6d5e4f3c2b", name="Other")
    second["credentialSubject"]["achievement"]["name"] = "Leading Change"
    for document in (first, second, first):
        assert canonicalize_fast(document) == canonicalize_reference(document)


@pytest.mark.parametrize("value", ["urn:x-laurel-sentinel:0", "\ue0000\ue001", "a\ue001"])
def test_sentinel_material_is_refused_every_time_never_remembered(value: str) -> None:
    """The skeleton remembers what kind a string is; a string that looks like a sentinel must be
    refused by the fast path on every sight (else a template would read it as a slot)."""
    credential = make_credential("https://a.example/issuers/1")
    credential["credentialSubject"]["achievement"]["name"] = value
    for _ in range(3):
        with pytest.raises(Unsupported):
            canonicalize_fast(credential)
        assert canonicalize(credential) == canonicalize_reference(credential)


class _Text(str):
    """A ``str`` subclass, as a library caller's enum or wrapper may pass."""


@pytest.mark.parametrize("value", [1, 1.5, True, 0.0, -0.0, "1", None])
def test_templates_are_told_apart_by_their_values_types(value: Any) -> None:
    """Templates are cached by a key of the skeleton (``marshal`` format 2): values the
    skeleton keeps as they are (``1.5``, ``True``, ``None``…) must give different keys, so each
    document gets its own template, and a ``str`` subclass (which ``marshal`` refuses) is keyed
    by its JSON instead."""
    for first in (value, _Text("Seoul")):
        credential = make_credential("https://a.example/issuers/1")
        credential["credentialSubject"]["achievement"]["creditsAvailable"] = first
        credential["credentialSubject"]["achievement"]["name"] = _Text("Leading Change")
        assert_same(credential)
        assert_same(json.loads(json.dumps(credential)))


def test_a_node_naming_a_blank_node_twice_is_hashed_as_the_reference_does() -> None:
    """A quad whose subject and object are the same blank node counts twice in that node's
    first-degree hash (RDFC-1.0 §4.4 step 2); the fast path writes each term once and must
    still hash it twice."""
    credential = make_credential("https://a.example/issuers/1")
    credential["evidence"] = [
        {"id": "_:e", "type": ["Evidence"], "name": "itself", "related": {"id": "_:e"}},
        {"id": "_:f", "type": ["Evidence"], "name": "other", "related": {"id": "_:e"}},
    ]
    credential["@context"] = [
        *credential["@context"],
        "https://www.w3.org/ns/credentials/examples/v2",
    ]
    assert_same(credential)


def test_reference_path_is_selectable() -> None:
    credential = make_credential("https://a.example/issuers/1")
    use_reference_canonicalizer(True)
    try:
        assert canonicalize(credential) == canonicalize_reference(credential)
    finally:
        use_reference_canonicalizer(False)


def test_blank_node_labels_take_the_fast_path() -> None:
    """Regression (issue 13): evidence with ``"id": "_:bN"`` sent every such credential to the
    reference path, whose node map is quadratic in the number of values of one property (8,000
    entries took 16 s). Labels are blank nodes on the fast path too; one label is one node."""
    credential = make_credential("https://a.example/issuers/1")
    credential["evidence"] = [
        {"id": "_:b1", "type": ["Evidence"], "name": "first"},
        {"id": "_:b0", "type": ["Evidence"], "name": "second"},
        {"id": "_:b1", "type": ["Evidence"], "narrative": "the first again"},
        {"type": ["Evidence"], "name": "unlabelled"},
    ]
    fast = canonicalize_fast(copy.deepcopy(credential))
    assert fast == canonicalize_reference(credential)
    assert fast.count("<https://purl.imsglobal.org/spec/vc/ob/vocab.html#Evidence>") == 3


def test_dropped_terms_still_fail_on_both_paths() -> None:
    credential = make_credential("https://a.example/issuers/1", undefinedTerm="x")
    with pytest.raises(JsonLdError):
        canonicalize(credential)
    credential = make_credential("https://a.example/issuers/1", id="relative/id")
    with pytest.raises(JsonLdError):
        canonicalize(credential)


# --- Hypothesis ---------------------------------------------------------------------------------

text = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=24)
awkward_text = st.one_of(
    text,
    st.sampled_from(
        [
            "",
            "@id",
            "@context",
            "Completed",
            "ceasn:Competency",
            "xsd:string",
            "did:key:z6Mk",
            "https://example.org/a b",
            "_:b0",
            "urn:x-laurel-sentinel:0",
            "\ue0000\ue001",
            "line\u000bbreak",
            "C:\\path",
            'say "hi"',
            "리더십",
        ]
    ),
)
numbers = st.one_of(
    st.integers(-(10**6), 10**6),
    st.sampled_from([0, -0.0, 0.1, 1.5, 24.0, 1e-7, 1e21, 10**21, 2**53 + 1, -(2**63)]),
    st.floats(allow_nan=False, allow_infinity=False),
)
dates = st.sampled_from(
    [
        "2026-01-15T09:00:00Z",
        "2026-01-15T09:00:00.123456+09:00",
        "1900-02-28T00:00:00-12:00",
        "2024-02-29T23:59:60Z",
        "not a date",
        "2026-01-15",
    ]
)
urls = st.sampled_from(
    [
        "https://example.org/a",
        "https://example.org/a#frag",
        "urn:uuid:0e4a1f5c",
        "did:web:x.org",
        "data:text/plain,hello",
        "relative/path",
        "https://example.org/x",
        "mailto:a@example.org",
    ]
)
alignment = st.fixed_dictionaries(
    {"type": st.just(["Alignment"]), "targetName": awkward_text, "targetUrl": urls},
    optional={
        "targetCode": awkward_text,
        "targetType": st.sampled_from(["ceasn:Competency", "CFItem", "ext:Custom"]),
        "targetFramework": awkward_text,
    },
)
result = st.fixed_dictionaries(
    {"type": st.just(["Result"])},
    optional={
        "value": awkward_text,
        "status": st.sampled_from(["Completed", "InProgress"]),
        "resultDescription": urls,
        "alignment": st.lists(alignment, max_size=2),
    },
)
labels = st.sampled_from(["_:e0", "_:e1", "_:b0", "_:c14n0", "_:"])
evidence = st.fixed_dictionaries(
    {"type": st.just(["Evidence"])},
    optional={"id": st.one_of(urls, labels), "narrative": awkward_text, "name": awkward_text},
)
endorsement = st.builds(
    lambda issuer, comment: {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:aa11",
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "name": "Endorsement",
        "issuer": {"id": issuer, "type": ["Profile"]},
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "urn:uuid:bb22",
            "type": ["EndorsementSubject"],
            "endorsementComment": comment,
        },
    },
    urls,
    awkward_text,
)


@st.composite
def credentials(draw: st.DrawFn) -> dict[str, Any]:
    credential = make_credential(draw(urls), name=draw(awkward_text), validFrom=draw(dates))
    subject = credential["credentialSubject"]
    achievement = subject["achievement"]
    achievement["name"] = draw(awkward_text)
    if draw(st.booleans()):
        achievement["alignment"] = draw(st.lists(alignment, max_size=3))
        if achievement["alignment"] and draw(st.booleans()):
            achievement["alignment"].append(copy.deepcopy(achievement["alignment"][0]))
    if draw(st.booleans()):
        achievement["creditsAvailable"] = draw(numbers)
    if draw(st.booleans()):
        subject["creditsEarned"] = draw(numbers)
    if draw(st.booleans()):
        subject["result"] = draw(st.lists(result, max_size=3))
    if draw(st.booleans()):
        credential["evidence"] = draw(st.lists(evidence, max_size=3))
    if draw(st.booleans()):
        achievement["tag"] = draw(st.lists(awkward_text, max_size=3))
    if draw(st.booleans()):
        credential["endorsement"] = draw(st.lists(endorsement, max_size=1))
    if draw(st.booleans()):
        del subject["id"]
    elif draw(st.integers(0, 4)) == 0:
        subject["id"] = draw(labels)
    if draw(st.booleans()):
        subject["identifier"][0]["hashed"] = draw(st.sampled_from([True, False, "true", 1]))
    if draw(st.integers(0, 9)) == 0:
        credential[draw(st.sampled_from(["https://example.org/custom", "custom", "ex:y"]))] = draw(
            awkward_text
        )
    if draw(st.integers(0, 9)) == 0:
        credential["@context"].append("https://purl.imsglobal.org/spec/ob/v3p0/extensions.json")
    return credential


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(credentials())
def test_generated_credentials(credential: dict[str, Any]) -> None:
    assert_same(credential)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=12),
        st.sampled_from(["http://x", "_:b", "a:b c", "a:b\n", "1a:b", "A+-.:x", "a:b\u00a0"]),
        st.integers(),
        st.none(),
    )
)
def test_absolute_iri_is_pyld_s(value: Any) -> None:
    """The fast path's compiled copy of PyLD's absolute-IRI test answers as PyLD's does."""
    from pyld.jsonld import _is_absolute_iri as pyld_is_absolute_iri

    from verifier.fastcanon import _is_absolute_iri

    assert _is_absolute_iri(value) == bool(pyld_is_absolute_iri(value))


@pytest.mark.parametrize("count", [1, 3, 12], ids=["one", "three", "twelve with repeats"])
def test_graph_containers_take_the_fast_path(count: int) -> None:
    """A CLR's nested credentials and their embedded proofs are graph objects: each puts its
    nodes in a graph named by a blank node. The fast path gives the reference bytes for them
    (past ten, the transcript repeats badges, so identical graphs need the full RDFC-1.0)."""
    from tests.verifier.test_embedded import badge, clr

    signed = badge(0)
    assert canonicalize_fast(copy.deepcopy(signed)) == canonicalize_reference(signed)
    document = clr([badge(i % 10) for i in range(count)])
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    fast = canonicalize_fast(copy.deepcopy(unsigned))  # Unsupported would fail the test
    assert fast == canonicalize_reference(unsigned)
