"""JSON request bodies read strictly: RFC 8259 in UTF-8, every key of an object once (I-JSON,
RFC 7493 §2.3: which of two values would count is undefined), no ``NaN`` or ``Infinity``.

Every refusal is a ``json.JSONDecodeError`` whose ``msg`` says what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

T = TypeVar("T")


class _DuplicateKey(ValueError):
    pass


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _DuplicateKey(key)
        found[key] = value
    return found


def _not_json(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_constant=_not_json)
"""Decodes with these rules (its ``raw_decode`` reads one value of a longer text)."""


def strict(decode: Callable[[], T]) -> T:
    """``decode()`` (a decoding by these rules), its refusals as ``json.JSONDecodeError``."""
    try:
        return decode()
    except json.JSONDecodeError:
        raise
    except _DuplicateKey as exc:
        reason = f"the key {exc.args[0]!r} appears twice in one object"
        raise json.JSONDecodeError(reason, "", 0) from None
    except RecursionError:
        raise json.JSONDecodeError("the body is nested too deeply", "", 0) from None
    except ValueError as exc:  # NaN, Infinity, an integer of thousands of digits
        raise json.JSONDecodeError(str(exc), "", 0) from None


def parse_json(body: bytes) -> Any:
    """The JSON ``body``; raises ``json.JSONDecodeError`` saying what is wrong."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise json.JSONDecodeError("the body is not UTF-8 text", "", 0) from None
    return strict(lambda: json.loads(text, object_pairs_hook=_object, parse_constant=_not_json))
