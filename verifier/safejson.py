"""Parsing untrusted JSON: every failure is a ``MalformedInput``, never a stray exception.

Refused: invalid JSON, non-UTF-8 bytes, integers of more than ``MAX_INTEGER_DIGITS`` digits
(checked before Python converts them, whatever the process's own digit limit), nesting deeper
than ``MAX_DEPTH``, strings with unpaired surrogates (they cannot be encoded as UTF-8, so they
can be neither hashed nor signed), and ``NaN``, ``Infinity`` and ``-Infinity``: Python's ``json``
reads them, but they are not JSON (RFC 8259 §6), and PostgreSQL's JSON columns and every other
implementation refuse them. A number such as ``1e400`` that Python would read as infinity is
refused for the same reason. An object with the same key twice is refused too: RFC 8259 §4 leaves
its meaning open, and parsers differ (Python keeps the last, others the first or fail), so a
credential with two ``credentialSubject`` or two ``id`` members would mean one thing to Laurel
and another to the next verifier. A credential given as a ``dict`` is held to the same rules, and
may hold only what JSON can (string keys; objects, arrays, strings, numbers, booleans and null).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from verifier.errors import MalformedInput

MAX_DEPTH = 64
MAX_INTEGER_DIGITS = 4_300
"""Python's default ``int`` digit limit, kept here so that no process setting can lift it."""
_SCALARS = (str, int, float, bool, type(None))
_OTHER_SCALARS = frozenset((int, bool, type(None)))
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
"""A ``\\uD800``–``\\uDFFF`` escape: the only way JSON text that is valid Unicode yields a
surrogate (paired or not; both are refused only when unpaired, which the full walk decides)."""


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _not_a_number(name: str) -> MalformedInput:
    return MalformedInput(f"the input is not valid JSON ({name}: JSON has no NaN or Infinity)")


def _check_number(value: float) -> None:
    if not math.isfinite(value):
        raise _not_a_number(
            "NaN" if math.isnan(value) else "-Infinity" if value < 0 else "Infinity"
        )


def check_tree(value: Any) -> None:
    """Raise ``MalformedInput`` if ``value`` nests too deeply, holds unencodable text, a number
    JSON cannot write (NaN, infinity) or anything else that is not JSON."""
    if not _plainly_json(value):
        walk(value)


def walk(value: Any) -> None:
    """``check_tree`` value by value: the reasons come from here."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise MalformedInput(f"the JSON is nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    raise MalformedInput(f"the JSON has a key that is not text: {key!r:.40}")
                if _has_surrogate(key):
                    raise MalformedInput("the JSON contains text that is not valid Unicode")
                stack.append((child, depth + 1))
        elif isinstance(item, list | tuple):
            stack.extend((child, depth + 1) for child in item)
        elif not isinstance(item, _SCALARS):
            raise MalformedInput(f"the JSON cannot hold a value of type {type(item).__name__}")
        elif isinstance(item, str) and _has_surrogate(item):
            raise MalformedInput("the JSON contains text that is not valid Unicode")
        elif isinstance(item, float):
            _check_number(item)


def _plainly_json(value: Any) -> bool:
    """A quick yes for what ``check_tree`` accepts: one walk over the containers finds only
    ``str`` keys, plain ``dict`` and ``list`` containers no deeper than ``MAX_DEPTH``, and plain
    scalars: text that is ASCII or encodes as UTF-8 (no unpaired surrogate; each object's keys
    are checked joined, with one call), finite floats, ``int``, ``bool`` and ``None``. A cycle
    ends at the depth limit. ~3× faster than writing the value with ``json.dumps`` first, as it
    was. False means "look closer", never "bad": ``check_tree`` then walks every value and says
    what is wrong."""
    if type(value) is not dict and type(value) is not list:
        return False
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth >= MAX_DEPTH and item:  # its members would be too deep
            return False
        if type(item) is dict:
            try:
                keys = "".join(item)
            except TypeError:  # a key that is not text
                return False
            if not keys.isascii() and _has_surrogate(keys):
                return False
            children: Any = item.values()
        else:
            children = item
        for child in children:
            kind = type(child)
            if kind is str:
                if not child.isascii() and _has_surrogate(child):
                    return False
            elif kind is dict or kind is list:
                stack.append((child, depth + 1))
            elif kind is float:
                if not math.isfinite(child):
                    return False
            elif kind not in _OTHER_SCALARS:
                return False  # a subclass or a tuple: the full walk decides
    return True


def _refuse_constant(name: str) -> Any:
    """``json.loads`` calls this for ``NaN``, ``Infinity`` and ``-Infinity``."""
    raise _not_a_number(name)


def _parse_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise MalformedInput(f"the JSON number {text[:40]} is out of range (beyond a double)")
    return value


def _parse_int(text: str) -> int:
    digits = len(text) - text.startswith("-")
    if digits > MAX_INTEGER_DIGITS:
        raise MalformedInput(
            f"the JSON has an integer of {digits:,} digits; at most {MAX_INTEGER_DIGITS:,} are read"
        )
    return int(text)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object's members as a dict; ``MalformedInput`` if a key appears twice."""
    members = dict(pairs)
    if len(members) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise MalformedInput(
                    f"the JSON has an object with the key {key!r:.60} twice, "
                    "which JSON readers take in different ways"
                )
            seen.add(key)
    return members


