"""The remembered canonical proof configuration (``verifier.jsonld.canonicalize_memo``) is
exactly what ``canonicalize`` gives, so a signature always covers the canonical form: the memo
against an uncached canonicalisation over every vector's proof config and the Hypothesis
credentials of ``test_canonical_differential``, and signing inputs built through it against the
ones built from two plain canonicalisations."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from issuer.crypto.signing import proof_options, sign_data_integrity
from tests.verifier.test_canonical_differential import _vector_documents, credentials
from verifier import canonicalize, jsonld
from verifier.errors import JsonLdError
from verifier.jsonld import canonicalize_memo, clear_memo, use_reference_canonicalizer
from verifier.multibase import b58decode
from verifier.proof.data_integrity import hash_data, proof_config, signing_input, unsigned

KEY = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
METHOD = "did:key:z6MkTest#z6MkTest"


def _outcome(function: Any, document: Any) -> str:
    try:
        return str(function(copy.deepcopy(document)))
    except JsonLdError as exc:
        return f"JsonLdError {type(exc).__name__}"


def _memo_twice_equals_plain(document: dict[str, Any]) -> None:
    plain = _outcome(canonicalize, document)
    clear_memo()
    assert _outcome(canonicalize_memo, document) == plain  # computed
    assert _outcome(canonicalize_memo, document) == plain  # remembered (or failed again)


@pytest.mark.parametrize(("name", "document"), _vector_documents(), ids=lambda v: str(v)[:60])
def test_vectors(name: str, document: dict[str, Any]) -> None:
    _memo_twice_equals_plain(document)


def _plain_signing_input(document: dict[str, Any], options: dict[str, Any]) -> bytes:
    doc = unsigned(document)
    return hash_data(canonicalize(doc), canonicalize(proof_config(doc, options)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(credentials(), st.sampled_from(["2026-12-02T00:00:00Z", "2026-12-02T00:00:01Z"]))
def test_signing_input_through_the_memo_is_the_plain_one(
    credential: dict[str, Any], created: str
) -> None:
    options = proof_options(METHOD, created)
    try:
        expected = _plain_signing_input(credential, options)
    except JsonLdError:
        return
    assert signing_input(credential, options) == expected  # memo filled or hit
    assert signing_input(credential, options) == expected  # hit
    signed = sign_data_integrity(credential, KEY, METHOD, created=created)
    value = signed["proof"][-1]["proofValue"]
    KEY.public_key().verify(b58decode(value[1:]), expected)


def test_every_json_value_is_told_apart() -> None:
    clear_memo()
    base = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "DataIntegrityProof"}
    seen = {}
    for value in (1, 1.0, "1", True, None, "2026-12-02T00:00:00Z"):
        config = {**base, "created": value}
        seen[repr(value)] = _outcome(canonicalize_memo, config)
        clear_memo()
        assert _outcome(canonicalize, config) == seen[repr(value)]
    # and with everything remembered at once, each answer is still its own
    for value in (1, 1.0, "1", True, None, "2026-12-02T00:00:00Z"):
        assert _outcome(canonicalize_memo, {**base, "created": value}) == seen[repr(value)]


def test_what_is_not_plain_json_is_not_remembered() -> None:
    clear_memo()
    config = proof_options(METHOD, "2026-12-02T00:00:00Z")
    config["@context"] = ["https://www.w3.org/ns/credentials/v2"]
    canonicalize_memo(config)  # remembered as JSON text...
    assert len(jsonld._memo) == 1
    config["@context"] = ("https://www.w3.org/ns/credentials/v2",)  # ...that a tuple shares
    with pytest.raises(JsonLdError):  # which canonicalize refuses: not answered from the memo
        canonicalize_memo(config)
    clear_memo()
    large = {**config, "@context": ["https://www.w3.org/ns/credentials/v2"]}
    large["nonce"] = "x" * jsonld.MEMO_MAX_CHARS
    canonicalize_memo(large)
    assert len(jsonld._memo) == 0
    small = {**large, "nonce": "x"}
    canonicalize_memo(small)
    assert len(jsonld._memo) == 1


def test_failures_are_not_remembered() -> None:
    clear_memo()
    bad = {"@context": ["https://example.com/unbundled"], "type": "DataIntegrityProof"}
    for _ in range(2):
        with pytest.raises(JsonLdError):
            canonicalize_memo(bad)
    assert len(jsonld._memo) == 0


def test_the_memo_is_bounded_and_keeps_the_reference_switch_apart() -> None:
    clear_memo()
    for n in range(jsonld.MEMO_ENTRIES + 10):
        canonicalize_memo(
            {
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "type": "DataIntegrityProof",
                "created": f"2026-12-02T00:00:{n % 60:02d}Z",
                "nonce": str(n),
            }
        )
    assert len(jsonld._memo) == jsonld.MEMO_ENTRIES
    clear_memo()
    config = {**proof_options(METHOD, "2026-12-02T00:00:00Z")}
    config["@context"] = ["https://www.w3.org/ns/credentials/v2"]
    fast = canonicalize_memo(config)
    use_reference_canonicalizer()
    try:
        assert canonicalize_memo(config) == fast
    finally:
        use_reference_canonicalizer(False)
    assert len(jsonld._memo) == 2
