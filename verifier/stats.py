"""Counters of what the verifier did that an operator should see (STYLE 21: fallbacks are visible).

The verifier stands alone, so it only counts; a service exports the counts (the issuer's
``/metrics`` endpoint writes ``snapshot()`` in the Prometheus text format). Counters are
process-wide, only ever go up, and are safe to update from any thread.

Names are stable: they follow Prometheus conventions (``_total`` for counters) so that an
exporter can use them as they are. ``COUNTERS`` lists each with its help text; ``snapshot()``
includes every one of them, zero until first counted.
"""

from __future__ import annotations

import threading

CANON_FAST = "verifier_canon_fast_total"
CANON_FALLBACK = "verifier_canon_fallback_total"
CANON_FAST_ERROR = "verifier_canon_fast_error_total"
CANON_FAST_DISAGREEMENT = "verifier_canon_fast_disagreement_total"
CANON_TOO_COMPLEX = "verifier_canon_too_complex_total"

COUNTERS: dict[str, str] = {
    CANON_FAST: "Documents canonicalised by the fast path (verifier.fastcanon).",
    CANON_FALLBACK: (
        "Documents the fast path handed to the reference path (PyLD): outside its subset "
        "(e.g. a CLR's graph containers) or an error."
    ),
    CANON_FAST_ERROR: (
        "Fallbacks because the fast path raised an error rather than declining; the reference "
        "path then decides."
    ),
    CANON_FAST_DISAGREEMENT: (
        "Fast-path errors on documents the reference path canonicalised: a fast-path bug "
        "(logged as a warning)."
    ),
    CANON_TOO_COMPLEX: (
        "Documents refused as too complex: over the size limits, the step budget or the "
        "CPU-time deadline of verifier.rdfc_budget."
    ),
}

_lock = threading.Lock()
_counts: dict[str, int] = dict.fromkeys(COUNTERS, 0)


def count(name: str, n: int = 1) -> None:
    """Add ``n`` to the counter ``name`` (created at zero if it is not in ``COUNTERS``)."""
    with _lock:
        _counts[name] = _counts.get(name, 0) + n


def snapshot() -> dict[str, int]:
    """Every counter's current value, the documented ones included when still zero."""
    with _lock:
        return dict(_counts)
