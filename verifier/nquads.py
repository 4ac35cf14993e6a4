"""Canonical N-Quads for one quad (RDFC-1.0 §4.2, after RDF 1.2 N-Quads "Canonical form").

In a literal, ``"`` and ``\\`` are escaped; U+0008, U+0009, U+000A, U+000C and U+000D use the
short escapes ``\\b \\t \\n \\f \\r``; every other character in U+0000–U+001F and U+007F
uses ``\\uXXXX`` with upper-case hex. PyLD 3.3.0 escapes only ``\\ \\t \\n \\r "`` and
writes other control characters raw, which changes the canonical bytes (and the signature) of any
credential whose text contains, say, the vertical tab PowerPoint uses for line breaks; Digital
Bazaar's rdf-canonize follows the specification. ``verifier.rdfc.Rdfc10`` hashes and sorts with
this serialiser; PyLD's own is left as it is.
"""

from __future__ import annotations

import re
from typing import Any

from verifier.errors import JsonLdError

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

_SHORT = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}
_LITERAL_SPECIAL = re.compile(r'[\x00-\x1f\x7f"\\]')
LANGUAGE_TAG = re.compile(r"[a-zA-Z]+(?:-[a-zA-Z0-9]+)*")
"""N-Quads' LANGTAG (without its ``@``): what may follow a literal. Anything else would be
written into the canonical form as it is: a "tag" holding `` .\n<s> <p> "o"`` adds a quad, so a
document without that quad would carry the same signature (audit 11)."""
NOT_IN_AN_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')
r"""What N-Quads' IRIREF never holds (RFC 3987 and N-Quads): space, controls, ``<>"{}|^`\``."""


def _escape_char(match: re.Match[str]) -> str:
    char = match.group(0)
    return _SHORT.get(char) or f"\\u{ord(char):04X}"


def escape_literal(value: str) -> str:
    return _LITERAL_SPECIAL.sub(_escape_char, value)


def _term(term: dict[str, Any]) -> str:
    if term["type"] == "IRI":
        return f"<{term['value']}>"
    return str(term["value"])


def serialize_nquad(triple: dict[str, Any], graph_name: str | None = None) -> str:
    """One quad in canonical N-Quads, terminated by a newline (PyLD's calling convention)."""
    obj = triple["object"]
    if obj["type"] in ("IRI", "blank node"):
        object_text = _term(obj)
    else:
        object_text = f'"{escape_literal(obj["value"])}"'
        if obj["datatype"] == RDF_LANGSTRING:
            if obj.get("language"):
                if LANGUAGE_TAG.fullmatch(obj["language"]) is None:
                    raise JsonLdError(f"{obj['language']!r} is not a language tag")
                object_text += "@" + obj["language"]
        elif obj["datatype"] != XSD_STRING:
            if NOT_IN_AN_IRI.search(obj["datatype"]) is not None:
                raise JsonLdError(f"the datatype {obj['datatype']!r} is not a valid IRI")
            object_text += f"^^<{obj['datatype']}>"
    graph = triple.get("name", {"value": graph_name})["value"]
    quad = f"{_term(triple['subject'])} {_term(triple['predicate'])} {object_text}"
    if graph is not None:
        quad += f" {graph}" if graph.startswith("_:") else f" <{graph}>"
    return quad + " .\n"
