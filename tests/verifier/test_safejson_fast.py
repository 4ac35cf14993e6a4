"""``check_tree``'s quick yes (``_plainly_json``: one walk over the containers, their keys and
values) never accepts what the value-by-value walk refuses, and the verdicts and messages of
``check_tree`` are the walk's."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier import safejson
from verifier.errors import MalformedInput


class Text(str):
    pass


class Table(dict):  # type: ignore[type-arg]
    pass


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.sampled_from(["\ud800", "a\udfffb", Text("x")]),
    st.sampled_from([b"bytes", 1j, object()]),
)
keys = st.one_of(st.text(max_size=4), st.sampled_from(["\udc00", 1, True, None, 2.5, Text("k")]))
trees = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=3).map(tuple),
        st.dictionaries(keys, children, max_size=4),
        st.dictionaries(st.text(max_size=3), children, max_size=3).map(Table),
    ),
    max_leaves=25,
)


def _verdict(check: Any, value: Any) -> str | None:
    try:
        check(value)
    except MalformedInput as exc:
        return str(exc)
    return None


@settings(max_examples=600, deadline=None)
@given(trees)
def test_the_quick_yes_is_never_wrong(value: Any) -> None:
    if safejson._plainly_json(value):
        assert _verdict(safejson.walk, value) is None
    assert _verdict(safejson.check_tree, value) == _verdict(safejson.walk, value)


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth - 1):
        value = [value]
    return value


def _cycle() -> Any:
    """A list that holds itself: no JSON text can say it."""
    value: list[Any] = ["x"]
    value.append(value)
    return value


@pytest.mark.parametrize(
    ("value", "refused"),
    [
        ({"a": [1, 2.5, None, True, "x"]}, None),
        ({1: "x"}, "key that is not text"),
        ({"a": math.nan}, "NaN"),
        ({"a": -math.inf}, "-Infinity"),
        ({"\udc00": 1}, "not valid Unicode"),
        (["a\ud800"], "not valid Unicode"),
        ({"a": b"x"}, "type bytes"),
        ({"a": (1, 2)}, None),
        (Table(a=Text("b")), None),
        (_nested(safejson.MAX_DEPTH), None),
        (_nested(safejson.MAX_DEPTH + 1), "nested more than"),
        (_nested(5000), "nested more than"),
        (_cycle(), "nested more than"),
        ({"a": _cycle()}, "nested more than"),
        ({"k\u00e9y": "caf\u00e9 \U0001f600"}, None),
        ({"a": 1e308 * 10}, "Infinity"),
        ({"a": Text("x"), "b": 2**4400}, None),
    ],
)
def test_cases_at_the_edges(value: Any, refused: str | None) -> None:
    found = _verdict(safejson.check_tree, value)
    if refused is None:
        assert found is None
    else:
        assert found is not None and refused in found


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**60), max_value=2**60),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=6),
        st.sampled_from(["\ud800", "a\udfffb", "\ud83d\ude00", "\\ud800", "{[", "😀"]),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=3), children, max_size=4)
    ),
    max_leaves=30,
)


def _texts_of(value: Any) -> list[str | bytes]:
    ascii_text = json.dumps(value)  # surrogates as \\udxxx escapes
    raw = json.dumps(value, ensure_ascii=False)  # surrogates as characters
    forms: list[str | bytes] = [ascii_text, ascii_text.encode("utf-8"), raw]
    forms.append(raw.encode("utf-8", "surrogatepass"))  # bytes json.loads decodes leniently
    forms.append(ascii_text.encode("utf-16"))
    return forms


def _slowly(text: str | bytes) -> Any:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(safejson, "_plainly_parsed", lambda _text: False)
        return safejson.loads(text)


@settings(max_examples=400, deadline=None)
@given(json_values, st.integers(min_value=0, max_value=70))
def test_parsed_text_is_checked_as_closely(value: Any, depth: int) -> None:
    """``loads``' quick yes from the text (``_plainly_parsed``) gives the verdict and value of
    the full walk, for surrogates escaped, raw and UTF-8-encoded, and nesting near the limit."""
    for _ in range(depth):
        value = [value]
    for text in _texts_of(value):
        assert _verdict(safejson.loads, text) == _verdict(_slowly, text)
        if _verdict(safejson.loads, text) is None:
            assert safejson.loads(text) == _slowly(text)
