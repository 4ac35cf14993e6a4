"""The compiled schema validator (jsonschema-rs) changes no verdict and no word of a report.

``verifier.schema.validate`` lets the compiled validator accept documents first and leaves every
other one to the reference validator (``jsonschema``), which decides and explains. So the two
paths give the same result exactly when whatever the compiled validator accepts, the reference
accepts too. Both are run over every vector (this repository's copy and ``shared/spec/vectors``),
the documents inside JWT vectors, and two Hypothesis generators: the canonicaliser's awkward OB
3.0 credentials, and those with one leaf replaced, wrapped, unwrapped or removed — which is how
schema violations are made. Documents the compiled validator rejects while the reference accepts
(ECMA-262 ``pattern``: ASCII ``\\d``, no ``$`` before a final newline) are shown to be decided by
the reference.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.issuer.credentials import make_credential
from tests.vectors import NOW, VECTORS
from tests.verifier.test_canonical_differential import credentials as awkward_credentials
from verifier import schema as schema_module
from verifier import verify_credential
from verifier.checks import types_of
from verifier.errors import VerifierError
from verifier.fetch import NO_NETWORK
from verifier.schema import use_compiled_validator, validate

SHARED_VECTORS = Path(__file__).resolve().parents[2] / ".." / "shared" / "spec" / "vectors"
SCHEMA_FILES = sorted(
    {
        *schema_module._index().values(),
        "achievementcredential.json",
        "endorsementcredential.json",
    }
)
TYPE_CHOICES: list[list[str]] = [
    ["OpenBadgeCredential"],
    ["EndorsementCredential"],
    ["AchievementCredential"],
]


def _outcome(document: dict[str, Any], types: list[str], compiled: bool) -> tuple[str, str]:
    use_compiled_validator(compiled)
    try:
        return ("passed", validate(copy.deepcopy(document), types))
    except VerifierError as exc:
        return (type(exc).__name__, str(exc))
    finally:
        use_compiled_validator(True)


def assert_same(document: dict[str, Any]) -> None:
    """The same outcome and message on both paths, for the document's own types and each OB
    type, and the compiled validator accepting nothing the reference rejects."""
    for types in [types_of(document), *TYPE_CHOICES]:
        assert _outcome(document, types, True) == _outcome(document, types, False), types
    for name in SCHEMA_FILES:
        if schema_module._compiled(name).is_valid(document):
            assert schema_module._validator(name).is_valid(document), name


def _jwt_payloads(text: str) -> Iterator[dict[str, Any]]:
    parts = text.strip().split(".")
    if len(parts) != 3:
        return
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return
    if isinstance(payload, dict):
        yield payload
        if isinstance(payload.get("vc"), dict):
            yield payload["vc"]


def _vector_documents() -> list[tuple[str, dict[str, Any]]]:
    documents = []
    for root in (VECTORS, SHARED_VECTORS):
        for path in sorted(root.rglob("*")):
            if path.suffix not in (".json", ".jwt") or not path.is_file():
                continue
            text = path.read_text("utf-8")
            name = f"{root.name}/{path.relative_to(root)}"
            if path.suffix == ".jwt":
                documents += [(f"{name} (payload)", p) for p in _jwt_payloads(text)]
                continue
            data = json.loads(text)
            if isinstance(data, dict) and ("@context" in data or "type" in data):
                documents.append((name, data))
    return documents


VECTOR_DOCUMENTS = _vector_documents()


def test_there_are_vectors_from_both_copies() -> None:
    names = [name for name, _ in VECTOR_DOCUMENTS]
    assert sum(name.startswith("vectors/") for name in names) >= 30
    assert len(names) >= 60


@pytest.mark.parametrize(("name", "document"), VECTOR_DOCUMENTS, ids=lambda v: str(v)[:60])
def test_vectors(name: str, document: dict[str, Any]) -> None:
    assert_same(document)


def test_vectors_give_the_same_reports() -> None:
    """The whole report, byte for byte, with and without the compiled validator."""
    from tests.vectors import offline_world

    for name, document in VECTOR_DOCUMENTS:
        reports = []
        for compiled in (True, False):
            use_compiled_validator(compiled)
            try:
                report = verify_credential(copy.deepcopy(document), **offline_world())
            finally:
                use_compiled_validator(True)
            reports.append(json.dumps(report.to_dict(), sort_keys=True, default=str))
        assert reports[0] == reports[1], name


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("credentialSubject", "achievement", "inLanguage"), "en\n"),
        (("@context", 1), "https://purl.imsglobal.org/spec/ob/v3p0/context-3.\u0660.3.json"),
        (("@context", 1), "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json\n"),
    ],
)
def test_ecma_patterns_are_decided_by_the_reference(where: tuple[Any, ...], value: str) -> None:
    """Where ECMA-262 and Python regular expressions differ, the compiled validator rejects and
    the reference (which accepts) decides: the result is the reference's."""
    document = make_credential("https://example.org/issuer")
    holder: Any = document
    for step in where[:-1]:
        holder = holder[step]
    holder[where[-1]] = value
    name = "achievementcredential.json"
    assert not schema_module._compiled(name).is_valid(document)
    assert schema_module._validator(name).is_valid(document)
    assert _outcome(document, ["OpenBadgeCredential"], True)[0] == "passed"
    assert_same(document)


