"""Property tests: any credential Laurel signs verifies; any single change to it fails."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from issuer.crypto.keys import did_key, did_key_method, ed25519_from_seed
from issuer.crypto.signing import sign_data_integrity
from tests.issuer.credentials import make_credential
from tests.vectors import NOW
from verifier import Verdict, verify_credential
from verifier.fetch import NO_NETWORK

KEY = ed25519_from_seed(bytes(range(32)))
ISSUER = did_key(KEY)
PROPERTY_SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40
).filter(lambda value: value.strip() == value and value != "")
urls = st.builds(lambda n: f"https://example.org/things/{n}", st.integers(0, 10**6))
dates = st.datetimes(
    min_value=__import__("datetime").datetime(2000, 1, 1),
    max_value=__import__("datetime").datetime(2025, 12, 31),
).map(lambda d: d.replace(microsecond=0).isoformat() + "Z")

alignments = st.lists(
    st.fixed_dictionaries(
        {"type": st.just(["Alignment"]), "targetName": text, "targetUrl": urls},
        optional={
            "targetCode": text,
            "targetFramework": text,
            "targetType": st.just("ceasn:Competency"),
        },
    ),
    max_size=3,
)
evidence = st.lists(
    st.fixed_dictionaries(
        {"type": st.just(["Evidence"])},
        optional={"id": urls, "name": text, "narrative": text, "description": text},
    ),
    max_size=2,
)
results = st.lists(
    st.fixed_dictionaries({"type": st.just(["Result"])}, optional={"value": text}), max_size=2
)


@st.composite
def credentials(draw: st.DrawFn) -> dict[str, Any]:
    credential = make_credential(ISSUER, name=draw(text), validFrom=draw(dates))
    subject = credential["credentialSubject"]
    achievement = subject["achievement"]
    achievement["name"] = draw(text)
    achievement["description"] = draw(text)
    achievement["criteria"] = {"narrative": draw(text)}
    if drawn_alignments := draw(alignments):
        achievement["alignment"] = drawn_alignments
    if draw(st.booleans()):
        achievement["creditsAvailable"] = draw(st.integers(1, 500))
        subject["creditsEarned"] = achievement["creditsAvailable"]
    if drawn_evidence := draw(evidence):
        credential["evidence"] = drawn_evidence
    if drawn_results := draw(results):
        subject["result"] = drawn_results
    if draw(st.booleans()):
        subject["narrative"] = draw(text)
    if draw(st.booleans()):
        credential["validUntil"] = "2099-01-01T00:00:00Z"
    if draw(st.booleans()):
        # A blank-node subject: no id, only the hashed identifier.
        del subject["id"]
    return credential


def _sign(credential: dict[str, Any]) -> dict[str, Any]:
    return sign_data_integrity(credential, KEY, did_key_method(KEY), created="2026-01-15T09:00:00Z")


def _verify(credential: dict[str, Any]) -> Verdict:
    return verify_credential(credential, now=NOW, fetcher=NO_NETWORK).verdict


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [leaf for key, value in node.items() for leaf in _leaves(value, (*path, key))]
    if isinstance(node, list):
        return [leaf for i, value in enumerate(node) for leaf in _leaves(value, (*path, i))]
    return [path]


def _mutate(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    return f"{value}x" if not str(value).endswith("Z") else str(value)[:-1] + "+01:00"


@PROPERTY_SETTINGS
@given(credentials())
def test_anything_laurel_signs_verifies(credential: dict[str, Any]) -> None:
    assert _verify(_sign(credential)) is Verdict.VERIFIED


@PROPERTY_SETTINGS
@given(credentials(), st.data())
def test_any_single_change_fails(credential: dict[str, Any], data: st.DataObject) -> None:
    signed = _sign(credential)
    path = data.draw(st.sampled_from([p for p in _leaves(signed) if p[0] != "@context"]))
    tampered = copy.deepcopy(signed)
    holder = tampered
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = _mutate(holder[path[-1]])
    assert _verify(tampered) is not Verdict.VERIFIED, path
