"""``verifier.safejson``: untrusted JSON in, a value or ``MalformedInput`` out.

Regression: Python's ``json`` reads ``NaN``, ``Infinity`` and ``-Infinity`` (and ``1e400`` as
infinity). They are not JSON (RFC 8259 §6) and PostgreSQL's JSON columns refuse them, so a
document the verifier accepted broke whatever stored it next.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.verifier.test_bad_input import LEADING_CHANGE, NOW, RecordingFetcher
from verifier import Outcome, Verdict, safejson, verify_credential
from verifier.errors import MalformedInput

NOT_NUMBERS = ["NaN", "Infinity", "-Infinity"]
OUT_OF_RANGE = ["1e400", "-1e400", "1E+999", "123456789e999"]


@pytest.mark.parametrize("constant", NOT_NUMBERS)
@pytest.mark.parametrize(
    "template",
    ["{}", "[{}]", '{{"a": {}}}', '{{"a": [1, {{"b": {}}}]}}'],
    ids=["top level", "in an array", "in an object", "nested deep"],
)
def test_nan_and_infinity_are_refused(template: str, constant: str) -> None:
    text = template.format(constant)
    with pytest.raises(
        MalformedInput, match=f"not valid JSON \\({constant}: JSON has no NaN or Inf"
    ):
        safejson.loads(text)
    with pytest.raises(MalformedInput):
        safejson.loads(text.encode())


@pytest.mark.parametrize("number", OUT_OF_RANGE)
def test_a_number_python_would_read_as_infinity_is_refused(number: str) -> None:
    with pytest.raises(MalformedInput, match="out of range"):
        safejson.loads(f'{{"creditsEarned": {number}}}')


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), float("-inf")],
    ids=["nan", "inf", "-inf"],
)
def test_nan_and_infinity_in_a_python_value_are_refused(value: float) -> None:
    with pytest.raises(MalformedInput, match="JSON has no NaN or Infinity"):
        safejson.check_tree({"credentialSubject": {"creditsEarned": [1, value]}})


@pytest.mark.parametrize(
    "value",
    [{1, 2}, b"bytes", object(), 1j, {1: "an integer key"}],
    ids=["set", "bytes", "object", "complex", "integer key"],
)
def test_values_json_cannot_hold_are_refused(value: Any) -> None:
    with pytest.raises(MalformedInput):
        safejson.check_tree({"credentialSubject": {"creditsEarned": value}})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.5e308", 1.5e308),
        ("-0.0", -0.0),
        ("5e-324", 5e-324),
        ("1e-400", 0.0),
        ('"NaN"', "NaN"),
        ('{"Infinity": "-Infinity"}', {"Infinity": "-Infinity"}),
        ("1" * 300, int("1" * 300)),
    ],
)
def test_ordinary_numbers_and_the_words_as_text_still_parse(text: str, expected: Any) -> None:
    assert safejson.loads(text) == expected


@pytest.mark.parametrize("constant", NOT_NUMBERS)
@pytest.mark.parametrize("as_bytes", [False, True], ids=["text", "bytes"])
def test_a_credential_with_nan_is_malformed_input(constant: str, as_bytes: bool) -> None:
    credential = json.loads(json.dumps(LEADING_CHANGE))
    credential["credentialSubject"]["creditsEarned"] = 0
    text = json.dumps(credential).replace('"creditsEarned": 0', f'"creditsEarned": {constant}')
    assert constant in text
    report = verify_credential(
        text.encode() if as_bytes else text, now=NOW, fetcher=RecordingFetcher()
    )
    assert report.verdict is Verdict.NOT_VERIFIED
    check = report.check("input")
    assert check is not None and check.outcome is Outcome.FAILED
    assert constant in check.reason


def _outcome(read: Any, text: Any) -> str:
    try:
        return repr(read(text))
    except (ValueError, TypeError, RecursionError, MalformedInput) as exc:
        return f"{type(exc).__name__}: {exc}"


def _by_json_loads(text: Any) -> Any:
    """What ``loads`` decoded with before it kept one decoder: ``json.loads`` with its hooks."""
    return json.loads(
        text,
        object_pairs_hook=safejson._object,
        parse_constant=safejson._refuse_constant,
        parse_float=safejson._parse_float,
        parse_int=safejson._parse_int,
    )


def _by_shared_decoder(text: Any) -> Any:
    return safejson._DECODER.decode(safejson._text(text))


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def _inputs(draw: st.DrawFn) -> str | bytes:
    """JSON in every encoding ``json.loads`` detects, with and without a byte-order mark, as
    text and as bytes; and arbitrary bytes and text."""
    kind = draw(st.sampled_from(["json", "bytes", "text"]))
    if kind == "bytes":
        return draw(st.binary(max_size=40))
    if kind == "text":
        return draw(st.text(max_size=40))
    written = json.dumps(draw(_json_values), ensure_ascii=draw(st.booleans()))
    encoding = draw(
        st.sampled_from(
            [
                None,
                "utf-8",
                "utf-8-sig",
                "utf-16",
                "utf-16-le",
                "utf-16-be",
                "utf-32",
                "utf-32-le",
                "utf-32-be",
            ]
        )
    )
    if encoding is None:
        return ("\ufeff" if draw(st.booleans()) else "") + written
    return written.encode(encoding, "surrogatepass")


@settings(max_examples=400, deadline=None)
@given(_inputs())
def test_the_shared_decoder_reads_as_json_loads_does(text: str | bytes) -> None:
    """``loads`` keeps one decoder instead of ``json.loads`` making one per call: the same
    value, or the same error, for every input."""
    assert _outcome(_by_shared_decoder, text) == _outcome(_by_json_loads, text)
