"""Regression tests (audit 11): a JSON-LD ``@language`` was written into the canonical N-Quads as
it was (PyLD only lower-cases it), so a "tag" holding `` .\\n<s> <p> "o"`` added a quad. A signed
statement could then be deleted from a credential and put back inside a language tag: the same
canonical form, the same signature, a tampered credential reported as verified. Language tags
must be tags, and datatypes IRIs, both where a document is expanded and where a quad is written."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from issuer.crypto.keys import did_key, did_key_method, generate_ed25519
from issuer.crypto.signing import sign_data_integrity
from tests.issuer.credentials import make_credential
from verifier import Verdict, canonicalize, verify_credential
from verifier.errors import JsonLdError
from verifier.nquads import RDF_LANGSTRING, serialize_nquad

MOTTO, NOTE = "https://ext.example/motto", "https://ext.example/note"


def _document(value: Any) -> dict[str, Any]:
    return {"@context": {"@vocab": "https://ext.example/"}, "@id": "urn:a", "motto": value}


def test_a_statement_hidden_in_a_language_tag_does_not_keep_the_signature() -> None:
    key = generate_ed25519()
    credential = make_credential(did_key(key))
    credential["issuer"][MOTTO] = {"@value": "lux", "@language": "la"}
    credential["issuer"][NOTE] = "accreditation withdrawn"
    signed = sign_data_integrity(credential, key, did_key_method(key))
    assert verify_credential(signed).verdict is Verdict.VERIFIED
    issuer = signed["issuer"]["id"]

    tampered = copy.deepcopy(signed)
    del tampered["issuer"][NOTE]
    hidden = f'la .\n<{issuer}> <{NOTE}> "accreditation withdrawn"'
    tampered["issuer"][MOTTO] = {"@value": "lux", "@language": hidden}
    report = verify_credential(tampered)
    assert report.verdict is not Verdict.VERIFIED
    assert "is not a language tag" in report.reason()


@pytest.mark.parametrize(
    "value",
    [
        {"@value": "x", "@language": "en .\n<urn:a> <urn:b> <urn:c>"},
        {"@value": "x", "@language": "en us"},
        {"@value": "x", "@language": 'en"'},
        {"@value": "x", "@type": "urn:type><urn:c"},
    ],
)
def test_a_language_tag_or_datatype_that_is_not_one_is_refused(value: dict[str, Any]) -> None:
    with pytest.raises(JsonLdError, match=r"language tag|valid IRI"):
        canonicalize(_document(value), terms_only=False)


def test_a_language_from_the_context_or_a_language_map_is_a_tag_too() -> None:
    inline = {
        "@context": {"@vocab": "https://ext.example/", "@language": "en .\n<urn:a> <urn:b> <urn:c>"}
    }
    with pytest.raises(JsonLdError, match="language tag"):
        canonicalize({**inline, "@id": "urn:a", "motto": "x"}, terms_only=False)
    mapped = {
        "@context": {"@vocab": "https://ext.example/", "motto": {"@container": "@language"}},
        "@id": "urn:a",
        "motto": {"en .\n<urn:a> <urn:b> <urn:c>": "x"},
    }
    with pytest.raises(JsonLdError, match="language tag"):
        canonicalize(mapped, terms_only=False)


def test_well_formed_tags_are_written_as_before() -> None:
    assert canonicalize(_document({"@value": "x", "@language": "en-US"}), terms_only=False) == (
        '<urn:a> <https://ext.example/motto> "x"@en-us .\n'
    )
    assert canonicalize(
        _document({"@value": "ko", "@language": "ko-Kore-KR"}), terms_only=False
    ).endswith('"ko"@ko-kore-kr .\n')


def test_the_serialiser_refuses_what_expansion_would_have() -> None:
    """Defence in depth: whatever reaches the writer of the signed bytes."""
    quad = {
        "subject": {"type": "IRI", "value": "urn:a"},
        "predicate": {"type": "IRI", "value": "urn:b"},
        "object": {
            "type": "literal",
            "value": "x",
            "datatype": RDF_LANGSTRING,
            "language": "en .\n<urn:a> <urn:b> <urn:c>",
        },
    }
    with pytest.raises(JsonLdError, match="language tag"):
        serialize_nquad(quad)
    quad["object"] = {"type": "literal", "value": "x", "datatype": "urn:t> <urn:u"}
    with pytest.raises(JsonLdError, match="valid IRI"):
        serialize_nquad(quad)
