"""The JSON-LD context processing CBOR-LD needs: term ids, term definitions, scoped contexts.

CBOR-LD (https://json-ld.github.io/cbor-ld-spec/, as ``@digitalbazaar/cborld`` 8 implements it)
replaces every term of the document's contexts by an integer. The integers are assigned while the
document is walked: keywords have fixed ids (``KEYWORDS``), and each context, when first loaded,
gives each of its terms (in sorted order) the next free even id from 100; the odd id after it
marks the term's plural (array) form. Encoder and decoder must therefore load the same contexts in
the same order: the top-level ones, then type-scoped contexts (types sorted), then
property-scoped ones as the (sorted) properties are walked. Term definitions are resolved only as
far as CBOR-LD needs (CURIEs in ``@id`` and ``@type``, ``@protected``, ``@propagate``).

Contexts come only from the caller's loader (Laurel's bundled contexts): nothing is fetched.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from verifier.errors import MalformedInput

KEYWORDS: dict[str, int] = {
    "@context": 0,
    "@type": 2,
    "@id": 4,
    "@value": 6,
    "@direction": 8,
    "@graph": 10,
    "@included": 12,
    "@index": 14,
    "@json": 16,
    "@language": 18,
    "@list": 20,
    "@nest": 22,
    "@reverse": 24,
    "@base": 26,
    "@container": 28,
    "@default": 30,
    "@embed": 32,
    "@explicit": 34,
    "@none": 36,
    "@omitDefault": 38,
    "@prefix": 40,
    "@preserve": 42,
    "@protected": 44,
    "@requireAll": 46,
    "@set": 48,
    "@version": 50,
    "@vocab": 52,
    "@propagate": 54,
}
FIRST_CUSTOM_TERM_ID = 100
MAX_CONTEXTS = 64
"""Distinct contexts one document may bring in (embedded and scoped ones included)."""
MAX_CURIE_STEPS = 16

ContextLoader = Callable[[str], dict[str, Any]]
"""Context URL -> the context document (``{"@context": …}``); raises for an unknown URL."""

TermMap = dict[str, dict[str, Any]]


class CborldError(MalformedInput):
    """The bytes are not CBOR-LD Laurel can decode (or the document cannot be encoded)."""


def utf16_key(text: str) -> bytes:
    """Sort key matching JavaScript's default string order (UTF-16 code units)."""
    return text.encode("utf-16-be", "surrogatepass")


def sort_js(items: Iterable[str]) -> list[str]:
    return sorted(items, key=utf16_key)


class Contexts:
    """Loaded contexts and the term ids they assigned (one per encode or decode)."""

    def __init__(self, loader: ContextLoader) -> None:
        self.loader = loader
        self.entries: dict[str, tuple[dict[str, Any], TermMap]] = {}
        self.next_id = FIRST_CUSTOM_TERM_ID
        self.term_to_id: dict[str, int] = dict(KEYWORDS)
        self.id_to_term: dict[int, str] = {v: k for k, v in KEYWORDS.items()}

    def id_for(self, term: str, plural: bool = False) -> int | str:
        """The term's id (plural: the odd one), or the term itself when no context defines it."""
        found = self.term_to_id.get(term)
        if found is None:
            return term
        return found + 1 if plural else found

    def term_for(self, key: Any) -> tuple[str, bool]:
        if isinstance(key, str):
            return key, False
        if not isinstance(key, int) or isinstance(key, bool):
            raise CborldError(f"a CBOR-LD map key must be a term id or a string, not {key!r}")
        plural = key & 1 == 1
        term = self.id_to_term.get(key - 1 if plural else key)
        if term is None:
            raise CborldError(f"unknown term id {key} in the CBOR-LD data")
        return term, plural

    def has_id(self, key: int) -> bool:
        return key in self.id_to_term

    def load(self, context: Any) -> tuple[dict[str, Any], TermMap]:
        if not isinstance(context, str | dict):
            raise CborldError("CBOR-LD supports only contexts that are JSON objects or URLs")
        key = context if isinstance(context, str) else "\0" + _dumps(context)
        entry = self.entries.get(key)
        if entry is not None:
            return entry
        url = None
        if isinstance(context, str):
            url = context
            context = self._document(context)
        return self._add(context, url, key)

    def _document(self, url: str) -> Any:
        try:
            document = self.loader(url)
        except Exception as exc:
            raise CborldError(
                f"context {url} is not one Laurel knows; it is never fetched"
            ) from exc
        if not isinstance(document, dict) or "@context" not in document:
            raise CborldError(f"context document {url} has no @context")
        return document["@context"]

    def _add(self, context: Any, url: str | None, key: str) -> tuple[dict[str, Any], TermMap]:
        if not isinstance(context, dict):
            raise CborldError("CBOR-LD supports only contexts that are JSON objects or URLs")
        if len(self.entries) >= MAX_CONTEXTS:
            raise CborldError(f"more than {MAX_CONTEXTS} contexts in one document")
        imported = context.get("@import")
        if imported:
            if not isinstance(imported, str):
                raise CborldError("@import must name a context URL")
            entry = self.entries.get(imported) or self._add(
                self._document(imported), imported, imported
            )
            context = {**entry[0], **context}
        terms: TermMap = {}
        protected = bool(context.get("@protected"))
        for term in sort_js(context):
            if term in KEYWORDS:
                continue
            definition = context[term]
            if definition is None:
                continue
            if isinstance(definition, str):
                definition = {"@id": definition}
            elif not isinstance(definition, dict):
                raise CborldError(f"the term definition of {term!r} is not a string or an object")
            terms[term] = {**definition, "protected": protected}
            if term not in self.term_to_id:
                self.term_to_id[term] = self.next_id
                self.id_to_term[self.next_id] = term
                self.next_id += 2
        entry = (context, terms)
        self.entries[url or key] = entry
        return entry


