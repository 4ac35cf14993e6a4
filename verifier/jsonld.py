"""RDFC-1.0 canonicalisation of JSON-LD with bundled contexts only (VC Data Integrity §4).

``canonicalize`` takes the fast path (``verifier.fastcanon``) where it applies and the reference
path otherwise: expansion with every safety check (``verifier.expansion``), PyLD's toRdf, and
RDFC-1.0 (``verifier.rdfc``). Both give the same bytes. PyLD is used as a library and configured
through ``verifier.rdfc.Rdfc10``; importing this module changes nothing in PyLD.

Every canonicalisation runs within the limits of ``verifier.rdfc_budget`` (``TooComplex`` beyond
them): the document's size is checked before any JSON-LD processing, each phase ends at a
deadline checkpoint, and the reference path refuses a document whose toRdf node map would be
quadratic work. Each fallback from the fast path is counted (``verifier.stats``) and logged.

The expansion helpers this module used to define are re-exported from ``verifier.expansion``.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from pyld import jsonld

from verifier import rdfc_budget, stats
from verifier.errors import JsonLdError, NotInTerms
from verifier.expansion import (
    CONTEXTS_PACKAGE,
    PYLD_FAILURES,
    bundled_context_index,
    check_context_url,
    check_described_once,
    check_values,
    document_loader,
    expand,
    options,
    pyld_reason,
    python_reason,
)
from verifier.fastcanon import Unsupported, canonicalize_fast, check_fast
from verifier.rdfc import canonical_nquads

__all__ = [
    "CONTEXTS_PACKAGE",
    "PYLD_FAILURES",
    "bundled_context_index",
    "canonicalize",
    "canonicalize_memo",
    "canonicalize_reference",
    "check_context_url",
    "check_processing",
    "check_values",
    "clear_memo",
    "document_loader",
    "expand",
    "node_map_comparisons",
    "use_reference_canonicalizer",
]

log = logging.getLogger(__name__)
_use_reference = False


def use_reference_canonicalizer(enabled: bool = True) -> None:
    """Send every ``canonicalize`` call through the reference path (PyLD only)."""
    global _use_reference
    _use_reference = enabled


def canonicalize(
    document: Mapping[str, Any], *, measured: bool = False, terms_only: bool = True
) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document, with the bundled contexts only.

    Uses the fast path (``verifier.fastcanon``) where it applies and the reference path
    otherwise; both give the same bytes. Raises ``JsonLdError`` for an unbundled context or any
    data JSON-LD processing would drop, ``TooComplex`` for a document over the limits of
    ``verifier.rdfc_budget``. ``measured``: the caller has checked ``document``, or a document
    that holds it (a credential, for the credential without its proof), with
    ``rdfc_budget.check_document`` already, so its size is not measured again.

    ``terms_only`` (every credential, presentation, proof and list Laurel signs or verifies):
    ``NotInTerms`` for a document that writes what a term of its contexts says in other words
    (``verifier.expansion.check_spelling``). ``terms_only=False`` canonicalises any JSON-LD.
    """
    with rdfc_budget.one_canonicalisation():
        if not measured:
            rdfc_budget.check_document(document)
        if terms_only:
            check_described_once(document)
        if _use_reference:
            return _reference(document, terms_only)
        return _fast_or_reference(document, terms_only=terms_only)


def check_processing(
    document: Mapping[str, Any], *, measured: bool = False, terms_only: bool = True
) -> None:
    """What ``canonicalize`` checks, without the canonical form where the fast path applies:
    it raises ``JsonLdError`` for an unbundled context or data JSON-LD processing would drop,
    ``TooComplex`` over the limits; expansion and toRdf run, RDFC-1.0 (hashes, labels, sorting)
    does not. For a VC-JWT, whose signature covers its bytes, that is all the JSON-LD check
    needs. (A document whose blank nodes only the full RDFC-1.0 algorithm tells apart, and
    over its budget, is ``TooComplex`` for ``canonicalize`` only.)"""
    with rdfc_budget.one_canonicalisation():
        if not measured:
            rdfc_budget.check_document(document)
        if terms_only:
            check_described_once(document)
        if _use_reference:
            _reference(document, terms_only)
        else:
            _fast_or_reference(document, _processed, terms_only)


def _processed(document: Mapping[str, Any]) -> str:
    check_fast(document)
    return ""


MEMO_ENTRIES = 512
MEMO_MAX_CHARS = 4096
_memo: OrderedDict[str, str] = OrderedDict()
_memo_lock = threading.Lock()


def canonicalize_memo(document: Mapping[str, Any]) -> str:
    """``canonicalize(document)``, remembered for small documents made only of JSON values (a
    Data Integrity proof configuration repeats: same key, suite, purpose, context and, within a
    second, ``created``). The key is the document's JSON text, which tells every JSON value
    apart (``1``, ``1.0``, ``"1"`` and ``true`` alike), so a remembered answer is exactly the one
    ``canonicalize`` gives; anything else (a tuple, a subclass, a large document) is not
    remembered. Failures are not remembered either."""
    if not _plain(document):
        return canonicalize(document)
    key = json.dumps(document, ensure_ascii=False, allow_nan=False)
    if len(key) > MEMO_MAX_CHARS:
        return canonicalize(document)
    key = ("reference:" if _use_reference else "fast:") + key
    with _memo_lock:
        found = _memo.get(key)
        if found is not None:
            _memo.move_to_end(key)
            return found
    text = canonicalize(document)
    with _memo_lock:
        _memo[key] = text
        while len(_memo) > MEMO_ENTRIES:
            _memo.popitem(last=False)
    return text


def clear_memo() -> None:
    with _memo_lock:
        _memo.clear()


