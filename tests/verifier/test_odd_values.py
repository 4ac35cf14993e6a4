"""Odd JSON values anywhere in a credential never make ``verify_credential`` raise.

``verify_credential`` promises a report for any input. PyLD, jsonschema and the proof code each
have values they trip over (an integer beyond a double's range, an empty or relative
``@context``, a sentinel-looking string, a list where an object belongs): Hypothesis puts such
values, alone or nested, in the places of a sound, signed credential and checks that the answer is
always a report with a reason, given as a dict and as JSON text alike, and never fetches.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.verifier.test_bad_input import (
    LEADING_CHANGE,
    NOW,
    RecordingFetcher,
    assert_human_reason,
)
from verifier import Verdict, verify_credential

odd_text = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "foo.json",
            "./context.json",
            "#frag",
            "?q",
            "//example.org/x",
            ":x",
            "_:b0",
            "_:",
            "@id",
            "@context",
            "@type",
            "@vocab",
            "@json",
            "urn:x-laurel-sentinel:0",
            "\ue0000\ue001",
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
            "https://evil.example/context.jsonld",
            "did:key:z6Mk",
            "https://example.org/a b",
            "https://example.org/<x>",
            "line\u000bbreak\u0000",
            "2026-01-15T09:00:00Z",
            "9999-12-31T23:59:59Z",
            "z",
            "z111",
        ]
    ),
    st.text(max_size=12),
)
odd_numbers = st.one_of(
    st.sampled_from(
        [
            10**400,
            -(10**400),
            2**1024,
            2**1024 - 1,
            10**308,
            2**53 + 1,
            -(2**63),
            1e308,
            -0.0,
            5e-324,
            1e21,
            0,
            True,
            False,
        ]
    ),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
)
odd_keys = st.sampled_from(
    [
        "@context",
        "@id",
        "@type",
        "@value",
        "@list",
        "@set",
        "@graph",
        "@language",
        "@json",
        "@included",
        "@reverse",
        "@nest",
        "id",
        "type",
        "name",
        "creditsEarned",
        "proof",
        "credentialStatus",
        "verifiableCredential",
        "endorsement",
        "https://example.org/term",
        "",
        "undefinedTerm",
    ]
)
odd_values = st.recursive(
    st.one_of(st.none(), odd_numbers, odd_text),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.one_of(odd_keys, st.text(max_size=5)), children, max_size=3),
    ),
    max_leaves=8,
)

# Where a value goes: a path to an object in the credential, then a key in it.
PLACES = [
    ((), "@context"),
    ((), "id"),
    ((), "type"),
    ((), "name"),
    ((), "issuer"),
    ((), "validFrom"),
    ((), "validUntil"),
    ((), "credentialSubject"),
    ((), "credentialStatus"),
    ((), "credentialSchema"),
    ((), "endorsement"),
    ((), "evidence"),
    ((), "proof"),
    ((), "undefinedTerm"),
    (("issuer",), "id"),
    (("issuer",), "name"),
    (("issuer",), "@context"),
    (("credentialSubject",), "id"),
    (("credentialSubject",), "creditsEarned"),
    (("credentialSubject",), "identifier"),
    (("credentialSubject",), "achievement"),
    (("credentialSubject",), "verifiableCredential"),
    (("credentialSubject",), "@context"),
    (("credentialSubject", "achievement"), "name"),
    (("credentialSubject", "achievement"), "alignment"),
    (("credentialSubject", "achievement"), "creditsAvailable"),
    (("proof", 0), "proofValue"),
    (("proof", 0), "verificationMethod"),
    (("proof", 0), "created"),
    (("proof", 0), "cryptosuite"),
    (("proof", 0), "@context"),
    (("proof", 0), "extra"),
]
changes = st.lists(st.tuples(st.sampled_from(PLACES), odd_values), min_size=1, max_size=3)


def _apply(credential: dict[str, Any], place: tuple[tuple[Any, ...], str], value: Any) -> None:
    """Set ``key`` in the object at ``path``, if an earlier change has not replaced that object."""
    path, key = place
    node: Any = credential
    for step in path:
        if isinstance(node, dict) and isinstance(step, str):
            node = node.get(step)
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
        else:
            return
    if isinstance(node, dict):
        node[key] = copy.deepcopy(value)


def _assert_a_report(source: Any) -> None:
    fetcher = RecordingFetcher()
    report = verify_credential(source, now=NOW, fetcher=fetcher)
    if report.verdict is not Verdict.VERIFIED:
        assert_human_reason(report)
    json.dumps(report.to_dict())
    assert fetcher.urls == []


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(changes=changes)
def test_odd_values_in_a_signed_credential_give_a_report(
    changes: list[tuple[tuple[tuple[Any, ...], str], Any]],
) -> None:
    credential = copy.deepcopy(LEADING_CHANGE)
    for place, value in changes:
        _apply(credential, place, value)
    _assert_a_report(credential)
    _assert_a_report(json.dumps(credential))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(extra=st.lists(odd_text, min_size=1, max_size=3), replace=st.booleans())
def test_odd_context_entries_give_a_report(extra: list[str], replace: bool) -> None:
    """The ``@context`` array with odd strings added (or in its place): empty, relative, unknown."""
    credential = copy.deepcopy(LEADING_CHANGE)
    credential["@context"] = extra if replace else [*credential["@context"], *extra]
    _assert_a_report(credential)
