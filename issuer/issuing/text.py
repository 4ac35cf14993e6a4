"""Text in a credential before it is signed: the same in every JSON-LD stack.

RDFC-1.0 (canonical N-Quads) writes U+0008, U+000C and the other control characters as escapes
(``\\b``, ``\\f``, ``\\u000B``, …); PyLD, behind pyld-based verifiers such as openbadgeslib,
escapes only ``\\t \\n \\r``, ``"`` and ``\\`` and writes the others as they are. A credential
holding one of them verifies in one stack and not in the other. So every string of a document
Laurel issues (values and property names) is checked here: a vertical tab or form feed in a
value becomes a newline (``issuer.schemas.LINE_BREAKS``, as the request schemas do); any other
C0 control character but tab, newline and carriage return, and DEL, is refused with
``ControlCharacter`` (400) naming the field.
"""

from __future__ import annotations

import re
from typing import Any

from issuer.core.errors import BadRequest
from issuer.schemas import line_breaks
from verifier.safejson import MAX_DEPTH

_REFUSED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""After ``line_breaks``: every C0 control but tab, newline and carriage return, and DEL."""


class ControlCharacter(BadRequest):
    """A string of the credential holds a control character that JSON-LD stacks disagree on."""

    title = "Control character in text"

    def __init__(self, field: str, char: str) -> None:
        super().__init__(
            f"{field or 'the credential'} holds the control character U+{ord(char):04X}; "
            "text may hold tabs and line breaks but no other control characters"
        )
        self.field = field


def _path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


class _Refused(Exception):
    """A refused character, with the keys from where it was found up to the document."""

    def __init__(self, char: str, keys: list[str | int]) -> None:
        self.char, self.keys = char, keys


def clean_text(document: Any, field: str = "") -> Any:
    """A copy of ``document`` whose strings have newlines for vertical tabs and form feeds;
    ``ControlCharacter`` for any other refused character, in a value or a property name;
    ``BadRequest`` past ``MAX_DEPTH`` levels of nesting (the verifier's limit).

    A string without control characters (``str.isprintable``, at C speed) is kept as it is; the
    field's name is written only for an error (a bulk step cleans thousands of documents)."""
    try:
        return _clean(document, 0)
    except _Refused as refused:
        where = field
        for key in reversed(refused.keys):
            where = _path(where, key)
        raise ControlCharacter(where, refused.char) from None


def _clean(document: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise BadRequest(f"the credential is nested more than {MAX_DEPTH} levels deep")
    if isinstance(document, str):
        return document if document.isprintable() else _clean_string(document)
    if isinstance(document, dict):
        copy: dict[str, Any] = {}
        for key, value in document.items():
            if not key.isprintable():
                found = _REFUSED.search(key)
                if found:
                    raise _Refused(found.group(), [repr(key)])
            if type(value) is str and value.isprintable():
                copy[key] = value
                continue
            try:
                copy[key] = _clean(value, depth + 1)
            except _Refused as refused:
                refused.keys.append(key)
                raise
        return copy
    if isinstance(document, list):
        items = []
        for index, item in enumerate(document):
            try:
                items.append(_clean(item, depth + 1))
            except _Refused as refused:
                refused.keys.append(index)
                raise
        return items
    return document


def _clean_string(value: str) -> str:
    cleaned: str = line_breaks(value)
    found = _REFUSED.search(cleaned)
    if found:
        raise _Refused(found.group(), [])
    return cleaned
