"""``check_tree``'s quick yes (``_plainly_json``: ``json.dumps``, UTF-8 and a walk over the
containers) never accepts what the value-by-value walk refuses, and the verdicts and messages of
``check_tree`` are the walk's."""

from __future__ import annotations

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
    ],
)
def test_cases_at_the_edges(value: Any, refused: str | None) -> None:
    found = _verdict(safejson.check_tree, value)
    if refused is None:
        assert found is None
    else:
        assert found is not None and refused in found
