"""Parsing untrusted JSON: every failure is a ``MalformedInput``, never a stray exception.

Refused: invalid JSON, non-UTF-8 bytes, integers longer than Python's digit limit, nesting deeper
than ``MAX_DEPTH``, and strings with unpaired surrogates (they cannot be encoded as UTF-8, so they
can be neither hashed nor signed).
"""

from __future__ import annotations

import json
from typing import Any

from verifier.errors import MalformedInput

MAX_DEPTH = 64


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_tree(value: Any) -> None:
    """Raise ``MalformedInput`` if ``value`` nests too deeply or holds unencodable text."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise MalformedInput(f"the JSON is nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and _has_surrogate(key):
                    raise MalformedInput("the JSON contains text that is not valid Unicode")
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str) and _has_surrogate(item):
            raise MalformedInput("the JSON contains text that is not valid Unicode")


def loads(text: str | bytes) -> Any:
    """``json.loads`` for untrusted input, checked with ``check_tree``."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise MalformedInput(f"the JSON is nested more than {MAX_DEPTH} levels deep") from None
    except UnicodeDecodeError as exc:
        raise MalformedInput("the input is not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise MalformedInput(f"the input is not valid JSON ({exc.msg}, line {exc.lineno})") from exc
    except ValueError as exc:  # e.g. an integer over the digit limit
        raise MalformedInput(f"the JSON cannot be read: {exc}") from exc
    check_tree(value)
    return value


def loads_object(text: str | bytes, what: str = "a credential") -> dict[str, Any]:
    value = loads(text)
    if not isinstance(value, dict):
        raise MalformedInput(f"{what} must be a JSON object")
    return value