def test_formats_are_annotations_on_both_paths() -> None:
    document = make_credential("https://example.org/issuer", validFrom="not a date")
    assert schema_module._compiled("achievementcredential.json").is_valid(document)
    assert _outcome(document, ["OpenBadgeCredential"], True)[0] == "passed"
    assert_same(document)


def test_a_violation_reads_the_same() -> None:
    document = make_credential("https://example.org/issuer")
    document["credentialSubject"]["achievement"]["criteria"] = 7
    outcome = _outcome(document, ["OpenBadgeCredential"], True)
    assert outcome[0] == "SchemaViolation"
    assert "criteria" in outcome[1]
    assert_same(document)


def test_the_compiled_validator_is_used() -> None:
    """A valid credential never reaches the reference validator."""
    document = make_credential("https://example.org/issuer")
    calls = []
    original = schema_module._validator

    def counting(name: str) -> Any:
        calls.append(name)
        return original(name)

    schema_module._validator = counting  # type: ignore[assignment]
    try:
        assert validate(document, ["OpenBadgeCredential"]).startswith("conforms")
        assert calls == []
        use_compiled_validator(False)
        validate(document, ["OpenBadgeCredential"])
        assert calls == ["achievementcredential.json"]
    finally:
        schema_module._validator = original
        use_compiled_validator(True)


def test_unreadable_documents_go_to_the_reference() -> None:
    document: dict[Any, Any] = make_credential("https://example.org/issuer")
    document[1] = "a key that is not text"
    assert not schema_module._accepted("achievementcredential.json", document)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*path, index))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """An awkward credential with one to three places replaced, wrapped in an array, taken out of
    one, or removed."""
    document = copy.deepcopy(draw(awkward_credentials()))  # the generator shares some lists
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(document)
        path = draw(st.sampled_from(paths))
        holder: Any = document
        for step in path[:-1]:
            holder = holder[step]
        last = path[-1]
        action = draw(st.sampled_from(["replace", "wrap", "unwrap", "remove", "pattern"]))
        if action == "replace":
            holder[last] = draw(json_values)
        elif action == "wrap":
            holder[last] = [holder[last]]
        elif action == "unwrap" and isinstance(holder[last], list) and holder[last]:
            holder[last] = holder[last][0]
        elif action == "remove" and isinstance(holder, dict):
            del holder[last]
        elif action == "pattern":
            holder[last] = draw(st.sampled_from(["en", "en\n", "ext:x", "a.b.c", "zh-Hant-TW"]))
    return document


PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(awkward_credentials())
def test_generated_credentials(credential: dict[str, Any]) -> None:
    assert_same(credential)


@PROPERTY_SETTINGS
@given(mutated())
def test_mutated_credentials(credential: dict[str, Any]) -> None:
    assert_same(credential)


def test_a_signed_credential_verifies_the_same_with_either_validator() -> None:
    from issuer.crypto.keys import did_key, did_key_method, ed25519_from_seed
    from issuer.crypto.signing import sign_data_integrity

    key = ed25519_from_seed(bytes(range(32)))
    signed = sign_data_integrity(make_credential(did_key(key)), key, did_key_method(key))
    reports = []
    for compiled in (True, False):
        use_compiled_validator(compiled)
        try:
            report = verify_credential(signed, now=NOW, fetcher=NO_NETWORK)
        finally:
            use_compiled_validator(True)
        reports.append(json.dumps(report.to_dict(), sort_keys=True, default=str))
    assert reports[0] == reports[1]
    assert '"verdict": "verified"' in reports[0]