_DECODER = json.JSONDecoder(
    object_pairs_hook=_object,
    parse_constant=_refuse_constant,
    parse_float=_parse_float,
    parse_int=_parse_int,
)
"""Made once: ``json.loads`` with hooks builds a decoder and its scanner on every call (~8 µs
here, of ~50 µs for a 3 KB credential). The scanner is safe to share between threads, as
``json.loads``' own default decoder is."""


def _text(text: str | bytes) -> str:
    """What ``json.loads`` decodes: bytes in the encoding it detects (UTF-8, -16 or -32);
    text with a byte-order mark is refused as ``json.loads`` refuses it."""
    if isinstance(text, str):
        if text.startswith("\ufeff"):
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        return text
    if not isinstance(text, bytes | bytearray):
        raise TypeError(f"the JSON object must be str or bytes, not {type(text).__name__}")
    return text.decode(json.detect_encoding(text), "surrogatepass")


def loads(text: str | bytes) -> Any:
    """``json.loads`` for untrusted input, checked with ``check_tree``."""
    try:
        decoded = _text(text)
        value = _DECODER.decode(decoded)
    except RecursionError:
        raise MalformedInput(f"the JSON is nested more than {MAX_DEPTH} levels deep") from None
    except UnicodeDecodeError as exc:
        raise MalformedInput("the input is not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise MalformedInput(f"the input is not valid JSON ({exc.msg}, line {exc.lineno})") from exc
    except ValueError as exc:  # any other number Python cannot read
        raise MalformedInput(f"the JSON cannot be read: {exc}") from exc
    if not _plainly_parsed(decoded):
        walk(value)
    return value


def _plainly_parsed(text: str) -> bool:
    """A quick yes, from the decoded text alone, for what ``walk`` accepts of its parse with
    ``loads``' hooks (which already refuse what is not JSON: NaN, infinities, long integers,
    repeated keys; and a parse gives only ``str`` keys, ``dict``, ``list`` and JSON scalars):
    text that encodes as UTF-8 with no ``\\uD8xx``–``\\uDFxx`` escape holds no surrogate, and
    fewer than ``MAX_DEPTH`` brackets cannot nest deeper than ``MAX_DEPTH``. False means "look
    closer": ``walk`` then checks every value."""
    try:
        text.encode("utf-8")
    except UnicodeError:  # a surrogate in the text (or one bytes decoded with surrogatepass)
        return False
    if text.count("{") + text.count("[") >= MAX_DEPTH:
        return False
    return _SURROGATE_ESCAPE.search(text) is None


def loads_object(text: str | bytes, what: str = "a credential") -> dict[str, Any]:
    value = loads(text)
    if not isinstance(value, dict):
        raise MalformedInput(f"{what} must be a JSON object")
    return value
