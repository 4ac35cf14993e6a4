"""RDFC-1.0 canonicalisation of JSON-LD with bundled contexts only (VC Data Integrity §4).

``canonicalize`` takes the fast path (``verifier.fastcanon``) where it applies and the reference
path otherwise: expansion with every safety check (``verifier.expansion``), PyLD's toRdf, and
RDFC-1.0 (``verifier.rdfc``). Both give the same bytes. PyLD is used as a library and configured
through ``verifier.rdfc.Rdfc10``; importing this module changes nothing in PyLD.

The expansion helpers this module used to define are re-exported from ``verifier.expansion``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyld import jsonld

from verifier.errors import JsonLdError
from verifier.expansion import (
    CONTEXTS_PACKAGE,
    PYLD_FAILURES,
    bundled_context_index,
    check_context_url,
    check_values,
    document_loader,
    expand,
    options,
    pyld_reason,
    python_reason,
)
from verifier.fastcanon import Unsupported, canonicalize_fast
from verifier.rdfc import canonical_nquads

__all__ = [
    "CONTEXTS_PACKAGE",
    "PYLD_FAILURES",
    "bundled_context_index",
    "canonicalize",
    "canonicalize_reference",
    "check_context_url",
    "check_values",
    "document_loader",
    "expand",
    "use_reference_canonicalizer",
]

_use_reference = False


def use_reference_canonicalizer(enabled: bool = True) -> None:
    """Send every ``canonicalize`` call through the reference path (PyLD only)."""
    global _use_reference
    _use_reference = enabled


def canonicalize(document: Mapping[str, Any]) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document, with the bundled contexts only.

    Uses the fast path (``verifier.fastcanon``) where it applies and the reference path
    otherwise; both give the same bytes. Raises ``JsonLdError`` for an unbundled context or any
    data JSON-LD processing would drop.
    """
    if not _use_reference:
        try:
            return canonicalize_fast(document)
        except (Unsupported, JsonLdError, *PYLD_FAILURES):
            pass  # the reference path decides, and raises its own error if there is one
    return canonicalize_reference(document)


def canonicalize_reference(document: Mapping[str, Any]) -> str:
    """The reference path: PyLD expansion (with the safety checks), toRdf and RDFC-1.0.

    What PyLD's ``jsonld.normalize`` does with ``URDNA2015``, with ``verifier.rdfc.Rdfc10`` in
    place of PyLD's class.
    """
    expanded = expand(document)
    try:
        dataset = jsonld.to_rdf(expanded, {**options(), "produceGeneralizedRdf": False})
        return canonical_nquads(dataset)
    except jsonld.JsonLdError as exc:
        raise JsonLdError(pyld_reason(exc)) from exc
    except PYLD_FAILURES as exc:
        raise JsonLdError(python_reason(exc)) from exc