def _plain(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is made of exactly dict (string keys), list, str, int, float (finite),
    bool and None, and is shallow."""
    kind = type(value)
    if kind is dict:
        return depth < 8 and all(type(k) is str and _plain(v, depth + 1) for k, v in value.items())
    if kind is list:
        return depth < 8 and all(_plain(v, depth + 1) for v in value)
    if kind is float:
        return value == value and value not in (float("inf"), float("-inf"))
    return kind in (str, int, bool) or value is None


def _fast_or_reference(
    document: Mapping[str, Any],
    fast: Callable[[Mapping[str, Any]], str] | None = None,
    terms_only: bool = True,
) -> str:
    """The fast path's answer, or the reference path's where the fast path declines. The fast
    path expands its templates terms-only: its ``NotInTerms`` is the answer when ``terms_only``,
    and sends any other document to the reference path."""
    try:
        text = (fast or canonicalize_fast)(document)
    except Unsupported as exc:
        stats.count(stats.CANON_FALLBACK)
        log.info("fast canonicaliser declined (%s); using the reference path", exc)
        return _reference(document, terms_only)
    except NotInTerms:
        if terms_only:
            raise
        stats.count(stats.CANON_FALLBACK)
        return _reference(document, terms_only)
    except (JsonLdError, *PYLD_FAILURES) as exc:
        stats.count(stats.CANON_FALLBACK)
        stats.count(stats.CANON_FAST_ERROR)
        try:
            text = _reference(document, terms_only)
        except JsonLdError:
            log.info("fast canonicaliser failed (%r); the reference path fails too", exc)
            raise
        stats.count(stats.CANON_FAST_DISAGREEMENT)
        log.warning(
            "fast canonicaliser failed (%r) on a document the reference path canonicalised", exc
        )
        return text
    stats.count(stats.CANON_FAST)
    return text


def canonicalize_reference(document: Mapping[str, Any], *, terms_only: bool = True) -> str:
    """The reference path: PyLD expansion (with the safety checks), toRdf and RDFC-1.0.

    What PyLD's ``jsonld.normalize`` does with ``URDNA2015``, with ``verifier.rdfc.Rdfc10`` in
    place of PyLD's class, within the limits of ``verifier.rdfc_budget``.
    """
    with rdfc_budget.one_canonicalisation():
        rdfc_budget.check_document(document)
        if terms_only:
            check_described_once(document)
        return _reference(document, terms_only)


def _reference(document: Mapping[str, Any], terms_only: bool = True) -> str:
    expanded = expand(document, terms_only=terms_only)
    rdfc_budget.checkpoint()
    rdfc_budget.check_node_map(node_map_comparisons(expanded))
    try:
        dataset = jsonld.to_rdf(expanded, {**options(), "produceGeneralizedRdf": False})
        rdfc_budget.checkpoint()
        return canonical_nquads(dataset)
    except jsonld.JsonLdError as exc:
        raise JsonLdError(pyld_reason(exc)) from exc
    except PYLD_FAILURES as exc:
        raise JsonLdError(python_reason(exc)) from exc


def node_map_comparisons(expanded: list[Any]) -> int:
    """At most how many value comparisons PyLD's node map generation (JSON-LD 1.1 §7.2, the
    first step of toRdf) makes for ``expanded``. It adds each value, node reference and type of a
    node's property after a linear search of the distinct ones it holds, so n distinct values of
    one property cost n(n-1)/2. Nodes with the same ``@id`` in one graph are one node; list items
    are appended without a search."""
    held: dict[tuple[str, str, str], set[Any]] = {}
    comparisons = 0
    fresh = itertools.count()

    def add(graph: str, node: str, prop: str, value: Any) -> None:
        nonlocal comparisons
        values = held.setdefault((graph, node, prop), set())
        comparisons += len(values)
        values.add(value)

    # (item, graph, subject, property, in a list): what _create_node_map is called with.
    stack: list[tuple[Any, str, str | None, str, bool]] = [(expanded, "@default", None, "", False)]
    while stack:
        item, graph, subject, prop, in_list = stack.pop()
        if isinstance(item, list):
            stack.extend((child, graph, subject, prop, in_list) for child in item)
            continue
        if not isinstance(item, dict):
            continue
        if "@list" in item:
            stack.append((item["@list"], graph, subject, prop, True))
            continue
        ident = item.get("@id")
        node = ident if isinstance(ident, str) else f"_:anonymous{next(fresh)}"
        if subject is not None and not in_list:
            add(graph, subject, prop, _fingerprint(item, node))
        if "@value" in item:
            continue
        for key, value in item.items():
            if key == "@type":
                for kind in value if isinstance(value, list) else [value]:
                    add(graph, node, key, repr(kind))
            elif key == "@reverse" and isinstance(value, dict):
                for reverse_property, items in value.items():
                    for child in items if isinstance(items, list) else [items]:
                        # The reverse value is added to the child, which is its own node.
                        child_id = child.get("@id") if isinstance(child, dict) else None
                        target = child_id if isinstance(child_id, str) else f"_:r{next(fresh)}"
                        add(graph, target, reverse_property, node)
                        stack.append((child, graph, None, "", False))
            elif key == "@graph":
                stack.append((value, node, None, "", False))
            elif key == "@included":
                stack.append((value, graph, None, "", False))
            elif not key.startswith("@"):
                stack.append((value, graph, node, key, False))
    return comparisons


def _fingerprint(item: dict[str, Any], node: str) -> Any:
    """Equal for values PyLD may take as equal (and for some it does not: an over-estimate)."""
    if "@value" in item:
        return tuple(repr(item.get(key)) for key in ("@value", "@type", "@language", "@index"))
    return node
