"""A fast, exact path to RDFC-1.0 canonical N-Quads for credential-shaped JSON-LD.

The reference path (``verifier.jsonld.canonicalize_reference``: PyLD expansion, toRdf and
RDFC-1.0) spends ~7 ms on a 3 KB badge; this path gives the same bytes in a fraction of that:

1. **Expansion by template.** Credentials of one shape differ only in their values. The document
   is turned into a *skeleton*: every value that JSON-LD expansion copies through unchanged is
   replaced by a sentinel (a private-use string for text, ``urn:x-laurel-sentinel:N`` for
   absolute IRIs, a huge negative integer for integers); keys, ``@context`` and ``type`` values
   stay. PyLD expands each distinct skeleton once (with every safety check of the reference
   path); the expanded template of a badge-sized skeleton is cached (LRU, bounded in number and
   in size, so large hostile documents cannot fill memory). A template is used only if every
   sentinel in it appears whole, in a place where PyLD copies values verbatim (``@value``,
   ``@id``) — otherwise the document falls back.
2. **toRdf** over the expanded template, substituting the real values, for node objects, typed
   and plain literals (PyLD's literal rules, including its canonical doubles).
3. **RDFC-1.0** with first-degree hashes (§4.6). Badges have few blank nodes and they are almost
   always told apart by their first-degree hash; when two share a hash, the full algorithm
   (``verifier.rdfc``, PyLD's URDNA2015 with canonical N-Quads) runs on the dataset built here.

Blank-node labels (``"id": "_:x"``) are blank nodes here as in toRdf: one node per label.
Graph objects (embedded proofs, a CLR's nested credentials) put their nodes in a graph named by
a blank node. Anything outside this subset (lists, indexed graphs, ``@json``, language tags,
blank-node types or properties, relative IRIs, errors) raises ``Unsupported`` and the caller uses
the reference path: never a different answer, only a slower one. Each phase ends at a
``verifier.rdfc_budget`` checkpoint, so a document past its deadline goes no further.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from pyld.jsonld import _canonicalize_double

from verifier import rdfc_budget
from verifier.expansion import expand
from verifier.nquads import escape_literal
from verifier.rdfc import canonical_nquads

XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING, XSD_BOOLEAN = XSD + "string", XSD + "boolean"
XSD_INTEGER, XSD_DOUBLE = XSD + "integer", XSD + "double"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

TEXT_OPEN, TEXT_CLOSE = "\ue000", "\ue001"
IRI_SENTINEL = "urn:x-laurel-sentinel:"
INT_SENTINEL_BASE = -(2**62)
CACHE_SIZE = 512
CACHE_CHARS = 2 * 1024 * 1024
"""The cache holds at most this many characters of skeletons (about 30 MB of templates)."""
MAX_CACHED_SKELETON = 16 * 1024
"""Larger shapes (a badge's is 2–4 KB) are expanded each time and not cached."""

_TEXT_SENTINEL = re.compile(f"^{TEXT_OPEN}(\\d+){TEXT_CLOSE}$")
_IRI_SENTINEL = re.compile(f"^{IRI_SENTINEL}(\\d+)$")
_INVALID_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_STRUCTURAL_KEYS = frozenset({"@context", "type", "@type", "@language", "@direction"})
"""Keys whose values stay in the skeleton: expansion reads them (a language tag or a direction
is checked there, and the fast path then declines it), they are not copied through."""
_ABSOLUTE_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*$")
"""PyLD's ``_is_absolute_iri`` pattern, compiled once (PyLD looks it up on every call)."""


def _is_absolute_iri(value: Any) -> bool:
    """PyLD's ``_is_absolute_iri``, exactly (``tests/verifier/test_canonical_differential.py``)."""
    return isinstance(value, str) and _ABSOLUTE_IRI.match(value) is not None


# A term is (kind, value): "I" IRI, "B" blank node, "L" literal (value, datatype).
Term = tuple[str, str] | tuple[str, str, str]
Quad = tuple[Term, Term, Term, Term | None]
"""Subject, predicate, object and graph name (``None``: the default graph)."""


class Unsupported(Exception):
    """The document is outside the fast path's subset; use the reference path."""


@cache
def _context_terms() -> tuple[frozenset[str], frozenset[str]]:
    """(every term defined in a bundled context, the terms coerced to @id or @vocab)."""
    index = json.loads(resources.files("verifier.contexts").joinpath("index.json").read_text())
    terms: set[str] = set()
    iri_typed: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if not key.startswith("@"):
                    terms.add(key)
                    if isinstance(value, dict) and value.get("@type") in ("@id", "@vocab"):
                        iri_typed.add(key)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for name in set(index.values()):
        walk(json.loads(resources.files("verifier.contexts").joinpath(name).read_text()))
    return frozenset(terms), frozenset(iri_typed)


KEPT, PLAIN_IRI, OTHER = 0, 1, 2
"""What ``_Skeleton`` does with a string, apart from its key: keep it (a keyword or ""), make it
an "iri" sentinel (``_plain_absolute_iri_now``), or decide by its key (``_Skeleton._text``)."""


def _kind(value: str) -> int:
    """``value``'s kind, remembered for short strings (a template's IRIs and most of its texts
    repeat in every document); ``Unsupported`` for a string holding sentinel material, which is
    never remembered."""
    found = _kinds.get(value)
    if found is None:
        if TEXT_OPEN in value or TEXT_CLOSE in value or IRI_SENTINEL in value:
            raise Unsupported("a value that looks like a sentinel")
        if value.startswith("@") or value == "":
            found = KEPT
        else:
            found = PLAIN_IRI if _plain_absolute_iri_now(value) else OTHER
        if len(value) <= MAX_REMEMBERED_IRI:
            if len(_kinds) >= MAX_REMEMBERED_KINDS:
                _kinds.clear()
            _kinds[value] = found
    return found


MAX_REMEMBERED_KINDS = 8192
_kinds: dict[str, int] = {}
"""``_kind``'s answers for short strings; emptied when full. Plain dict operations, safe from
any thread (as ``_texts``)."""


def _plain_absolute_iri_now(value: str) -> bool:
    terms, _ = _context_terms()
    if _INVALID_IRI.search(value) or not _is_absolute_iri(value) or value in terms:
        return False
    prefix = value.split(":", 1)[0]
    return prefix not in terms and prefix != "_"


class _Skeleton:
    """Replaces copy-through values by sentinels, remembering the real values."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self.iri_typed = _context_terms()[1]

    def build(self, node: Any, key: str | None = None) -> Any:
        if isinstance(node, str):  # the commonest value: tested first
            return self._text(node, key)
        if isinstance(node, dict):
            built: dict[str, Any] = {}
            for k, v in node.items():  # texts straight to ``_text``: one call fewer for most
                if k in _STRUCTURAL_KEYS:
                    if k == "@context" and not _by_url(v):
                        raise Unsupported("an inline context")  # its prefixes rewrite values
                    built[k] = v
                elif type(v) is str:
                    built[k] = self._text(v, k)
                else:
                    built[k] = self.build(v, k)
            return built
        if isinstance(node, list):
            build, text = self.build, self._text
            return [text(item, key) if type(item) is str else build(item, key) for item in node]
        if type(node) is int:
            if abs(node) >= 2**53:
                raise Unsupported("an integer beyond 2^53")
            self.values.append(node)
            return INT_SENTINEL_BASE - (len(self.values) - 1)
        return node

    def _text(self, node: str, key: str | None) -> str:
        """A text's sentinel, or the text itself where expansion may rewrite it."""
        kind = _kinds.get(node)
        if kind is None:
            kind = _kind(node)
        if kind == KEPT:
            return node
        values = self.values
        index = len(values)
        if kind == PLAIN_IRI:
            values.append(node)
            return _IRI_SENTINELS[index] if index < WRITTEN_SENTINELS else _iri_sentinel(index)
        if key == "id" or key == "@id" or key in self.iri_typed:
            return node  # a term, compact or relative IRI: expansion may rewrite it
        values.append(node)
        return _TEXT_SENTINELS[index] if index < WRITTEN_SENTINELS else _text_sentinel(index)


def _iri_sentinel(index: int) -> str:
    return f"{IRI_SENTINEL}{index}"


def _text_sentinel(index: int) -> str:
    return f"{TEXT_OPEN}{index}{TEXT_CLOSE}"


WRITTEN_SENTINELS = 512
"""The first sentinels are written once (a badge has ~50 values), not formatted per document."""
_IRI_SENTINELS = tuple(_iri_sentinel(index) for index in range(WRITTEN_SENTINELS))
_TEXT_SENTINELS = tuple(_text_sentinel(index) for index in range(WRITTEN_SENTINELS))


class _Template:
    def __init__(self, expanded: list[Any]) -> None:
        self.expanded = expanded
        self._program: _Program | None = None

    def program(self) -> _Program:
        """The template's quads with slots for the document's values, compiled on first use
        (a template the compiler declines raises ``Unsupported`` each time: nothing is kept)."""
        if self._program is None:
            self._program = _compile(self.expanded)
        return self._program


_templates: OrderedDict[bytes | str, _Template] = OrderedDict()
_templates_lock = threading.Lock()  # verifications run in many threads; LRU moves are not atomic
_cached_chars = 0


def _template(skeleton: Any) -> _Template:
    """The expanded template of ``skeleton``, by the reference expansion with every safety check.

    Cached when the skeleton is badge-sized: an expanded template holds ~15 times its skeleton's
    size in memory, so caching 512 shapes of 2 MB documents would hold gigabytes.
    """
    global _cached_chars
    key = _skeleton_key(skeleton)
    with _templates_lock:
        found = _templates.get(key)
        if found is not None:
            _templates.move_to_end(key)
            return found
    template = _Template(expand(skeleton))
    if len(key) > MAX_CACHED_SKELETON:
        return template
    with _templates_lock:
        if key not in _templates:
            _templates[key] = template
            _cached_chars += len(key)
        while len(_templates) > CACHE_SIZE or _cached_chars > CACHE_CHARS:
            _cached_chars -= len(_templates.popitem(last=False)[0])
    return template


def _skeleton_key(skeleton: Any) -> bytes | str:
    """A faithful key for ``skeleton``: equal skeletons give equal keys, different ones different
    keys, with keys in the document's order (the sentinels' numbers follow that order).

    ``marshal`` format 2 writes a value of the built-in types with no back-references, so the
    bytes depend only on the value (and tell ``1``, ``1.0`` and ``True`` apart), at ~2.5 times
    the speed of ``json.dumps``. A skeleton holding another type (a ``str`` subclass a library
    caller passed) is keyed by its JSON text instead, which is never equal to a ``bytes`` key.
    """
    try:
        return marshal.dumps(skeleton, 2)
    except ValueError:
        return json.dumps(skeleton, ensure_ascii=False, separators=(",", ":"), check_circular=False)


class _ToRdf:
    """toRdf over an expanded template, substituting the real values (``_Compiler`` runs this
    traversal once per template, with slots for the values)."""

    def __init__(self, values: list[Any]) -> None:
        self.values = values
        self.quads: set[Quad] = set()
        self.blank_count = 0

    def _text(self, value: Any) -> Any:
        found = _slot_of(value)
        return value if found is None else self.values[found[0]]

    def _iri(self, value: Any) -> Term:
        if (
            type(value) is str
            and len(value) <= MAX_REMEMBERED_IRI
            and not value.startswith((IRI_SENTINEL, TEXT_OPEN))
        ):
            return _constant_iri(value)  # a property or type of the template: seen before
        return _checked_iri(self._text(value))

    def _subject(self, value: Any) -> Term:
        """An IRI, or a blank node the document labels (``_:x``): every node with that label is
        the same node, apart from the unlabelled ones (``_:b0``…). Labels never reach the output;
        RDFC-1.0 gives every blank node its canonical one."""
        label = self._text(value)
        if isinstance(label, str) and label.startswith("_:"):
            return ("B", "_:l" + label[2:])
        return self._iri(value)

    def node(self, node: dict[str, Any], graph: Term | None = None) -> Term:
        if "@id" in node:
            subject = self._subject(node["@id"])
        else:
            subject = ("B", f"_:b{self.blank_count}")
            self.blank_count += 1
        for kind in node.get("@type", []):
            self.quads.add((subject, ("I", RDF_TYPE), self._iri(kind), graph))
        for prop, values in node.items():
            if prop.startswith("@"):
                if prop in ("@id", "@type"):
                    continue
                raise Unsupported(f"{prop} in a node object")
            predicate = self._iri(prop)
            for value in values:
                self.quads.add((subject, predicate, self._object(value, graph), graph))
        return subject

    def _object(self, value: dict[str, Any], graph: Term | None) -> Term:
        if "@value" in value:
            if set(value) - {"@value", "@type"}:
                raise Unsupported("language, direction or index on a value")
            return _literal(self._text(value["@value"]), value.get("@type"))
        if "@graph" in value:
            return self._graph(value)
        if "@list" in value or "@set" in value:
            raise Unsupported("lists")
        return self.node(value, graph)

    def _graph(self, value: dict[str, Any]) -> Term:
        """A graph object (an embedded proof, a CLR's nested credentials): its nodes go into a
        graph of their own, named by its ``@id`` or a new blank node, which is what the property
        refers to (JSON-LD 1.1 node map generation, step 6.1)."""
        if set(value) - {"@graph", "@id"}:
            raise Unsupported("an indexed graph object")
        if "@id" in value:
            name = self._subject(value["@id"])
        else:
            name = ("B", f"_:b{self.blank_count}")
            self.blank_count += 1
        for node in value["@graph"]:
            if not isinstance(node, dict) or "@value" in node or "@graph" in node:
                raise Unsupported("a value or graph directly in a graph")
            self.node(node, name)
        return name


class _Slot:
    """A place in a compiled quad taken by the document's value number ``index``, turned into a
    term the way ``_ToRdf`` turns it (``convert``: an IRI, a subject, or a literal)."""

    __slots__ = ("convert", "index")

    def __init__(self, index: int, convert: Any) -> None:
        self.index = index
        self.convert = convert


Spec = Any
"""A compiled term: a ``Term`` (the same in every document of the template) or a ``_Slot``."""


class _Program:
    """A template's toRdf, done once: the quads that hold no document value, and the quads with
    slots. ``run`` gives the quad set ``_ToRdf`` gives for the same values.

    The commonest slotted quads are built without a call per term: a text literal under a
    fixed subject (``texts``), and a node named by a plain absolute IRI (``named``) with a fixed
    object or a text literal; any other (``other``) converts each slot with its function.
    """

    def __init__(self, fixed: set[Quad], slotted: list[tuple[Spec, Term, Spec, Spec]]) -> None:
        self.fixed = frozenset(fixed)
        self.texts: list[tuple[Term, Term, int, str, Term | None]] = []
        self.named: list[tuple[int, Term, Term, Term | None]] = []
        self.named_texts: list[tuple[int, Term, int, str, Term | None]] = []
        self.other: list[tuple[Spec, Term, Spec, Spec]] = []
        for quad in slotted:
            s, p, o, g = quad
            named = type(s) is _Slot and s.convert is _plain_iri_term
            text = type(o) is _Slot and type(o.convert) is _AsText
            if type(g) is _Slot or (type(s) is _Slot and not named):
                self.other.append(quad)
            elif text and named:
                self.named_texts.append((s.index, p, o.index, o.convert.datatype, g))
            elif text:
                self.texts.append((s, p, o.index, o.convert.datatype, g))
            elif named and type(o) is not _Slot:
                self.named.append((s.index, p, o, g))
            else:
                self.other.append(quad)

    def run(self, values: list[Any]) -> set[Quad]:
        quads = set(self.fixed)
        quads.update([(s, p, ("L", values[o], d), g) for s, p, o, d, g in self.texts])
        quads.update([(("I", values[s]), p, o, g) for s, p, o, g in self.named])
        quads.update(
            [(("I", values[s]), p, ("L", values[o], d), g) for s, p, o, d, g in self.named_texts]
        )
        self._convert_others(values, quads.add)
        return quads

    def check(self, values: list[Any]) -> None:
        """``run`` without the quads: only the conversions that can refuse a value (the
        ``other`` quads') are made, and raise as ``run`` would."""
        self._convert_others(values, lambda quad: None)

    def _convert_others(self, values: list[Any], add: Callable[[Quad], None]) -> None:
        for s, p, o, g in self.other:
            if type(s) is _Slot:
                s = s.convert(values[s.index])
            if type(o) is _Slot:
                o = o.convert(values[o.index])
            if type(g) is _Slot:
                g = g.convert(values[g.index])
            add((s, p, o, g))


def _slot_of(value: Any) -> tuple[int, str] | None:
    """The value number and kind ("iri", "text" or "int") of a whole sentinel, None for any other
    value; ``Unsupported`` for a string holding part of a sentinel (expansion rewrote it)."""
    if isinstance(value, str):
        if value.startswith(IRI_SENTINEL):
            match, kind = _IRI_SENTINEL.match(value), "iri"
        elif value.startswith(TEXT_OPEN):
            match, kind = _TEXT_SENTINEL.match(value), "text"
        else:
            match, kind = None, ""
        if match:
            return int(match.group(1)), kind
        if TEXT_OPEN in value or TEXT_CLOSE in value or IRI_SENTINEL in value:
            raise Unsupported("a sentinel was rewritten by expansion")
    elif type(value) is int and value <= INT_SENTINEL_BASE:
        return INT_SENTINEL_BASE - value, "int"
    return None


def _plain_iri_term(value: str) -> Term:
    """The term of an "iri" sentinel's value: ``_Skeleton`` made it one only for a plain absolute
    IRI (``_plain_absolute_iri_now``), which ``_checked_iri`` and ``_subject_term`` take as it
    is."""
    return ("I", value)


def _subject_term(label: Any) -> Term:
    """``_ToRdf._subject`` of a real value."""
    if isinstance(label, str) and label.startswith("_:"):
        return ("B", "_:l" + label[2:])
    return _checked_iri(label)


class _AsText:
    """A slot's conversion to a literal of a fixed datatype whose value is the text as it is
    (``_Program`` builds these literals itself)."""

    __slots__ = ("datatype",)

    def __init__(self, datatype: str) -> None:
        self.datatype = datatype

    def __call__(self, value: str) -> Term:
        return ("L", value, self.datatype)


def _literal_of(datatype: str | None, kind: str) -> Any:
    """``_literal`` with the datatype fixed. A "text" or "iri" sentinel's value is a ``str``, for
    which ``_literal`` gives ("L", value, datatype or xsd:string) unless the datatype is refused
    or xsd:double; those, and integers, take ``_literal`` itself."""
    plain = datatype is None or (
        datatype not in ("@json", XSD_DOUBLE) and _is_absolute_iri(datatype)
    )
    if kind in ("text", "iri") and plain:
        return _AsText(datatype or XSD_STRING)

    def convert(value: Any) -> Term:
        return _literal(value, datatype)

    return convert


class _Compiler(_ToRdf):
    """``_ToRdf`` over the template itself: every sentinel becomes a ``_Slot`` instead of its
    value, every other term is computed (and checked) once. The traversal, the blank-node
    numbering and every refusal are ``_ToRdf``'s own."""

    def __init__(self) -> None:
        super().__init__([])
        self._literals: dict[tuple[str | None, str], Any] = {}

    def _iri(self, value: Any) -> Any:
        found = _slot_of(value)
        if found is not None:
            index, kind = found
            return _Slot(index, _plain_iri_term if kind == "iri" else _checked_iri)
        return super()._iri(value)

    def _subject(self, value: Any) -> Any:
        found = _slot_of(value)
        if found is not None:
            index, kind = found
            return _Slot(index, _plain_iri_term if kind == "iri" else _subject_term)
        return super()._subject(value)

    def _object(self, value: dict[str, Any], graph: Any) -> Any:
        if "@value" in value and not set(value) - {"@value", "@type"}:
            found = _slot_of(value["@value"])
            if found is not None:
                index, kind = found
                key = (value.get("@type"), kind)
                if key not in self._literals:
                    self._literals[key] = _literal_of(*key)
                return _Slot(index, self._literals[key])
        return super()._object(value, graph)


def _compile(expanded: list[Any]) -> _Program:
    compiler = _Compiler()
    for node in expanded:
        if not isinstance(node, dict):
            raise Unsupported("free-floating value")
        compiler.node(node)
    fixed: set[Quad] = set()
    slotted: list[tuple[Spec, Term, Spec, Spec]] = []
    found: set[Any] = compiler.quads  # quads whose terms may be slots
    for quad in found:  # a quad with a slot is never merged with another: slots differ
        if any(type(term) is _Slot for term in quad):
            slotted.append(quad)
        else:
            fixed.add(quad)
    return _Program(fixed, slotted)


MAX_REMEMBERED_IRI = 256
"""Longer IRIs are checked each time, not remembered."""


def _checked_iri(iri: Any) -> Term:
    if not isinstance(iri, str) or iri.startswith("_:") or not _is_absolute_iri(iri):
        raise Unsupported("blank-node label or relative IRI")
    return ("I", iri)


@lru_cache(maxsize=4096)
def _constant_iri(value: str) -> Term:
    """``_ToRdf._iri`` of a string that is not a sentinel (what ``_ToRdf._text`` returns as it is,
    or refuses), remembered: the properties and types of templates repeat in every document."""
    if TEXT_OPEN in value or TEXT_CLOSE in value or IRI_SENTINEL in value:
        raise Unsupported("a sentinel was rewritten by expansion")
    return _checked_iri(value)


def _literal(value: Any, datatype: str | None) -> Term:
    """PyLD's ``_object_to_rdf`` rules for a value object."""
    if datatype == "@json" or (datatype is not None and not _is_absolute_iri(datatype)):
        raise Unsupported("JSON literal or relative datatype")
    if isinstance(value, bool):
        return ("L", "true" if value else "false", datatype or XSD_BOOLEAN)
    if isinstance(value, float) and not value.is_integer():
        return ("L", _canonicalize_double(value), datatype or XSD_DOUBLE)
    if datatype == XSD_DOUBLE and isinstance(value, int | float):
        return ("L", _canonicalize_double(float(value)), XSD_DOUBLE)
    if isinstance(value, int | float):
        if abs(value) >= 1e21:
            return ("L", _canonicalize_double(value), datatype or XSD_DOUBLE)
        return ("L", str(int(value)), datatype or XSD_INTEGER)
    if isinstance(value, str):
        if datatype == XSD_DOUBLE:
            raise Unsupported("a string typed as xsd:double")
        return ("L", value, datatype or XSD_STRING)
    raise Unsupported(f"value of type {type(value).__name__}")


def _term_text(term: Term) -> str:
    """The N-Quads text of an IRI or a literal, remembered when short."""
    found = _texts.get(term)
    if found is None:
        found = _written(term)
        if len(term[1]) <= MAX_REMEMBERED_IRI:
            if len(_texts) >= MAX_REMEMBERED_TEXTS:
                _texts.clear()
            _texts[term] = found
    return found


def _written(term: Term) -> str:
    """The N-Quads text of an IRI or a literal."""
    if term[0] == "I":
        return f"<{term[1]}>"
    text = f'"{escape_literal(term[1])}"'
    return text if term[2] == XSD_STRING else f"{text}^^<{term[2]}>"  # type: ignore[misc]  # an "L" term has a datatype


MAX_REMEMBERED_TEXTS = 16384
_texts: dict[Term, str] = {}
"""The N-Quads text of short IRIs and literals, remembered (a template's properties, types and
most of its values repeat in every document); emptied when full. Plain dict operations, safe
from any thread: at worst a text is written twice."""

Row = tuple[str, str, str, str | None]
"""A quad with each term written once: an IRI or a literal as its N-Quads text, a blank node as
its label (``_:…``; no written IRI or literal starts with ``_``), the graph ``None`` when it is
the default graph."""


def _canonical(quads: set[Quad]) -> str:
    """RDFC-1.0 when first-degree hashes tell every blank node apart; else the full algorithm.

    Every term is written once; a quad without blank nodes is then its final line, and a quad
    with some is written again for each hash (§4.6: the node hashed as ``_:a``, any other as
    ``_:z``) and once more with the canonical labels.
    """
    lines: list[str] = []
    rows: list[Row] = []
    mentions: dict[str, list[Row]] = {}
    get = _texts.get
    for s, p, o, g in quads:
        pt = get(p) or _term_text(p)
        s_blank, o_blank = s[0] == "B", o[0] == "B"
        g_blank = g is not None and g[0] == "B"
        st = s[1] if s_blank else (get(s) or _term_text(s))
        ot = o[1] if o_blank else (get(o) or _term_text(o))
        gt = None if g is None else g[1] if g_blank else (get(g) or _term_text(g))
        if not (s_blank or o_blank or g_blank):
            lines.append(f"{st} {pt} {ot} .\n" if gt is None else f"{st} {pt} {ot} {gt} .\n")
            continue
        row = (st, pt, ot, gt)
        rows.append(row)
        # once per mention (§4.4 step 2): a quad naming a node twice is hashed twice
        if s_blank:
            mentions.setdefault(st, []).append(row)
        if o_blank:
            mentions.setdefault(ot, []).append(row)
        if g_blank:
            mentions.setdefault(gt, []).append(row)  # type: ignore[arg-type]  # a blank graph's label
    hashes = {
        label: hashlib.sha256(
            "".join(sorted(_hash_line(row, label) for row in found)).encode("utf-8")
        ).hexdigest()
        for label, found in mentions.items()
    }
    if len(set(hashes.values())) != len(hashes):
        return _urdna2015(quads)
    ordered = sorted(hashes, key=hashes.__getitem__)
    labels = {label: f"_:c14n{i}" for i, label in enumerate(ordered)}
    for st, pt, ot, gt in rows:
        if st[0] == "_":
            st = labels[st]
        if ot[0] == "_":
            ot = labels[ot]
        if gt is None:
            lines.append(f"{st} {pt} {ot} .\n")
        else:
            lines.append(f"{st} {pt} {ot} {labels[gt] if gt[0] == '_' else gt} .\n")
    lines.sort()
    return "".join(lines)


def _hash_line(row: Row, own: str) -> str:
    """``row``'s line in the first-degree hash of the blank node ``own``."""
    st, pt, ot, gt = row
    if st[0] == "_":
        st = "_:a" if st == own else "_:z"
    if ot[0] == "_":
        ot = "_:a" if ot == own else "_:z"
    if gt is None:
        return f"{st} {pt} {ot} .\n"
    if gt[0] == "_":
        gt = "_:a" if gt == own else "_:z"
    return f"{st} {pt} {ot} {gt} .\n"


def _pyld_term(term: Term) -> dict[str, str]:
    if term[0] == "I":
        return {"type": "IRI", "value": term[1]}
    if term[0] == "B":
        return {"type": "blank node", "value": term[1]}
    return {"type": "literal", "value": term[1], "datatype": term[2]}  # type: ignore[misc]  # an "L" term has a datatype


def _urdna2015(quads: set[Quad]) -> str:
    dataset: dict[str, list[dict[str, Any]]] = {}
    for s, p, o, g in quads:
        dataset.setdefault("@default" if g is None else g[1], []).append(
            {"subject": _pyld_term(s), "predicate": _pyld_term(p), "object": _pyld_term(o)}
        )
    return canonical_nquads(dataset)


def canonicalize_fast(document: Mapping[str, Any]) -> str:
    """Canonical N-Quads of ``document``, or ``Unsupported`` when it needs the reference path.

    Errors the reference path would raise (dropped terms, unbundled contexts) propagate as
    ``JsonLdError`` from the template expansion.
    """
    return _canonical(quads_fast(document))


def quads_fast(document: Mapping[str, Any]) -> set[Quad]:
    """``document``'s RDF dataset (expansion and toRdf), as ``canonicalize_fast`` makes it
    before RDFC-1.0; it raises as ``canonicalize_fast`` does."""
    skeleton, template = _skeleton_and_template(document)
    quads = template.program().run(skeleton.values)
    rdfc_budget.checkpoint()
    return quads


def check_fast(document: Mapping[str, Any]) -> None:
    """What ``quads_fast`` checks, without making the dataset: it raises exactly when
    ``quads_fast`` raises (the JSON-LD check of a VC-JWT, whose signature covers its bytes)."""
    skeleton, template = _skeleton_and_template(document)
    template.program().check(skeleton.values)
    rdfc_budget.checkpoint()


def _by_url(contexts: Any) -> bool:
    """Whether an ``@context`` names its contexts by URL only. An inline context may define a
    prefix that turns a value this path copies as an IRI (``did:example:alice``) into another
    (``https://evil.example/example:alice``), or a keyword alias whose value has a scoped context
    of its own: such a document takes the reference path, anywhere in it."""
    if isinstance(contexts, list):
        return all(isinstance(context, str) for context in contexts)
    return isinstance(contexts, str)


def _skeleton_and_template(document: Mapping[str, Any]) -> tuple[_Skeleton, _Template]:
    if not _by_url(document.get("@context")):
        raise Unsupported("inline contexts")
    skeleton = _Skeleton()
    template = _template(skeleton.build(dict(document)))
    rdfc_budget.checkpoint()
    return skeleton, template