def _dumps(value: Any) -> str:
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError) as exc:  # bytes or a non-text key in an embedded context
        raise CborldError("an embedded context that is not JSON") from exc


class ActiveContext:
    """The term definitions in force at one point of the document."""

    def __init__(
        self,
        contexts: Contexts,
        terms: TermMap | None = None,
        previous: ActiveContext | None = None,
    ) -> None:
        self.contexts = contexts
        self.terms: TermMap = terms or {}
        self.previous = previous
        self.type_terms = ["@type"] + [t for t, d in self.terms.items() if d.get("@id") == "@type"]

    def definition(self, term: str) -> dict[str, Any]:
        return self.terms.get(term) or {}

    def embedded(self, contexts: Any) -> ActiveContext:
        return ActiveContext(self.contexts, _update(self.terms, contexts, self.contexts), self)

    def property_scoped(self, term: str) -> ActiveContext:
        scoped = self.terms.get(term, {}).get("@context", _DEFAULT)
        terms = _update(_revert(self), scoped, self.contexts, property_scope=True)
        return ActiveContext(self.contexts, terms, self)

    def type_scoped(self, types: Iterable[Any]) -> ActiveContext:
        terms = self.terms
        names = list(types)
        if not all(isinstance(name, str) for name in names):
            raise CborldError("a type is not a string")
        for name in sort_js(set(names)):
            scoped = terms.get(name, {}).get("@context", _DEFAULT)
            terms = _update(terms, scoped, self.contexts, type_scope=True)
        return ActiveContext(self.contexts, terms, self)


_DEFAULT = object()
"""No context given: the update applies an empty one (as the reference does)."""


def _update(
    active: TermMap,
    contexts: Any,
    loader: Contexts,
    *,
    property_scope: bool = False,
    type_scope: bool = False,
) -> TermMap:
    if contexts is _DEFAULT:
        contexts = [{}]
    elif not isinstance(contexts, list):
        contexts = [contexts]
    for item in contexts:
        if item is None:
            # JSON-LD resets the active context here (``verifiableCredential`` in VCDM 2.0); the
            # reference encoder cannot process this (it reads "@import" of null), 4.x can.
            active = {}
            continue
        context, entry_terms = loader.load(item)
        propagate = context.get("@propagate", not type_scope)
        new = {term: {**d, "propagate": propagate} for term, d in entry_terms.items()}
        _resolve_curies(active, context, new)
        for term, active_definition in active.items():
            definition = new.get(term)
            if definition is not None:
                if (
                    active_definition.get("protected")
                    and not property_scope
                    and not _same_definition(definition, active_definition)
                ):
                    raise CborldError(f"the protected term {term!r} is redefined")
            elif context.get(term, 0) is not None:
                new[term] = dict(active_definition)
        active = new
    return active


def _same_definition(one: dict[str, Any], other: dict[str, Any]) -> bool:
    ignore = ("protected", "propagate")
    return {k: v for k, v in one.items() if k not in ignore} == {
        k: v for k, v in other.items() if k not in ignore
    }


def _resolve_curie(active: TermMap, context: dict[str, Any], value: Any) -> Any:
    for _ in range(MAX_CURIE_STEPS):
        if not isinstance(value, str) or ":" not in value:
            return value
        prefix, _, suffix = value.partition(":")
        definition = context.get(prefix)
        if definition is None:
            definition = active.get(prefix)
        if definition is None:
            return value
        if not isinstance(definition, str | dict):
            raise CborldError(f"the prefix {prefix!r} is not a term definition")
        base = definition if isinstance(definition, str) else definition.get("@id")
        if not isinstance(base, str):
            raise CborldError(f"the prefix {prefix!r} has no IRI")
        value = base + suffix
    raise CborldError(f"the compact IRI {value!r} expands in a loop")


def _resolve_curies(active: TermMap, context: dict[str, Any], new: TermMap) -> None:
    for term, definition in new.items():
        if "@id" in definition:
            definition["@id"] = _resolve_curie(active, context, definition["@id"])
        else:
            resolved = _resolve_curie(active, context, term)
            if ":" in resolved:
                definition["@id"] = resolved
        if "@type" in definition:
            definition["@type"] = _resolve_curie(active, context, definition["@type"])
        if not isinstance(definition.get("@id"), str):
            raise CborldError(f"the term {term!r} has no IRI")


def _revert(active: ActiveContext) -> TermMap:
    """The terms in force for a property's value: type-scoped terms do not propagate into it."""
    terms: TermMap = {}
    held_back = []
    for term, definition in active.terms.items():
        if definition.get("propagate"):
            terms[term] = definition
        else:
            held_back.append(term)
    for term in held_back:
        found = _propagated(active, term)
        if found is not None:
            terms[term] = found
    return terms


def _propagated(active: ActiveContext, term: str) -> dict[str, Any] | None:
    """The definition of ``term`` in the nearest earlier context where it propagates (or where
    it is undefined: then None)."""
    current = active.previous
    while current is not None:
        found = current.terms.get(term)
        if found is None or found.get("propagate"):
            return found
        current = current.previous
    return None
